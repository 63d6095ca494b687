import {
  CloseCode,
  ErrorName,
  limits,
  PROTOCOL_VERSION,
  TypedEmitter,
  type ClientRequest,
  type ConnectRequest,
  type DisconnectReason,
  type JoinedResult,
  type ResumedResult,
  type ServerEvent,
  type ServerMessage,
} from '@convene/protocol';
import { ConnectError, ConveneError, NotConnectedError } from '../errors.js';
import { createLogger } from '../logger.js';
import type { SignalClientEvents } from './events.js';
import { defaultSocketFactory, killSocket, OPEN, openSocket, type SocketFactory, type SocketLike } from './socket.js';

/** Connection state of the transport. */
export type TransportState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request body as the caller gives it: no envelope (`v`) and no `id`, which the transport assigns. */
export type RequestBody = DistributiveOmit<Exclude<ClientRequest, ConnectRequest | { type: 'resume' }>, 'v' | 'id'>;
export type ConnectBody = Omit<ConnectRequest, 'v' | 'type' | 'id'>;

export interface SignalClientOptions {
  /** ws(s) URL of the signaling endpoint. */
  url: string;
  socketFactory?: SocketFactory;
  /** Retry the socket at least this often while reconnecting (ms). */
  reconnectRetryMs?: number;
  /** The initial connect must complete within this many ms. */
  connectTimeoutMs?: number;
  /** Acknowledge processed frames at most this long after receiving them (ms). */
  ackDelayMs?: number;
}

export interface RequestOptions {
  /** Queue the request while reconnecting and send it on resume (default true); false rejects at once. */
  queueWhileReconnecting?: boolean;
}

interface Pending {
  body: RequestBody;
  /** Wire id once sent on the current or an earlier socket; 0 while queued. */
  id: number;
  resolve: (result: unknown) => void;
  reject: (err: ConveneError) => void;
}

const now = (): number => Date.now();

/**
 * The signaling transport. Knows wire messages and its own connection state,
 * nothing about sessions: request/response by id, the per-connection sequence
 * `q` (duplicates dropped, processed frames acknowledged), heartbeat with a
 * dead-socket timeout, and resume after a drop so that every server frame is
 * processed exactly once and every request is processed exactly once.
 */
export class SignalClient extends TypedEmitter<SignalClientEvents> {
  readonly #url: string;
  readonly #factory: SocketFactory;
  readonly #retryMs: number;
  readonly #connectTimeoutMs: number;
  readonly #ackDelayMs: number;
  readonly #log = createLogger('SignalClient');

  #state: TransportState = 'idle';
  #socket: SocketLike | null = null;
  /** Last request id put on the wire: ids only grow, across sockets. */
  #nextId = 0;
  /** Highest `q` processed. */
  #lastSeq = 0;
  #lastAckSent = 0;
  #lastFrameAt = 0;
  /** Sent requests awaiting a response, by wire id, in send order. */
  #inflight = new Map<number, Pending>();
  /** Requests made while reconnecting, in call order. */
  #queued: Pending[] = [];

  #connectionId = '';
  #resumeToken = '';
  #heartbeatIntervalMs: number = limits.heartbeatIntervalMs;
  #heartbeatTimeoutMs: number = limits.heartbeatTimeoutMs;
  #resumeWindowMs: number = limits.resumeWindowMs;

  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #watchdogTimer: ReturnType<typeof setInterval> | undefined;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #giveUpTimer: ReturnType<typeof setTimeout> | undefined;
  #attemptTimer: ReturnType<typeof setTimeout> | undefined;
  #lastAttemptAt = 0;
  /** Id of the resume request in flight, 0 if none. */
  #resumeId = 0;
  /** Bumped whenever a socket is abandoned, so stale async continuations stop. */
  #epoch = 0;
  #connect: { id: number; resolve: (r: JoinedResult) => void; reject: (e: ConveneError) => void } | null = null;

  constructor(opts: SignalClientOptions) {
    super();
    this.#url = opts.url;
    this.#factory = opts.socketFactory ?? defaultSocketFactory;
    this.#retryMs = Math.max(50, Math.min(opts.reconnectRetryMs ?? limits.reconnectRetryMs, 5000));
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? limits.authTimeoutMs;
    this.#ackDelayMs = opts.ackDelayMs ?? 200;
    this.onListenerError = (err, event) => this.#log.error({ err, event: String(event) }, 'transport listener threw');
  }

  get state(): TransportState {
    return this.#state;
  }

  get connectionId(): string {
    return this.#connectionId;
  }

  /** Highest server sequence number processed. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Open the socket and join. Resolves with the join result; `joined` is emitted
   * synchronously first, before any later frame is processed.
   */
  async connect(body: ConnectBody): Promise<JoinedResult> {
    if (this.#state !== 'idle') throw new ConveneError(ErrorName.AlreadyConnected, 1000, `connect() in state ${this.#state}`);
    this.#state = 'connecting';
    const epoch = ++this.#epoch;
    const deadline = now() + this.#connectTimeoutMs;
    let socket: SocketLike;
    try {
      socket = await openSocket(this.#factory, this.#url, this.#connectTimeoutMs);
    } catch (err) {
      if (epoch === this.#epoch) this.#state = 'idle';
      throw new ConnectError(`Could not reach the server at ${this.#url}: ${(err as Error).message}`, { cause: err });
    }
    if (epoch !== this.#epoch) {
      killSocket(socket);
      throw new NotConnectedError('Disconnected while connecting');
    }
    this.#attach(socket, epoch);
    const id = ++this.#nextId;
    return new Promise<JoinedResult>((resolve, reject) => {
      const timer = setTimeout(() => fail(ConnectError.timeout(this.#connectTimeoutMs)), Math.max(0, deadline - now()));
      const fail = (e: ConveneError): void => {
        clearTimeout(timer);
        if (this.#connect?.id !== id) return;
        this.#connect = null;
        if (epoch === this.#epoch) this.#reset('idle');
        reject(e);
      };
      this.#connect = {
        id,
        resolve: (r) => {
          clearTimeout(timer);
          this.#connect = null;
          resolve(r);
        },
        reject: fail,
      };
      this.#sendRaw({ v: PROTOCOL_VERSION, type: 'connect', id, ...body });
    });
  }

  /**
   * Send a request and wait for its response. While reconnecting the request is
   * queued (unless `queueWhileReconnecting: false`) and sent on resume.
   */
  request<T = unknown>(body: RequestBody, opts: RequestOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { body, id: 0, resolve: resolve as (r: unknown) => void, reject };
      if (this.#state === 'connected') this.#sendPending(p);
      else if (this.#state === 'reconnecting' && opts.queueWhileReconnecting !== false) this.#queued.push(p);
      else reject(new NotConnectedError(this.#state === 'reconnecting' ? 'Not connected (reconnecting)' : 'Not connected to the session'));
    });
  }

  /**
   * Leave: send `leave` (when connected), wait briefly for its answer, then close.
   * Emits no `closed` event. Safe to call in any state.
   */
  async disconnect(body: RequestBody & { type: 'leave' } = { type: 'leave' }, waitMs = 2000): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'idle') return;
    const wasConnected = this.#state === 'connected';
    if (this.#connect) this.#connect.reject(new NotConnectedError('Disconnected while connecting'));
    this.#state = 'closing';
    this.#stopRetry();
    if (wasConnected && this.#socket) {
      const socket = this.#socket;
      const id = ++this.#nextId;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#inflight.delete(id);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        this.#inflight.set(id, { body, id, resolve: done, reject: done });
        // The server closes the socket after a leave; that ends the wait too.
        const prevClose = socket.onclose;
        socket.onclose = (ev) => {
          done();
          prevClose?.(ev);
        };
        this.#sendRaw({ v: PROTOCOL_VERSION, id, ...body });
      });
    }
    this.#reset('closed');
  }

  /** Close at once without telling the server (it will see a network drop). */
  close(): void {
    if (this.#state === 'closed') return;
    this.#reset('closed');
  }

  // ------------------------------------------------------------------ socket

  #attach(socket: SocketLike, epoch: number): void {
    this.#socket = socket;
    this.#lastFrameAt = now();
    socket.onmessage = (ev) => {
      if (epoch !== this.#epoch) return;
      this.#onFrame(ev.data);
    };
    socket.onclose = (ev) => {
      if (epoch !== this.#epoch) return;
      this.#onSocketClosed(ev.code, ev.reason);
    };
  }

  #sendRaw(msg: object): boolean {
    const s = this.#socket;
    if (!s || s.readyState !== OPEN) return false;
    try {
      s.send(JSON.stringify(msg));
      return true;
    } catch (err) {
      this.#log.warn({ err }, 'send failed');
      return false;
    }
  }

  #sendPending(p: Pending): void {
    p.id = ++this.#nextId;
    this.#inflight.set(p.id, p);
    this.#sendRaw({ v: PROTOCOL_VERSION, id: p.id, ...p.body });
  }

  #onSocketClosed(code: number, reason: string): void {
    this.#log.debug({ code, reason, state: this.#state }, 'socket closed');
    if (this.#state === 'connecting') {
      this.#connect?.reject(
        code === CloseCode.AuthFailed
          ? new ConveneError(ErrorName.AuthenticationError, 1004, reason || 'Authentication failed')
          : new ConnectError(`The server closed the connection (code ${code}${reason ? `: ${reason}` : ''})`),
      );
      return;
    }
    if (code === CloseCode.Terminated) {
      this.#finish('networkDisconnected', new ConveneError(ErrorName.ResumeFailed, 4002, reason || 'Connection terminated by the server'));
      return;
    }
    this.#drop(`socket closed (${code})`);
  }

  // ------------------------------------------------------------------ frames

  #onFrame(data: unknown): void {
    this.#lastFrameAt = now();
    if (typeof data !== 'string') {
      this.#log.warn({}, 'ignoring a non-text frame');
      return;
    }
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      this.#log.warn({ frame: data.slice(0, 200) }, 'ignoring an unparsable frame');
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.type !== 'string') return;
    if (msg.type === 'hello' || msg.type === 'pong') return;

    const q = 'q' in msg && typeof msg.q === 'number' ? msg.q : undefined;
    const isResumeAnswer = (msg.type === 'ok' || msg.type === 'error') && msg.id !== undefined && msg.id === this.#resumeId;
    if (q !== undefined) {
      if (q <= this.#lastSeq) {
        // Already processed (replayed after a resume): drop it, and re-acknowledge.
        this.#scheduleAck();
        return;
      }
      // The resume answer may be sequenced after the replayed frames it precedes on the wire:
      // it is matched by id, and only advances the sequence when it is the next frame.
      if (!isResumeAnswer || q === this.#lastSeq + 1) this.#lastSeq = q;
    }

    if (msg.type === 'ok' || msg.type === 'error') {
      if (isResumeAnswer) this.#onResumeAnswer(msg);
      else if (msg.id !== undefined && this.#connect?.id === msg.id) this.#onConnectAnswer(msg);
      else if (msg.id !== undefined) {
        const p = this.#inflight.get(msg.id);
        if (p) {
          this.#inflight.delete(msg.id);
          if (msg.type === 'ok') p.resolve(msg.result);
          else p.reject(ConveneError.fromWire(msg.error));
        }
      } else if (msg.type === 'error') {
        this.#log.warn({ error: msg.error }, 'server error');
      }
    } else if (msg.type === 'disconnected') {
      this.emit('event', msg);
      this.#finish(msg.reason);
      return;
    } else {
      this.emit('event', msg as ServerEvent);
    }
    if (q !== undefined) this.#scheduleAck();
  }

  #onConnectAnswer(msg: ServerMessage & { type: 'ok' | 'error' }): void {
    const c = this.#connect;
    if (!c) return;
    if (msg.type === 'error') {
      c.reject(ConveneError.fromWire(msg.error));
      return;
    }
    const r = msg.result as JoinedResult;
    this.#connectionId = r.connection.connectionId;
    this.#resumeToken = r.resumeToken;
    this.#heartbeatIntervalMs = r.heartbeatIntervalMs || limits.heartbeatIntervalMs;
    this.#heartbeatTimeoutMs = r.heartbeatTimeoutMs || limits.heartbeatTimeoutMs;
    this.#resumeWindowMs = r.resumeWindowMs || limits.resumeWindowMs;
    this.#state = 'connected';
    this.#startHeartbeat();
    this.emit('joined', r);
    c.resolve(r);
  }

  // ------------------------------------------------------------------ acks and heartbeat

  #scheduleAck(): void {
    if (this.#lastSeq <= this.#lastAckSent) return;
    // Acknowledge promptly under load so the server can trim its replay buffer.
    if (this.#lastSeq - this.#lastAckSent >= 64) {
      this.#sendAck();
      return;
    }
    this.#ackTimer ??= setTimeout(() => {
      this.#ackTimer = undefined;
      this.#sendAck();
    }, this.#ackDelayMs);
  }

  #sendAck(): void {
    if (this.#state !== 'connected' || this.#lastSeq <= this.#lastAckSent) return;
    if (this.#sendRaw({ v: PROTOCOL_VERSION, type: 'ack', seq: this.#lastSeq })) this.#lastAckSent = this.#lastSeq;
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#lastFrameAt = now();
    this.#pingTimer = setInterval(() => {
      if (this.#state !== 'connected') return;
      if (this.#sendRaw({ v: PROTOCOL_VERSION, type: 'ping', ack: this.#lastSeq })) this.#lastAckSent = Math.max(this.#lastAckSent, this.#lastSeq);
    }, this.#heartbeatIntervalMs);
    const check = Math.max(50, Math.min(1000, Math.floor(this.#heartbeatTimeoutMs / 4)));
    this.#watchdogTimer = setInterval(() => {
      if (this.#state === 'connected' && now() - this.#lastFrameAt > this.#heartbeatTimeoutMs) {
        this.#drop(`no frame for ${this.#heartbeatTimeoutMs} ms`);
      }
    }, check);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#pingTimer);
    clearInterval(this.#watchdogTimer);
    clearTimeout(this.#ackTimer);
    this.#pingTimer = this.#watchdogTimer = this.#ackTimer = undefined;
  }

  // ------------------------------------------------------------------ reconnection

  /** The socket is gone (closed, errored or silent): start or continue resuming. */
  #drop(why: string): void {
    if (this.#state !== 'connected' && this.#state !== 'reconnecting') return;
    this.#log.info({ why }, 'connection lost');
    this.#epoch++;
    if (this.#socket) killSocket(this.#socket);
    this.#socket = null;
    this.#resumeId = 0;
    this.#stopHeartbeat();
    clearTimeout(this.#attemptTimer);
    if (this.#state === 'connected') {
      this.#state = 'reconnecting';
      this.#lastAttemptAt = 0;
      this.#giveUpTimer = setTimeout(
        () => this.#finish('networkDisconnected', new ConveneError(ErrorName.ResumeFailed, 4002, `Could not reconnect within ${this.#resumeWindowMs} ms`)),
        this.#resumeWindowMs,
      );
      this.emit('reconnecting');
    }
    if (this.#state !== 'reconnecting') return;
    const wait = Math.max(0, this.#lastAttemptAt + this.#retryMs - now());
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#attempt(), wait);
  }

  async #attempt(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#state !== 'reconnecting') return;
    this.#lastAttemptAt = now();
    const epoch = ++this.#epoch;
    let socket: SocketLike;
    try {
      socket = await openSocket(this.#factory, this.#url, this.#retryMs);
    } catch (err) {
      if (epoch !== this.#epoch || this.#state !== 'reconnecting') return;
      this.#log.debug({ err: (err as Error).message }, 'reconnect attempt failed');
      this.#drop('attempt failed');
      return;
    }
    if (epoch !== this.#epoch || this.#state !== 'reconnecting') {
      killSocket(socket);
      return;
    }
    this.#attach(socket, epoch);
    this.#resumeId = ++this.#nextId;
    // A resume that gets no answer in time counts as a failed attempt.
    this.#attemptTimer = setTimeout(() => {
      if (epoch === this.#epoch && this.#state === 'reconnecting') this.#drop('resume timed out');
    }, Math.max(this.#retryMs, this.#heartbeatTimeoutMs));
    this.#sendRaw({
      v: PROTOCOL_VERSION,
      type: 'resume',
      id: this.#resumeId,
      connectionId: this.#connectionId,
      resumeToken: this.#resumeToken,
      lastSeq: this.#lastSeq,
    });
  }

  #onResumeAnswer(msg: ServerMessage & { type: 'ok' | 'error' }): void {
    this.#resumeId = 0;
    clearTimeout(this.#attemptTimer);
    if (this.#state !== 'reconnecting') return;
    if (msg.type === 'error') {
      if (msg.error.name === ErrorName.ResumeFailed || msg.error.name === ErrorName.SessionEnded) {
        this.#finish('networkDisconnected', ConveneError.fromWire(msg.error));
      } else {
        this.#log.warn({ error: msg.error }, 'resume refused; retrying');
        this.#drop('resume refused');
      }
      return;
    }
    const r = msg.result as ResumedResult;
    this.#state = 'connected';
    this.#stopRetry();
    this.#startHeartbeat();
    // Requests the server never saw get fresh ids (ids only grow) and go out in their original order.
    const lastProcessed = typeof r.lastRequestId === 'number' ? r.lastRequestId : 0;
    const resend = [...this.#inflight.values()].filter((p) => p.id > lastProcessed);
    for (const p of resend) this.#inflight.delete(p.id);
    const queued = this.#queued;
    this.#queued = [];
    this.emit('reconnected', r);
    for (const p of [...resend, ...queued]) {
      if (this.#state !== 'connected') {
        this.#queued.push(p);
        continue;
      }
      this.#sendPending(p);
    }
    this.#sendAck();
  }

  #stopRetry(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#giveUpTimer);
    clearTimeout(this.#attemptTimer);
    this.#retryTimer = this.#giveUpTimer = this.#attemptTimer = undefined;
  }

  /** The connection is over for good. */
  #finish(reason: DisconnectReason, error?: ConveneError): void {
    if (this.#state === 'closed' || this.#state === 'closing' || this.#state === 'idle') return;
    this.#reset('closed');
    this.emit('closed', { reason, error });
  }

  /** Drop the socket, stop every timer, fail whatever waits. */
  #reset(to: 'idle' | 'closed'): void {
    this.#epoch++;
    this.#state = to;
    this.#stopHeartbeat();
    this.#stopRetry();
    if (this.#socket) killSocket(this.#socket);
    this.#socket = null;
    this.#resumeId = 0;
    const waiting = [...this.#inflight.values(), ...this.#queued];
    this.#inflight.clear();
    this.#queued = [];
    for (const p of waiting) p.reject(new NotConnectedError('The connection to the session was closed'));
    if (to === 'idle') {
      this.#lastSeq = 0;
      this.#lastAckSent = 0;
    }
  }
}
