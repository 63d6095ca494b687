import { TypedEmitter, validatePasscode, type DisconnectReason, type ModerationAction, type SessionState } from '@convene/protocol';
import { InvalidParameterError, InvalidStateError, NotConnectedError } from '../errors.js';
import { createLogger } from '../logger.js';
import { sdkOrigin } from '../origin.js';
import type { Connection } from '../session/Connection.js';
import type { ConnectionEvent, ConnectionPropertyChangedEvent, MuteRequestedEvent, SessionDisconnectEvent, SessionPropertyChangedEvent } from '../session/events.js';
import type { AnyPublisher } from '../session/SessionMedia.js';
import { kInternal, Session, type SessionOptions } from '../session/Session.js';
import { signalingUrl, type SocketFactory } from '../transport/socket.js';
import type { ConnectionChange, Participant, ParticipantUpdate, VideoClientEvents } from './events.js';

/** Options of `init()`. */
export interface InitOptions {
  /** http(s) URL of the Convene server. Defaults, in a browser, to the origin the SDK was loaded from. */
  serverUrl?: string;
  /** API key sent with joins (optional: the token names it). */
  apiKey?: string;
  /** Retry at least this often while reconnecting, ms (at most 5000). */
  reconnectRetryMs?: number;
  /** A join fails if the server has not answered within this many ms. */
  connectTimeoutMs?: number;
  /** Custom WebSocket factory (tests, unusual runtimes). */
  socketFactory?: SocketFactory;
}

/** Extra join parameters. */
export interface JoinOptions {
  /** Minutes the session may stay up with only its host in it (default 40). */
  idleTimeoutMins?: number;
}

/** What `getSessionInfo()` returns. */
export interface SessionInfo {
  /** Topic as given to `join()`. */
  topic: string;
  /** Canonical (lower-case) session name. */
  sessionId: string;
  /** This user's id (connectionId). */
  userId: string;
  userName: string;
  isInMeeting: boolean;
  /** userId of the host, or null. */
  hostId: string | null;
  hasPasscode: boolean;
  shareLocked: boolean;
}

type ClientState = 'uninitialized' | 'initializing' | 'initialized' | 'joining' | 'joined' | 'leaving' | 'destroyed';

const toParticipant = (c: Connection): Participant => ({
  userId: c.connectionId,
  displayName: c.userName,
  isHost: c.isHost,
  isManager: c.isManager,
  role: c.role,
  userIdentity: c.userIdentity,
  connectionData: c.data,
  joinedAt: c.creationTime,
});

const closedReason = (r: DisconnectReason): ConnectionChange =>
  r === 'networkDisconnected' ? { state: 'Fail', reason: r } : { state: 'Closed', reason: r === 'forceDisconnected' ? 'kicked' : r };

/**
 * The sessions-guide lifecycle over the Session core: `init` → `join` →
 * users, roles, moderation → `leave`. Methods return promises that reject
 * (never throw) on failure.
 *
 * @example
 * const client = createClient();
 * await client.init('en-US', 'Global', { serverUrl: 'http://localhost:7880' });
 * client.on('user-added', (users) => console.log(users.map((u) => u.displayName)));
 * await client.join('standup', token, 'Ada', 'passcode');
 * await client.leave(); // or client.leave(true) as host to end it for everyone
 */
export class VideoClient {
  readonly #events = new TypedEmitter<VideoClientEvents>();
  readonly #log = createLogger('VideoClient');
  #state: ClientState = 'uninitialized';
  #options: InitOptions = {};
  #session: Session | null = null;
  #topic = '';

  constructor() {
    this.#events.onListenerError = (err, event) => this.#log.error({ err, event: String(event) }, 'a client event listener threw');
  }

  /**
   * Initialise the SDK. Must resolve before `join()`. `language` and `region`
   * are accepted for compatibility and kept for future use.
   */
  init(language?: string, region?: string, options: InitOptions = {}): Promise<void> {
    if (this.#state === 'destroyed') return Promise.reject(new InvalidStateError('This client was destroyed; create a new one'));
    if (this.#state === 'joining' || this.#state === 'joined' || this.#state === 'leaving') {
      return Promise.reject(new InvalidStateError('init() cannot be called while in a session'));
    }
    void language;
    void region;
    const serverUrl = options.serverUrl ?? sdkOrigin;
    if (!serverUrl) {
      return Promise.reject(new InvalidParameterError('init(): no serverUrl given and the SDK was not loaded from a server'));
    }
    try {
      signalingUrl(serverUrl);
    } catch (err) {
      return Promise.reject(new InvalidParameterError((err as Error).message));
    }
    this.#options = { ...options, serverUrl };
    this.#state = 'initialized';
    return Promise.resolve();
  }

  /**
   * Join (or start) a session. `topic` must match the token's `tpc`; `passcode`
   * sets the passcode when starting a session and is required to join one that
   * has it. A failed join may be retried on the same client.
   */
  async join(topic: string, token: string, userName?: string, passcode?: string, options: JoinOptions = {}): Promise<void> {
    if (this.#state === 'uninitialized' || this.#state === 'initializing') {
      throw new InvalidStateError('join() called before init() resolved: await client.init(...) first');
    }
    if (this.#state === 'destroyed') throw new InvalidStateError('This client was destroyed; create a new one');
    if (this.#state !== 'initialized') throw new InvalidStateError(`join() called while ${this.#state}`);
    if (typeof topic !== 'string' || topic.length === 0) throw new InvalidParameterError('join(): topic must be a non-empty string');
    if (passcode !== undefined && passcode !== null && passcode !== '') {
      const bad = validatePasscode(passcode);
      if (bad) throw new InvalidParameterError(`join(): ${bad}`);
    }
    this.#state = 'joining';
    const sessionOptions: SessionOptions = {
      serverUrl: this.#options.serverUrl,
      reconnectRetryMs: this.#options.reconnectRetryMs,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      socketFactory: this.#options.socketFactory,
    };
    const session = new Session(this.#options.apiKey ?? '', topic, sessionOptions);
    this.#session = session;
    this.#topic = topic;
    this.#wire(session);
    try {
      await session.connect(token, {
        userName: userName ?? undefined,
        passcode: passcode || undefined,
        idleTimeoutMins: options.idleTimeoutMins,
      });
    } catch (err) {
      session.off();
      if (this.#session === session) {
        this.#session = null;
        if (this.#state === 'joining') this.#state = 'initialized';
      }
      throw err;
    }
    if (this.#session !== session) throw new NotConnectedError('Left while joining');
    this.#state = 'joined';
    this.#emit('connection-change', { state: 'Connected' });
  }

  /**
   * Leave the session; `leave(true)` ends it for everyone when you are the
   * host (anyone else just leaves).
   */
  async leave(end = false): Promise<void> {
    const session = this.#session;
    if (!session || (this.#state !== 'joined' && this.#state !== 'joining')) throw new InvalidStateError('leave() called while not in a session');
    this.#state = 'leaving';
    if (end && session.capabilities?.canEndSession) await session.endSession();
    else await session.disconnect();
  }

  /** Everyone in the session, yourself included. */
  getAllUser(): Participant[] {
    const s = this.#session;
    if (!s) return [];
    return s[kInternal]
      .connections()
      .sort((a, b) => a.creationTime - b.creationTime)
      .map(toParticipant);
  }

  /** One user by id, if in the session. */
  getUser(userId: string): Participant | undefined {
    const c = this.#session?.[kInternal].connections().find((x) => x.connectionId === userId);
    return c ? toParticipant(c) : undefined;
  }

  /** This user, once joined. */
  getCurrentUserInfo(): Participant | undefined {
    const c = this.#session?.connection;
    return c && this.#state === 'joined' ? toParticipant(c) : undefined;
  }

  /** Whether this user is the host. */
  isHost(): boolean {
    return this.getCurrentUserInfo()?.isHost ?? false;
  }

  /** Whether this user is a manager. */
  isManager(): boolean {
    return this.getCurrentUserInfo()?.isManager ?? false;
  }

  /** Session details (topic, ids, host, passcode set, share lock). */
  getSessionInfo(): SessionInfo {
    const s = this.#session;
    const st: SessionState | undefined = s?.[kInternal].sessionState;
    const me = s?.connection;
    return {
      topic: this.#topic,
      sessionId: st?.sessionId ?? this.#topic.toLowerCase(),
      userId: me?.connectionId ?? '',
      userName: me?.userName ?? '',
      isInMeeting: this.#state === 'joined',
      hostId: st?.hostId ?? null,
      hasPasscode: st?.hasPasscode ?? false,
      shareLocked: st?.shareLocked ?? false,
    };
  }

  /** Transfer the host role (host only). */
  makeHost(userId: string): Promise<void> {
    return this.#moderate('makeHost', userId);
  }

  /** Make a user a manager (host only). */
  makeManager(userId: string): Promise<void> {
    return this.#moderate('makeManager', userId);
  }

  /** Revoke a user's manager role (host only). */
  revokeManager(userId: string): Promise<void> {
    return this.#moderate('revokeManager', userId);
  }

  /** Remove a user from the session (host or manager). */
  async removeUser(userId: string): Promise<void> {
    const s = this.#joinedSession();
    if (typeof userId !== 'string' || userId.length === 0) throw new InvalidParameterError('removeUser(): userId must be a non-empty string');
    await s.forceDisconnect(userId);
  }

  /** Change your own display name, or another user's (host or manager). */
  async changeName(name: string, userId?: string): Promise<void> {
    const s = this.#joinedSession();
    if (typeof name !== 'string') throw new InvalidParameterError('changeName(): name must be a string');
    await s[kInternal].request({ type: 'moderate', action: 'rename', target: userId ?? s.connection?.connectionId, userName: name });
  }

  // ------------------------------------------------------------------ media

  /**
   * The underlying Session (OpenTok-style API) while joined, for media: `publish`, `subscribe`,
   * `streamCreated`, ...; null otherwise.
   * @example
   * const session = client.getSession()!;
   * session.publish('self-view', { name: client.getCurrentUserInfo()?.displayName });
   * session.on('streamCreated', (e) => session.subscribe(e.stream, 'gallery', { insertMode: 'append' }));
   */
  getSession(): Session | null {
    return this.#state === 'joined' ? this.#session : null;
  }

  /**
   * Mute a user's audio. Your own (no userId, or yours): your publishers stop sending audio. Another
   * user's: host or manager only; the server stops forwarding their audio at once and their
   * publishers mute themselves (`muteForced`), and they get `current-audio-change` (passive).
   */
  async muteAudio(userId?: string): Promise<void> {
    const s = this.#joinedSession();
    if (userId === undefined || userId === s.connection?.connectionId) {
      for (const p of this.#ownPublishers(s)) p.publishAudio(false);
      return;
    }
    await this.#moderate('muteAudio', userId);
  }

  /**
   * Unmute audio. Your own (no userId, or yours): your publishers send audio again (this is how a
   * user accepts `host-ask-unmute-audio`). Another user's: host or manager only, and only as a
   * request: they get `host-ask-unmute-audio` and decide (nobody is unmuted without consent).
   */
  async unmuteAudio(userId?: string): Promise<void> {
    const s = this.#joinedSession();
    if (userId === undefined || userId === s.connection?.connectionId) {
      for (const p of this.#ownPublishers(s)) p.publishAudio(true);
      return;
    }
    await this.#moderate('requestUnmute', userId);
  }

  /** Lock screen sharing to the host (true) or open it to everyone again (false). Host only. */
  async lockShare(lock: boolean): Promise<void> {
    const s = this.#joinedSession();
    await s[kInternal].request({ type: 'moderate', action: lock ? 'lockShare' : 'unlockShare' });
  }

  /** Whether screen sharing is locked to the host. */
  isShareLocked(): boolean {
    return this.#session?.[kInternal].sessionState?.shareLocked === true;
  }

  #ownPublishers(s: Session): AnyPublisher[] {
    const me = s.connection?.connectionId;
    const out: AnyPublisher[] = [];
    for (const stream of s.streams) {
      if (stream.connection.connectionId !== me) continue;
      const p = s.getPublisherForStream(stream);
      if (p) out.push(p);
    }
    return out;
  }

  /** Add a listener. */
  on<K extends keyof VideoClientEvents>(event: K, listener: (...args: VideoClientEvents[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Remove a listener (or all of an event, or all). */
  off<K extends keyof VideoClientEvents>(event?: K, listener?: (...args: VideoClientEvents[K]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Leave (if in a session), drop all listeners; the client cannot be used again. */
  async destroy(): Promise<void> {
    const s = this.#session;
    if (s && (this.#state === 'joined' || this.#state === 'joining')) {
      this.#state = 'leaving';
      await s.disconnect();
    }
    this.#events.off();
    this.#session = null;
    this.#state = 'destroyed';
  }

  // ------------------------------------------------------------------ internals

  #joinedSession(): Session {
    if (this.#state !== 'joined' || !this.#session) throw new NotConnectedError('Not in a session: join() first');
    return this.#session;
  }

  async #moderate(action: ModerationAction, userId: string): Promise<void> {
    const s = this.#joinedSession();
    if (typeof userId !== 'string' || userId.length === 0) throw new InvalidParameterError(`${action}(): userId must be a non-empty string`);
    await s[kInternal].request({ type: 'moderate', action, target: userId });
  }

  #wire(session: Session): void {
    const mine = (): boolean => this.#session === session;
    session.on('connectionCreated', (e: ConnectionEvent) => {
      if (!mine() || e.connection === session.connection) return;
      this.#emit('user-added', [toParticipant(e.connection)]);
    });
    session.on('connectionDestroyed', (e: ConnectionEvent) => {
      if (!mine()) return;
      this.#emit('user-removed', [{ ...toParticipant(e.connection), reason: e.reason ?? 'clientDisconnected' }]);
    });
    session.on('connectionPropertyChanged', (e: ConnectionPropertyChangedEvent) => {
      if (!mine()) return;
      const update: ParticipantUpdate = { userId: e.connection.connectionId };
      if (e.changedProperty === 'userName') update.displayName = e.connection.userName;
      else if (e.changedProperty === 'isHost') update.isHost = e.connection.isHost;
      else update.isManager = e.connection.isManager;
      this.#emit('user-updated', [update]);
    });
    session.on('muteRequested', (e: MuteRequestedEvent) => {
      if (!mine()) return;
      if (e.action === 'requestUnmute') this.#emit('host-ask-unmute-audio', { by: e.by });
      else this.#emit('current-audio-change', { action: 'muted', source: 'passive', by: e.by });
    });
    session.on('sessionPropertyChanged', (e: SessionPropertyChangedEvent) => {
      if (mine() && e.changedProperty === 'shareLocked') this.#emit('share-lock-change', { locked: e.newValue === true, by: e.by });
    });
    session.on('sessionReconnecting', () => {
      if (mine()) this.#emit('connection-change', { state: 'Reconnecting' });
    });
    session.on('sessionReconnected', () => {
      if (mine()) this.#emit('connection-change', { state: 'Connected' });
    });
    session.on('sessionDisconnected', (e: SessionDisconnectEvent) => {
      if (!mine()) return;
      const wasJoined = this.#state === 'joined' || this.#state === 'leaving';
      this.#session = null;
      if (this.#state !== 'destroyed') this.#state = 'initialized';
      session.off();
      if (wasJoined) this.#emit('connection-change', closedReason(e.reason));
    });
  }

  #emit<K extends keyof VideoClientEvents>(event: K, ...args: VideoClientEvents[K]): void {
    this.#events.emit(event, ...args);
  }
}

/**
 * Create a lifecycle client. Each call returns a new, independent client.
 * @example
 * const client = createClient();
 * await client.init('en-US', 'Global', { serverUrl });
 * await client.join('standup', token, 'Ada');
 */
export function createClient(): VideoClient {
  return new VideoClient();
}

/** Leave and dispose of a client (the sessions guide's `destroyClient`). */
export function destroyClient(client: VideoClient): Promise<void> {
  return client.destroy();
}
