import type { Capabilities, ConnectionDestroyedReason, DisconnectReason, SessionState, StreamDestroyedReason, StreamProperty } from '@convene/protocol';
import { ConveneEvent } from '../ConveneEvent.js';
import type { Connection } from './Connection.js';
import type { Stream } from './Stream.js';

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
  /** A stream published by another client appeared (also for each stream present at connect). */
  StreamCreated: 'streamCreated',
  /** A stream ended; cancelable: the default action destroys its subscribers. */
  StreamDestroyed: 'streamDestroyed',
  /** hasAudio, hasVideo, videoDimensions or videoType of a stream changed. */
  StreamPropertyChanged: 'streamPropertyChanged',
  /** A moderator turned force-mute on (`active` true) or off (false). */
  MuteForced: 'muteForced',
} as const;
export type SessionEvent = (typeof SessionEvent)[keyof typeof SessionEvent];

/** `sessionConnected`: the connections in the session (yourself included) and the streams published in it. */
export class SessionConnectEvent extends ConveneEvent {
  constructor(
    readonly connections: Connection[],
    readonly streams: Stream[] = [],
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

/**
 * `streamCreated` / `streamDestroyed` on a Session. `streamDestroyed` is cancelable: by default the
 * stream's subscribers are destroyed (removed from the page). `reason` is set on `streamDestroyed`.
 */
export class StreamEvent extends ConveneEvent {
  constructor(
    type: typeof SessionEvent.StreamCreated | typeof SessionEvent.StreamDestroyed,
    readonly stream: Stream,
    readonly reason?: StreamDestroyedReason,
  ) {
    super(type, type === SessionEvent.StreamDestroyed);
  }

  /** The reference's array form: the one stream. */
  get streams(): Stream[] {
    return [this.stream];
  }
}

/** `streamPropertyChanged`: one property of a stream changed (the Stream object already has the new value). */
export class StreamPropertyChangedEvent extends ConveneEvent {
  constructor(
    readonly stream: Stream,
    readonly changedProperty: StreamProperty,
    readonly oldValue: unknown,
    readonly newValue: unknown,
  ) {
    super(SessionEvent.StreamPropertyChanged, false);
  }
}

/** `muteForced` on a Session: force-mute turned on (`active` true, by forceMuteAll) or off (false). */
export class MuteForcedEvent extends ConveneEvent {
  constructor(readonly active: boolean) {
    super(SessionEvent.MuteForced, false);
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
  streamCreated: StreamEvent;
  streamDestroyed: StreamEvent;
  streamPropertyChanged: StreamPropertyChangedEvent;
  muteForced: MuteForcedEvent;
  [signalType: `signal:${string}`]: SignalEvent;
};
