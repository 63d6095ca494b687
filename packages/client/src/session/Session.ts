import {
  ErrorCode,
  ErrorName,
  validateSignal,
  type Capabilities,
  type ConnectionInfo,
  type DisconnectReason,
  type JoinedResult,
  type ResumedResult,
  type ServerEvent,
  type SessionState,
} from '@convene/protocol';
import { ConveneEvent } from '../ConveneEvent.js';
import { ConveneError, InvalidParameterError, NotConnectedError, PermissionDeniedError } from '../errors.js';
import { EventDispatcher } from '../EventDispatcher.js';
import { createLogger } from '../logger.js';
import { reportException } from '../ot/exceptions.js';
import { sdkOrigin } from '../origin.js';
import { SignalClient, type RequestBody } from '../transport/SignalClient.js';
import { signalingUrl, type SocketFactory } from '../transport/socket.js';
import { initAnyPublisher } from '../media/initPublisher.js';
import type { Publisher } from '../media/browser/Publisher.js';
import type { Completion, SubscriberProperties, TargetElement } from '../media/browser/types.js';
import type { NodeSubscriberProperties } from '../media/node/NodeSubscriber.js';
import type { IceConfig } from '../media/iceConfig.js';
import { Connection, kApply } from './Connection.js';
import { MEDIA_CONNECT_TIMEOUT_MS, SessionMedia, type AnyPublisher, type AnyPublisherProperties, type AnySubscriber } from './SessionMedia.js';
import type { Stream } from './Stream.js';
import {
  CapabilitiesChangedEvent,
  ConnectionEvent,
  ConnectionPropertyChangedEvent,
  MuteRequestedEvent,
  SessionConnectEvent,
  SessionDisconnectEvent,
  SessionEvent,
  SessionPropertyChangedEvent,
  SignalEvent,
  type SessionEvents,
} from './events.js';

/** SDK version reported to the server. */
export const SDK_VERSION = '0.1.0';

/** Completion handler: called with no argument on success, with the error otherwise. */
export type CompletionHandler = (error?: ConveneError) => void;

/** Options of `initSession()`. */
export interface SessionOptions {
  /** http(s) URL of the Convene server. Defaults, in a browser, to the origin the SDK was loaded from. */
  serverUrl?: string;
  /** Retry the connection at least this often while reconnecting, ms (at most 5000). */
  reconnectRetryMs?: number;
  /** `connect()` fails if the server has not answered within this many ms. */
  connectTimeoutMs?: number;
  /** Custom WebSocket factory (tests, unusual runtimes). */
  socketFactory?: SocketFactory;
  /** A publisher's or subscriber's peer connection must connect within this many ms (default 20000), else exception 1013. */
  mediaConnectTimeoutMs?: number;
}

/** Convene extras for `connect()`: the sessions guide's join parameters. */
export interface ConnectOptions {
  /** Display name (defaults to the token's `user_name`). */
  userName?: string;
  /** Session passcode: sets it when creating the session, required to join one that has it. */
  passcode?: string;
  /** Minutes the session may stay up with only its host in it. */
  idleTimeoutMins?: number;
}

/** The argument of `signal()`. Every property is optional. */
export interface SignalOptions {
  /** Signal type: at most 128 characters of A-Z a-z 0-9 - _ ~. */
  type?: string;
  /** Payload, at most 8 kB of UTF-8. */
  data?: string;
  /** Recipient: a Connection or any object with a `connectionId`; omitted = everyone. */
  to?: { connectionId: string } | null;
  /** Send signals made while reconnecting once reconnected (default true); false fails them at once. */
  retryAfterReconnect?: boolean;
}

/** Session connection state. */
export type SessionConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'disconnecting';

/** SDK-internal access for the lifecycle facade. */
export const kInternal = Symbol('internal');

/** What the lifecycle facade needs beyond the public Session API. */
export interface SessionInternals {
  request(body: RequestBody): Promise<unknown>;
  leave(end: boolean): Promise<void>;
  readonly state: SessionConnectionState;
  readonly sessionState: SessionState | undefined;
  connections(): Connection[];
}

const noop = (): void => {};

function isPublisher(x: unknown): x is AnyPublisher {
  return typeof x === 'object' && x !== null && typeof (x as Publisher)._streamSettings === 'function' && typeof (x as Publisher)._whenReady === 'function';
}

/**
 * A Convene session (the reference's Session): connect, signal, moderate, and
 * the events that tell who is in it.
 *
 * @example
 * const session = initSession(apiKey, 'standup', { serverUrl: 'https://video.example.com' });
 * session.on('signal:chat', (e) => console.log(e.from?.connectionId, e.data));
 * session.connect(token, (error) => {
 *   if (error) console.log(error.name, error.code, error.message);
 *   else session.signal({ type: 'chat', data: 'hello' });
 * });
 */
export class Session extends EventDispatcher<SessionEvents> {
  /** The session id (session name) given to `initSession()`. */
  readonly sessionId: string;
  /** The API key given to `initSession()`. */
  readonly apiKey: string;
  readonly #options: SessionOptions;
  readonly #log = createLogger('Session');

  #state: SessionConnectionState = 'disconnected';
  #transport: SignalClient | null = null;
  #connection: Connection | undefined;
  #capabilities: Capabilities | undefined;
  #connections = new Map<string, Connection>();
  #sessionState: SessionState | undefined;
  readonly #media: SessionMedia;

  /** Use `OT.initSession()` / `initSession()`. */
  constructor(apiKey: string, sessionId: string, options: SessionOptions = {}) {
    super('Session');
    if (typeof sessionId !== 'string' || sessionId.length === 0) throw new TypeError('initSession(): sessionId must be a non-empty string');
    this.apiKey = typeof apiKey === 'string' ? apiKey : String(apiKey ?? '');
    this.sessionId = sessionId;
    this.#options = { ...options };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.#media = new SessionMedia({
      session: this,
      request: (body) => self.#request(body),
      dispatch: (event) => self.dispatch(event),
      isConnected: () => self.#state === 'connected' || self.#state === 'reconnecting',
      selfId: () => self.#connection?.connectionId,
      connection: (id) => self.#connections.get(id),
      connectTimeoutMs: options.mediaConnectTimeoutMs ?? MEDIA_CONNECT_TIMEOUT_MS,
    });
  }

  /** This client's Connection; undefined until `connect()` has succeeded. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** What this client may do; undefined until `connect()` has succeeded. */
  get capabilities(): Capabilities | undefined {
    return this.#capabilities;
  }

  /** Connection state (Convene extra). */
  get connectionState(): SessionConnectionState {
    return this.#state;
  }

  /**
   * Connect to the session with a token. The completion handler gets no
   * argument on success and an error (`name`, `code`, `message`) on failure;
   * the returned promise settles the same way. Dispatches `connectionCreated`
   * for every connection already in the session and for this one, then
   * `sessionConnected`.
   *
   * @example
   * await session.connect(token);
   * @example
   * session.connect(token, { userName: 'Ada', passcode: 'x1' }, (err) => { ... });
   */
  connect(token: string, completionHandler?: CompletionHandler): Promise<void>;
  connect(token: string, options: ConnectOptions, completionHandler?: CompletionHandler): Promise<void>;
  connect(token: string, a?: ConnectOptions | CompletionHandler, b?: CompletionHandler): Promise<void> {
    const options: ConnectOptions = typeof a === 'object' && a !== null ? a : {};
    const cb = typeof a === 'function' ? a : b;
    return this.#settle(this.#connect(token, options), cb);
  }

  /**
   * Leave the session. Dispatches `sessionDisconnected` (reason `clientDisconnected`)
   * locally and `connectionDestroyed` on the others. The returned promise
   * (a Convene extra) resolves once the socket is closed.
   */
  disconnect(): Promise<void> {
    if (this.#state === 'disconnected' || this.#state === 'disconnecting') {
      this.#log.warn({ sessionId: this.sessionId }, 'disconnect() called while not connected');
      return Promise.resolve();
    }
    return this.#leave(false);
  }

  /**
   * Send a signal to everyone, or to one connection with `to`. Never throws:
   * invalid arguments (400), oversize type or data (413), a recipient not in
   * the session (404) and not being connected (500) reach the completion
   * handler and the returned promise. Signals from one client arrive in order.
   *
   * @example
   * session.signal({ type: 'chat', data: 'hi', to: someConnection }, (err) => err && console.log(err.code));
   */
  signal(signal?: SignalOptions, completionHandler?: CompletionHandler): Promise<void> {
    return this.#settle(this.#signal(signal ?? {}), completionHandler);
  }

  /**
   * Force a connection (a Connection or a connectionId) to leave. Fails with
   * `OT_PERMISSION_DENIED` (and an `exception` event with code 1530 on OT) when
   * this client's role does not allow it.
   */
  forceDisconnect(connection: { connectionId: string } | string, completionHandler?: CompletionHandler): Promise<void> {
    return this.#settle(this.#forceDisconnect(connection), completionHandler);
  }

  /**
   * End the session for everyone (host only; Convene extra). Rejects with
   * `OT_PERMISSION_DENIED` without leaving when this client is not the host.
   */
  endSession(): Promise<void> {
    if (this.#state !== 'connected' && this.#state !== 'reconnecting') return this.#settle(Promise.reject(new NotConnectedError()), noop);
    if (!this.#capabilities?.canEndSession) {
      return this.#settle(Promise.reject(new PermissionDeniedError('Only the host can end the session')), noop);
    }
    return this.#leave(true);
  }

  // ------------------------------------------------------------------ media

  /**
   * Start publishing a Publisher from `OT.initPublisher()`; or, in the alternate form, create one
   * from a target element and properties and publish it. Returns the Publisher. The completion
   * handler gets no argument once the stream is created and its media connected, or an error:
   * `OT_NOT_CONNECTED`, `OT_PERMISSION_DENIED` (code 1500, also an OT `exception`; e.g. a
   * subscriber token, or screen sharing locked to the host), a capture error from initPublisher,
   * `OT_CONNECT_FAILED` (code 1013, also an OT `exception`) when the media connection fails.
   * Everyone else gets `streamCreated`; this Publisher dispatches its own `streamCreated`.
   *
   * @example
   * const publisher = OT.initPublisher('publisher', { name: "Bob's stream" });
   * session.publish(publisher, (error) => error && console.log(error.name));
   * @example
   * const publisher = session.publish('publisher', { videoSource: 'screen' }, (error) => { ... });
   */
  publish<P extends AnyPublisher>(publisher: P, completionHandler?: Completion | null): P;
  publish<P extends AnyPublisher>(publisher: P, properties: unknown, completionHandler?: Completion | null): P;
  publish(target?: TargetElement, properties?: AnyPublisherProperties | null, completionHandler?: Completion | null): AnyPublisher;
  publish(a?: unknown, b?: unknown, c?: unknown): AnyPublisher {
    const cb = (typeof b === 'function' ? b : typeof c === 'function' ? c : undefined) as Completion | undefined;
    let publisher: AnyPublisher;
    if (isPublisher(a)) {
      publisher = a;
    } else {
      const props = (typeof b === 'object' && b !== null ? b : {}) as AnyPublisherProperties;
      publisher = initAnyPublisher(a as TargetElement, props);
    }
    void this.#settle(this.#media.publish(publisher), cb ?? undefined);
    return publisher;
  }

  /**
   * Stop publishing: the stream ends for everyone (`streamDestroyed`), and the Publisher
   * dispatches `streamDestroyed` (reason `unpublished`) and, unless prevented, is removed.
   */
  unpublish(publisher: AnyPublisher): void {
    this.#media.unpublish(publisher);
  }

  /**
   * Subscribe to a stream; returns the Subscriber at once (its video goes where `targetElement`
   * says). The completion handler gets no argument once media plays, or an error
   * (`OT_NOT_FOUND`, `OT_PERMISSION_DENIED`, `OT_CONNECT_FAILED` 1013). Throws when the session
   * is not connected or the stream or target is invalid, as in the reference.
   *
   * @example
   * session.on('streamCreated', (event) => session.subscribe(event.stream, 'subscribers', { insertMode: 'append' }));
   */
  subscribe(stream: Stream | { streamId: string }, targetElement?: TargetElement, properties?: (SubscriberProperties & NodeSubscriberProperties) | null, completionHandler?: Completion | null): AnySubscriber;
  subscribe(stream: Stream | { streamId: string }, targetElement: TargetElement, completionHandler: Completion): AnySubscriber;
  subscribe(stream: Stream | { streamId: string }, targetElement?: TargetElement, properties?: unknown, completionHandler?: unknown): AnySubscriber {
    const cb = (typeof properties === 'function' ? properties : typeof completionHandler === 'function' ? completionHandler : undefined) as Completion | undefined;
    const props = (typeof properties === 'object' && properties !== null ? properties : {}) as SubscriberProperties & NodeSubscriberProperties;
    return this.#media.subscribe(stream, targetElement, props, (err) => {
      if (!cb) {
        if (err) this.#log.warn({ err, streamId: stream.streamId }, 'subscribe failed');
        return;
      }
      try {
        if (err) cb(err);
        else cb();
      } catch (e) {
        this.#log.error({ err: e }, 'a completion handler threw');
      }
    });
  }

  /** Stop a subscription and remove its Subscriber from the page. */
  unsubscribe(subscriber: AnySubscriber): void {
    this.#media.unsubscribe(subscriber);
  }

  /** The local Publisher of a stream, or null. */
  getPublisherForStream(stream: Stream | { streamId: string }): AnyPublisher | null {
    return this.#media.getPublisherForStream(stream);
  }

  /** The local Subscribers of a stream. */
  getSubscribersForStream(stream: Stream | { streamId: string }): AnySubscriber[] {
    return this.#media.getSubscribersForStream(stream);
  }

  /** Streams in the session, this client's included (Convene extra). */
  get streams(): Stream[] {
    return this.#media.streams();
  }

  /**
   * Force the publisher of a stream to stop: `streamDestroyed` with reason `forceUnpublished` on
   * every client, the publisher's included. `OT_PERMISSION_DENIED` (and an OT `exception`) unless
   * this client is a moderator or the host.
   */
  /**
   * Set the ICE configuration of every peer connection of this session, replacing any earlier one:
   * `includeServers` `'all'` (the server's STUN/TURN servers plus `customServers`) or `'custom'` (only
   * `customServers`), `transportPolicy` `'all'` or `'relay'` (TURN only). New connections use it;
   * existing subscribers move to a new connection that uses it. Throws a TypeError on an invalid config.
   *
   * @example
   * session.setIceConfig({
   *   includeServers: 'custom',
   *   transportPolicy: 'relay',
   *   customServers: [{ urls: 'turn:turn.example.com:3478?transport=tcp', username: 'u', credential: 'p' }],
   * });
   */
  setIceConfig(newIceConfig: IceConfig): void {
    this.#media.setIceConfig(newIceConfig);
  }

  forceUnpublish(stream: Stream | { streamId: string }, completionHandler?: CompletionHandler): Promise<void> {
    return this.#settle(this.#media.forceUnpublish(stream), completionHandler);
  }

  /**
   * Mute a stream's audio: its Publisher dispatches `muteForced` and stops sending audio.
   * Rejects with `OT_NOT_CONNECTED`, `OT_INVALID_PARAMETER`, `OT_PERMISSION_DENIED`, `OT_NOT_FOUND`
   * or `OT_UNEXPECTED_SERVER_RESPONSE`.
   */
  forceMuteStream(stream: Stream | { streamId: string }): Promise<void> {
    return this.#settle(this.#media.forceMuteStream(stream), undefined);
  }

  /**
   * Mute every stream except `excludedStreams` (the caller's own streams too, unless excluded),
   * and make streams published from now on start muted. Publishers dispatch `muteForced`; every
   * Session dispatches `muteForced` with `active: true`.
   */
  forceMuteAll(excludedStreams?: (Stream | { streamId: string })[]): Promise<void> {
    return this.#settle(this.#media.forceMuteAll(excludedStreams), undefined);
  }

  /** End the force-mute state: new streams publish audio again; every Session dispatches `muteForced` with `active: false`. */
  disableForceMute(): Promise<void> {
    return this.#settle(this.#media.disableForceMute(), undefined);
  }

  /** SDK-internal hooks for the lifecycle facade. */
  get [kInternal](): SessionInternals {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      request: (body) => self.#request(body),
      leave: (end) => self.#leave(end),
      get state() {
        return self.#state;
      },
      get sessionState() {
        return self.#sessionState ? { ...self.#sessionState } : undefined;
      },
      connections: () => [...self.#connections.values()],
    };
  }

  // ------------------------------------------------------------------ operations

  async #connect(token: string, options: ConnectOptions): Promise<void> {
    if (this.#state !== 'disconnected') {
      throw new ConveneError(ErrorName.AlreadyConnected, ErrorCode.ConnectFailed, `connect() called while ${this.#state}`);
    }
    if (typeof token !== 'string' || token.length === 0) throw new InvalidParameterError('connect(): token must be a non-empty string');
    const serverUrl = this.#options.serverUrl ?? sdkOrigin;
    if (!serverUrl) throw new InvalidParameterError('No serverUrl: pass { serverUrl } to initSession()');
    let url: string;
    try {
      url = signalingUrl(serverUrl);
    } catch (err) {
      throw new InvalidParameterError((err as Error).message);
    }
    const transport = new SignalClient({
      url,
      socketFactory: this.#options.socketFactory,
      reconnectRetryMs: this.#options.reconnectRetryMs,
      connectTimeoutMs: this.#options.connectTimeoutMs,
    });
    this.#transport = transport;
    this.#state = 'connecting';
    transport.on('joined', (r) => this.#onJoined(transport, r));
    transport.on('event', (m) => this.#onServerEvent(transport, m));
    transport.on('reconnecting', () => this.#onReconnecting(transport));
    transport.on('reconnected', (r) => this.#onReconnected(transport, r));
    transport.on('closed', ({ reason }) => this.#onClosed(transport, reason));
    try {
      await transport.connect({
        sessionId: this.sessionId,
        token,
        apiKey: this.apiKey || undefined,
        passcode: options.passcode,
        userName: options.userName,
        idleTimeoutMins: options.idleTimeoutMins,
        sdk: `convene-js/${SDK_VERSION}`,
      });
    } catch (err) {
      if (this.#transport === transport) {
        this.#transport = null;
        this.#state = 'disconnected';
      }
      transport.close();
      const e = err instanceof ConveneError ? err : new ConveneError(ErrorName.ConnectFailed, ErrorCode.ConnectFailed, String(err), { cause: err });
      reportException(e.code, e.message, 'Connect Failed', this);
      throw e;
    }
  }

  async #signal(signal: SignalOptions): Promise<void> {
    const notConnected = (why: string): ConveneError => new ConveneError(ErrorName.NotConnected, ErrorCode.SignalNotConnected, why);
    if (this.#state !== 'connected' && this.#state !== 'reconnecting') throw notConnected('Not connected to the session');
    if (typeof signal !== 'object' || signal === null) throw new InvalidParameterError('signal(): the signal must be an object', ErrorCode.SignalInvalid);
    const invalid = validateSignal(signal.type, signal.data);
    if (invalid) throw new ConveneError(invalid.name, invalid.code, invalid.message);
    let to: string | undefined;
    if (signal.to !== undefined && signal.to !== null) {
      const id = (signal.to as { connectionId?: unknown }).connectionId;
      if (typeof signal.to !== 'object' || typeof id !== 'string' || id.length === 0) {
        throw new InvalidParameterError('signal(): `to` must be a Connection or an object with a connectionId', ErrorCode.SignalInvalid);
      }
      to = id;
    }
    if (signal.retryAfterReconnect !== undefined && typeof signal.retryAfterReconnect !== 'boolean') {
      throw new InvalidParameterError('signal(): retryAfterReconnect must be a boolean', ErrorCode.SignalInvalid);
    }
    const retry = signal.retryAfterReconnect !== false;
    const transport = this.#transport;
    if (!transport) throw notConnected('Not connected to the session');
    try {
      await transport.request({ type: 'signal', to, signalType: signal.type, data: signal.data }, { queueWhileReconnecting: retry });
    } catch (err) {
      if (err instanceof NotConnectedError) throw notConnected(err.message);
      throw err;
    }
  }

  async #forceDisconnect(connection: { connectionId: string } | string): Promise<void> {
    const id = typeof connection === 'string' ? connection : (connection as { connectionId?: unknown } | null)?.connectionId;
    if (typeof id !== 'string' || id.length === 0) throw new InvalidParameterError('forceDisconnect(): pass a Connection or a connectionId');
    try {
      await this.#request({ type: 'forceDisconnect', connectionId: id });
    } catch (err) {
      if (err instanceof ConveneError && err.name === ErrorName.PermissionDenied) {
        reportException(ErrorCode.ForceDisconnectDenied, err.message, 'Force Disconnect Denied', this);
      }
      throw err;
    }
  }

  #request(body: RequestBody): Promise<unknown> {
    if ((this.#state !== 'connected' && this.#state !== 'reconnecting') || !this.#transport) return Promise.reject(new NotConnectedError());
    return this.#transport.request(body);
  }

  async #leave(end: boolean): Promise<void> {
    const transport = this.#transport;
    const wasConnected = this.#state === 'connected' || this.#state === 'reconnecting';
    this.#state = 'disconnecting';
    if (transport) await transport.disconnect({ type: 'leave', end: end || undefined });
    if (this.#transport !== transport) return;
    this.#transport = null;
    this.#finish(wasConnected ? (end ? 'sessionEnded' : 'clientDisconnected') : null);
  }

  // ------------------------------------------------------------------ transport events

  #onJoined(transport: SignalClient, r: JoinedResult): void {
    if (this.#transport !== transport) return;
    this.#state = 'connected';
    this.#sessionState = r.session;
    this.#capabilities = r.capabilities;
    this.#connections.clear();
    const others = r.connections.map((c) => new Connection(c));
    for (const c of others) this.#connections.set(c.connectionId, c);
    const self = new Connection(r.connection);
    this.#connection = self;
    this.#connections.set(self.connectionId, self);
    this.#media.setIceServers(r.iceServers);
    this.#media.setMediaMode(r.mediaMode, r.simulcast === true);
    const streams = this.#media.onJoined(r.streams);
    for (const c of others) this.dispatch(new ConnectionEvent(SessionEvent.ConnectionCreated, c));
    this.dispatch(new ConnectionEvent(SessionEvent.ConnectionCreated, self));
    this.dispatch(new SessionConnectEvent([...others, self], streams));
    this.#media.announce(streams);
  }

  #onServerEvent(transport: SignalClient, m: ServerEvent): void {
    if (this.#transport !== transport) return;
    switch (m.type) {
      case 'connectionCreated':
        for (const info of m.connections) this.#addConnection(info);
        break;
      case 'connectionDestroyed':
        for (const { connectionId, reason } of m.connections) {
          const c = this.#connections.get(connectionId);
          if (!c || c === this.#connection) continue;
          this.#connections.delete(connectionId);
          this.dispatch(new ConnectionEvent(SessionEvent.ConnectionDestroyed, c, reason));
        }
        break;
      case 'connectionUpdated': {
        const c = this.#connections.get(m.connection.connectionId);
        if (!c) {
          this.#addConnection(m.connection);
          break;
        }
        for (const ch of c[kApply](m.connection)) {
          this.dispatch(new ConnectionPropertyChangedEvent(c, ch.property, ch.oldValue, ch.newValue, m.by));
        }
        break;
      }
      case 'capabilities':
        this.#capabilities = m.capabilities;
        this.dispatch(new CapabilitiesChangedEvent(m.capabilities));
        break;
      case 'sessionUpdated': {
        const old = this.#sessionState;
        this.#sessionState = m.session;
        for (const key of m.changed) {
          this.dispatch(new SessionPropertyChangedEvent(key, old?.[key], m.session[key], m.by));
        }
        break;
      }
      case 'signal': {
        const from = m.from === null ? null : (this.#connections.get(m.from) ?? null);
        const event = new SignalEvent(m.signalType ?? '', m.data ?? '', from);
        if (event.type !== SessionEvent.Signal) this.dispatch(event, event.type);
        this.dispatch(event, SessionEvent.Signal);
        break;
      }
      case 'muteRequest':
        this.dispatch(new MuteRequestedEvent(m.action, m.by));
        break;
      case 'disconnected':
        // The transport follows with `closed`, which ends the session.
        break;
      default:
        if (!this.#media.onEvent(m)) this.#log.debug({ type: (m as { type: string }).type }, 'ignoring an unknown server event');
    }
  }

  #addConnection(info: ConnectionInfo): void {
    const known = this.#connections.get(info.connectionId);
    if (known) {
      // Already announced (ourselves, or a repeat): only refresh.
      known[kApply](info);
      return;
    }
    const c = new Connection(info);
    this.#connections.set(c.connectionId, c);
    this.dispatch(new ConnectionEvent(SessionEvent.ConnectionCreated, c));
  }

  #onReconnecting(transport: SignalClient): void {
    if (this.#transport !== transport || this.#state !== 'connected') return;
    this.#state = 'reconnecting';
    this.dispatch(new ConveneEvent(SessionEvent.SessionReconnecting, false));
  }

  #onReconnected(transport: SignalClient, r: ResumedResult): void {
    if (this.#transport !== transport || this.#state !== 'reconnecting') return;
    this.#state = 'connected';
    if (r.capabilities) this.#capabilities = r.capabilities;
    if (r.iceServers) this.#media.setIceServers(r.iceServers);
    this.dispatch(new ConveneEvent(SessionEvent.SessionReconnected, false));
  }

  #onClosed(transport: SignalClient, reason: DisconnectReason): void {
    if (this.#transport !== transport) return;
    this.#transport = null;
    this.#finish(reason);
  }

  /** Back to disconnected; dispatch `sessionDisconnected` when there was a session to leave. */
  #finish(reason: DisconnectReason | null): void {
    this.#state = 'disconnected';
    this.#connections.clear();
    this.#capabilities = undefined;
    this.#sessionState = undefined;
    if (!reason) {
      this.#media.onDisconnected('clientDisconnected', false);
      return;
    }
    const event = new SessionDisconnectEvent(reason);
    this.dispatch(event);
    // Default action: subscribers are removed from the page; publishers end their streams either way.
    this.#media.onDisconnected(reason === 'idleTimeout' ? 'sessionEnded' : reason, event.isDefaultPrevented());
  }

  /** Run an operation for the callback-and-promise API: never throws, never leaves an unhandled rejection. */
  #settle(work: Promise<void>, cb: CompletionHandler | undefined): Promise<void> {
    const call = (err?: ConveneError): void => {
      if (typeof cb !== 'function') return;
      try {
        if (err) cb(err);
        else cb();
      } catch (e) {
        this.#log.error({ err: e }, 'a completion handler threw');
      }
    };
    const out = work.then(
      () => call(),
      (err: unknown) => {
        const e = err instanceof ConveneError ? err : new ConveneError(ErrorName.UnexpectedServerResponse, ErrorCode.InternalError, String(err), { cause: err });
        call(e);
        throw e;
      },
    );
    // Callers may use the completion handler or events instead of the promise.
    out.catch(noop);
    return out;
  }

}
