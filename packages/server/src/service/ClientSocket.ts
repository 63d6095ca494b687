import {
  CloseCode,
  ErrorCode,
  ErrorName,
  normalizeSessionName,
  normalizeUserName,
  parseClientMessage,
  type ClientMessage,
  type ConnectRequest,
  type IceServer,
  type ResumeRequest,
  type WireError,
} from '@convene/protocol';
import { WebSocket, type RawData } from 'ws';
import { RtcError } from '../rtc/errors.js';
import { tailOf, type FrameSink } from '../rtc/Participant.js';
import type { Membership, SessionManager } from '../rtc/SessionManager.js';
import type { Logger } from '../util/log.js';
import { verifyClientToken } from './tokens.js';

/** Settings every ClientSocket shares (one object per server). */
export interface SocketContext {
  manager: SessionManager;
  log: Logger;
  secretFor(apiKey: string): string | undefined;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  resumeWindowMs: number;
  rateLimit: { burst: number; perSecond: number };
  onInbound(): void;
  /** ICE servers for one connection (fresh short-lived TURN credentials); none when not configured. */
  iceServersFor?(connectionId: string): IceServer[];
}

type State = 'new' | 'authenticating' | 'open' | 'closed';

const PONG = '{"v":1,"type":"pong"}';

/** Bytes a socket may have queued for sending before the server gives up on it. */
const MAX_SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * One signaling WebSocket: validates every frame once, rate-limits, and
 * turns requests into domain calls. It is the FrameSink of the participant it
 * carries; a resumed socket takes that role over.
 */
export class ClientSocket implements FrameSink {
  readonly ws: WebSocket;
  readonly openedAt: number;
  lastRecv: number;
  state: State = 'new';
  #ctx: SocketContext;
  #member: Membership | null = null;
  #tokens: number;
  #refillAt: number;
  #excess = 0;
  #backpressureStrikes = 0;
  #busy = false;
  #queue: string[] = [];

  constructor(ws: WebSocket, ctx: SocketContext, now: number) {
    this.ws = ws;
    this.#ctx = ctx;
    this.openedAt = now;
    this.lastRecv = now;
    this.#tokens = ctx.rateLimit.burst;
    this.#refillAt = now;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', () => this.#onClose());
    ws.on('error', (err) => ctx.log.debug({ err: err.message }, 'socket error'));
  }

  /**
   * Called by the sweep: a client that stops reading must not make the server
   * buffer without bound. Over the limit on two sweeps in a row, its socket is
   * dropped; its frames stay in the (bounded) replay buffer and it may resume.
   * (A single large burst, such as a replay, may exceed it briefly.)
   */
  checkBackpressure(): void {
    if (this.ws.bufferedAmount <= MAX_SOCKET_BUFFER_BYTES) {
      this.#backpressureStrikes = 0;
      return;
    }
    if (++this.#backpressureStrikes < 2) return;
    this.#ctx.log.warn({ connectionId: this.#member?.participant.connectionId, buffered: this.ws.bufferedAmount }, 'client not reading: dropping its socket');
    this.ws.terminate();
  }

  /** Participant carried by this socket, if any. */
  get member(): Membership | null {
    return this.#member;
  }

  // FrameSink -----------------------------------------------------------------

  send(frame: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  close(code: number, reason: string): void {
    this.#member = null;
    this.#end(code, reason);
  }

  // ---------------------------------------------------------------------------

  /** Close the socket without touching the participant's place. */
  #end(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#queue = [];
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason.slice(0, 120));
  }

  #onClose(): void {
    const m = this.#member;
    this.state = 'closed';
    this.#member = null;
    this.#queue = [];
    if (m && m.participant.sink === this) this.#ctx.manager.detach(m.participant);
  }

  #take(now: number): boolean {
    const { burst, perSecond } = this.#ctx.rateLimit;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refillAt) / 1000) * perSecond);
    this.#refillAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      if (this.#excess > 0) this.#excess -= 1;
      return true;
    }
    return false;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    const now = Date.now();
    this.lastRecv = now;
    this.#ctx.onInbound();
    const text = isBinary ? null : rawToString(data);
    if (!this.#take(now)) {
      let id: number | undefined;
      if (text !== null) {
        const parsed = parseClientMessage(text);
        id = parsed.ok ? ('id' in parsed.message ? parsed.message.id : undefined) : parsed.id;
      }
      this.#error(id, { name: ErrorName.RateLimited, code: ErrorCode.RateLimited, message: 'Too many messages; slow down' });
      if (++this.#excess > this.#ctx.rateLimit.burst) {
        this.#ctx.log.warn({ connectionId: this.#member?.participant.connectionId }, 'closing flooding socket');
        this.#end(CloseCode.RateLimited, 'rate limit exceeded');
      }
      return;
    }
    if (text === null) {
      this.#error(undefined, { name: ErrorName.BadRequest, code: ErrorCode.BadRequest, message: 'Binary frames are not supported; send JSON text' });
      return;
    }
    if (this.#busy) this.#queue.push(text);
    else this.#process(text);
  }

  #process(text: string): void {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.#error(parsed.id, parsed.error);
      return;
    }
    const msg = parsed.message;
    try {
      this.#dispatch(msg);
    } catch (err) {
      this.#error('id' in msg ? msg.id : undefined, this.#toWire(err));
    }
  }

  #dispatch(msg: ClientMessage): void {
    switch (msg.type) {
      case 'ping':
        if (msg.ack !== undefined) this.#member?.participant.ack(msg.ack);
        this.send(PONG);
        return;
      case 'ack':
        this.#member?.participant.ack(msg.seq);
        return;
      case 'connect':
      case 'resume':
        if (this.state !== 'new') {
          this.#error(msg.id, { name: ErrorName.AlreadyConnected, code: ErrorCode.ConnectFailed, message: 'This socket is already connected' });
          return;
        }
        if (msg.type === 'connect') this.#runAsync(this.#connect(msg));
        else this.#resume(msg);
        return;
    }
    const m = this.#member;
    if (!m) {
      this.#error(msg.id, { name: ErrorName.NotConnected, code: ErrorCode.NotConnected, message: `${msg.type} needs a connected session; send connect first` });
      return;
    }
    const { session, participant: p } = m;
    if (msg.id <= p.lastRequestId) {
      // Already processed (a resend after resume): answer without re-executing.
      this.#ok(msg.id);
      return;
    }
    p.lastRequestId = msg.id;
    switch (msg.type) {
      case 'signal':
        session.signal(p, msg.to, msg.signalType, msg.data);
        this.#ok(msg.id);
        return;
      case 'forceDisconnect':
        if (msg.connectionId === p.connectionId) {
          this.#ok(msg.id);
          session.terminate(p, 'forceDisconnected');
          return;
        }
        session.forceDisconnect(p, msg.connectionId);
        this.#ok(msg.id);
        return;
      case 'moderate':
        session.moderate(p, msg.action, msg.target, msg.userName);
        this.#ok(msg.id);
        return;
      case 'publish':
        this.#answerAsync(msg.id, session.publish(p, msg));
        return;
      case 'subscribe':
        this.#answerAsync(msg.id, session.subscribe(p, msg));
        return;
      case 'unpublish':
        session.unpublish(p, msg.streamId, msg.reason ?? 'unpublished');
        this.#ok(msg.id);
        return;
      case 'unsubscribe':
        session.unsubscribe(p, msg.subscriberId);
        this.#ok(msg.id);
        return;
      case 'subscription':
        session.updateSubscription(p, msg.subscriberId, msg);
        this.#ok(msg.id);
        return;
      case 'candidate':
        session.addCandidate(p, msg.target, msg.candidate, msg.mid);
        this.#ok(msg.id);
        return;
      case 'peerSignal':
        session.peerSignal(p, msg.subscriberId, msg);
        this.#ok(msg.id);
        return;
      case 'streamUpdate':
        session.updateStream(p, msg.streamId, msg);
        this.#ok(msg.id);
        return;
      case 'forceUnpublish':
        session.forceUnpublish(p, msg.streamId);
        this.#ok(msg.id);
        return;
      case 'forceMuteStream':
        session.forceMuteStream(p, msg.streamId);
        this.#ok(msg.id);
        return;
      case 'forceMuteAll':
        session.forceMuteAll(p, msg.excludedStreamIds);
        this.#ok(msg.id);
        return;
      case 'disableForceMute':
        session.disableForceMute(p);
        this.#ok(msg.id);
        return;
      case 'leave':
        if (msg.end === true && session.canEnd(p)) {
          this.#ok(msg.id, { ended: true });
          session.end('sessionEnded', p);
        } else {
          this.#ok(msg.id, { ended: false });
          session.leave(p, 'clientDisconnected');
        }
        return;
    }
  }

  #runAsync(work: Promise<void>): void {
    this.#busy = true;
    work
      .catch((err: unknown) => this.#ctx.log.error({ err }, 'request failed'))
      .finally(() => {
        this.#busy = false;
        while (!this.#busy && this.#queue.length > 0 && this.state !== 'closed') this.#process(this.#queue.shift() as string);
      });
  }

  /**
   * Answer a request whose work is asynchronous (the SFU answering an SDP offer). Later frames of this
   * socket wait, so requests are still handled in order (a `candidate` never overtakes its `publish`).
   */
  #answerAsync(id: number, work: Promise<object>): void {
    this.#runAsync(
      work.then(
        (result) => this.#ok(id, result as Record<string, unknown>),
        (err: unknown) => this.#error(id, this.#toWire(err)),
      ),
    );
  }

  async #connect(msg: ConnectRequest): Promise<void> {
    const ctx = this.#ctx;
    const name = normalizeSessionName(msg.sessionId);
    if (!name.ok) {
      this.#error(msg.id, { name: ErrorName.InvalidSessionId, code: ErrorCode.InvalidSessionId, message: name.message });
      return;
    }
    this.state = 'authenticating';
    const t = verifyClientToken(msg.token, msg.sessionId, ctx.secretFor);
    let authError: string | null = t.ok ? null : t.message;
    if (t.ok && msg.apiKey !== undefined && msg.apiKey !== t.value.apiKey) authError = 'The API key does not match the token issuer';
    if (!t.ok || authError !== null) {
      ctx.log.info({ reason: authError }, 'connect refused: authentication');
      this.#error(msg.id, { name: ErrorName.AuthenticationError, code: ErrorCode.AuthenticationError, message: authError ?? 'Invalid token' });
      this.#end(CloseCode.AuthFailed, 'authentication failed');
      return;
    }
    const tok = t.value;
    let m: Membership & { othersJson: string; streamsJson: string };
    try {
      m = await ctx.manager.join(msg.sessionId, {
        role: tok.role,
        userName: normalizeUserName(msg.userName ?? tok.userName),
        userIdentity: tok.userIdentity,
        data: tok.data,
        passcode: msg.passcode,
        idleTimeoutMins: msg.idleTimeoutMins,
        sink: this,
      });
    } catch (err) {
      if (this.state === 'authenticating') this.state = 'new';
      this.#error(msg.id, this.#toWire(err));
      return;
    }
    const { session, participant: p } = m;
    if ((this.state as State) === 'closed') {
      // The socket went away while joining: nobody can resume a connection it never learnt.
      session.leave(p, 'networkDisconnected');
      return;
    }
    this.state = 'open';
    this.#member = { session, participant: p };
    p.lastRequestId = msg.id;
    p.push(
      '"type":"ok","id":' +
        msg.id +
        ',"result":{"connection":' +
        p.infoJson +
        ',"connections":' +
        m.othersJson +
        ',"streams":' +
        m.streamsJson +
        ',"session":' +
        JSON.stringify(session.state) +
        ',"capabilities":' +
        JSON.stringify(p.capabilities) +
        ',"resumeToken":' +
        JSON.stringify(p.resumeToken) +
        ',"heartbeatIntervalMs":' +
        ctx.heartbeatIntervalMs +
        ',"heartbeatTimeoutMs":' +
        ctx.heartbeatTimeoutMs +
        ',"resumeWindowMs":' +
        ctx.resumeWindowMs +
        iceServersJson(ctx, p.connectionId) +
        ',"mediaMode":' +
        JSON.stringify(session.mediaMode) +
        ',"simulcast":' +
        String(session.simulcast) +
        '}}',
    );
    ctx.log.debug({ connectionId: p.connectionId, sessionId: session.id, sdk: msg.sdk }, 'connected');
  }

  #resume(msg: ResumeRequest): void {
    let r: ReturnType<SessionManager['resume']>;
    try {
      r = this.#ctx.manager.resume(msg.connectionId, msg.resumeToken, msg.lastSeq, this);
    } catch (err) {
      this.#error(msg.id, this.#toWire(err));
      this.#end(CloseCode.Terminated, 'resume failed');
      return;
    }
    if (r.previous && r.previous !== this) r.previous.close(CloseCode.Replaced, 'replaced by a resumed socket');
    this.state = 'open';
    this.#member = { session: r.session, participant: r.participant };
    const p = r.participant;
    this.#ctx.log.debug({ connectionId: p.connectionId, lastSeq: msg.lastSeq }, 'resumed');
    const iceServers = this.#ctx.iceServersFor?.(p.connectionId) ?? [];
    const result = { lastRequestId: p.lastRequestId, capabilities: p.capabilities, ...(iceServers.length > 0 ? { iceServers } : {}) };
    p.push(tailOf({ type: 'ok', id: msg.id, result }));
  }

  #ok(id: number, result?: Record<string, unknown>): void {
    const p = this.#member?.participant;
    if (p && !p.closed) p.push(tailOf({ type: 'ok', id, result }));
  }

  /** Error response: sequenced when it answers a connected participant's request, else unsequenced. */
  #error(id: number | undefined, error: WireError): void {
    const p = this.#member?.participant;
    if (p && !p.closed && id !== undefined) p.push(tailOf({ type: 'error', id, error }));
    else this.send(JSON.stringify({ v: 1, type: 'error', id, error }));
  }

  #toWire(err: unknown): WireError {
    if (err instanceof RtcError) return err.toWire();
    this.#ctx.log.error({ err }, 'unexpected error handling a request');
    return { name: ErrorName.UnexpectedServerResponse, code: ErrorCode.InternalError, message: 'Internal server error' };
  }
}

/** `,"iceServers":[...]` for the connect result, or nothing when none are configured. */
function iceServersJson(ctx: SocketContext, connectionId: string): string {
  const list = ctx.iceServersFor?.(connectionId) ?? [];
  return list.length > 0 ? ',"iceServers":' + JSON.stringify(list) : '';
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
