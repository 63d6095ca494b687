import type { Capabilities, ConnectionDestroyedReason, DisconnectReason, SessionState } from '@convene/protocol';
import { ConveneEvent } from '../ConveneEvent.js';
import type { Connection } from './Connection.js';

/** Names of the events a Session dispatches. `signal:<type>` is dispatched as well as `signal`. */
export const SessionEvent = {
  SessionConnected: 'sessionConnected',
  SessionDisconnected: 'sessionDisconnected',
  SessionReconnecting: 'sessionReconnecting',
  SessionReconnected: 'sessionReconnected',
  ConnectionCreated: 'connectionCreated',
  ConnectionDestroyed: 'connectionDestroyed',
  /** A connection's display name, host or manager standing changed (Convene extra). */
  ConnectionPropertyChanged: 'connectionPropertyChanged',
  /** Session-wide state changed, e.g. `shareLocked` (Convene extra). */
  SessionPropertyChanged: 'sessionPropertyChanged',
  /** This connection's capabilities changed, e.g. after being made manager (Convene extra). */
  CapabilitiesChanged: 'capabilitiesChanged',
  /** A host or manager asked this client to mute or unmute its audio (Convene extra). */
  MuteRequested: 'muteRequested',
  Signal: 'signal',
} as const;
export type SessionEvent = (typeof SessionEvent)[keyof typeof SessionEvent];

/** `sessionConnected`: the connections in the session (yourself included) and its streams (none yet). */
export class SessionConnectEvent extends ConveneEvent {
  constructor(
    readonly connections: Connection[],
    readonly streams: unknown[] = [],
  ) {
    super(SessionEvent.SessionConnected, false);
  }
}

/** `sessionDisconnected`, with why. Cancelable (the reference's default action cleans up subscribers). */
export class SessionDisconnectEvent extends ConveneEvent {
  constructor(readonly reason: DisconnectReason) {
    super(SessionEvent.SessionDisconnected, true);
  }
}

/** `connectionCreated` / `connectionDestroyed`. `reason` is set on `connectionDestroyed`. */
export class ConnectionEvent extends ConveneEvent {
  constructor(
    type: typeof SessionEvent.ConnectionCreated | typeof SessionEvent.ConnectionDestroyed,
    readonly connection: Connection,
    readonly reason?: ConnectionDestroyedReason,
  ) {
    super(type, false);
  }
}

/** `connectionPropertyChanged`: one event per changed property. */
export class ConnectionPropertyChangedEvent extends ConveneEvent {
  constructor(
    readonly connection: Connection,
    readonly changedProperty: 'userName' | 'isHost' | 'isManager',
    readonly oldValue: unknown,
    readonly newValue: unknown,
    /** connectionId of who made the change, if anyone. */
    readonly by?: string,
  ) {
    super(SessionEvent.ConnectionPropertyChanged, false);
  }
}

/** `sessionPropertyChanged`: one event per changed property of the session state. */
export class SessionPropertyChangedEvent extends ConveneEvent {
  constructor(
    readonly changedProperty: keyof SessionState,
    readonly oldValue: unknown,
    readonly newValue: unknown,
    readonly by?: string,
  ) {
    super(SessionEvent.SessionPropertyChanged, false);
  }
}

/** `capabilitiesChanged`. */
export class CapabilitiesChangedEvent extends ConveneEvent {
  constructor(readonly capabilities: Capabilities) {
    super(SessionEvent.CapabilitiesChanged, false);
  }
}

/** `muteRequested`. */
export class MuteRequestedEvent extends ConveneEvent {
  constructor(
    readonly action: 'muteAudio' | 'requestUnmute',
    readonly by: string,
  ) {
    super(SessionEvent.MuteRequested, false);
  }
}

/**
 * `signal` / `signal:<type>`. As in OpenTok.js, `type` is the event name
 * (`signal:chat`, or `signal` for an untyped signal); `signalType` is the bare type.
 */
export class SignalEvent extends ConveneEvent {
  constructor(
    readonly signalType: string,
    readonly data: string,
    /** The sender, or null for a signal sent by the server (REST API). */
    readonly from: Connection | null,
  ) {
    super(signalType ? `signal:${signalType}` : SessionEvent.Signal, false);
  }
}

/** Event objects by event name. */
export type SessionEvents = {
  sessionConnected: SessionConnectEvent;
  sessionDisconnected: SessionDisconnectEvent;
  sessionReconnecting: ConveneEvent;
  sessionReconnected: ConveneEvent;
  connectionCreated: ConnectionEvent;
  connectionDestroyed: ConnectionEvent;
  connectionPropertyChanged: ConnectionPropertyChangedEvent;
  sessionPropertyChanged: SessionPropertyChangedEvent;
  capabilitiesChanged: CapabilitiesChangedEvent;
  muteRequested: MuteRequestedEvent;
  signal: SignalEvent;
  [signalType: `signal:${string}`]: SignalEvent;
};
