import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCode, ErrorName, normalizeSessionName, type MediaMode } from '@convene/protocol';
import type { Router } from '../routing/Router.js';
import type { SessionStore } from '../store/SessionStore.js';
import { moduleLogger, type Logger } from '../util/log.js';
import { RtcError } from './errors.js';
import type { MediaPlane } from './MediaPlane.js';
import type { FrameSink, Participant, ReplayLimits } from './Participant.js';
import { Session, type JoinParams } from './Session.js';

/** Options of the session domain. */
export interface SessionManagerOptions {
  store: SessionStore;
  router: Router;
  log: Logger;
  /** How long a vanished connection keeps its place, ms. */
  resumeWindowMs: number;
  defaultIdleTimeoutMins: number;
  replayLimits: ReplayLimits;
  coalesceAt: number;
  coalesceIntervalMs: number;
  /** The media plane; without it publish and subscribe fail with OT_INVALID_STATE. */
  media?: MediaPlane | null;
  /** The media mode of a session about to be created (default: every session routed). */
  mediaModeOf?: (sessionId: string) => MediaMode;
}

/** A connection and the session it belongs to. */
export interface Membership {
  session: Session;
  participant: Participant;
}

/**
 * All sessions on this node: creates them on demand, indexes connections for
 * resume, and expires vanished connections after the resume window with one
 * sweep timer (no per-connection timers).
 */
export class SessionManager {
  readonly #opts: SessionManagerOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, Session>();
  readonly #creating = new Map<string, Promise<Session>>();
  readonly #members = new Map<string, Membership>();
  readonly #away = new Set<Participant>();
  #sweep: NodeJS.Timeout;
  #closed = false;

  constructor(opts: SessionManagerOptions) {
    this.#opts = opts;
    this.#log = moduleLogger(opts.log, 'rtc.SessionManager');
    const every = Math.max(10, Math.min(1000, Math.floor(opts.resumeWindowMs / 4)));
    this.#sweep = setInterval(() => this.#expireAway(Date.now()), every);
    this.#sweep.unref();
  }

  /** Number of live sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Number of published streams in all sessions. */
  get streamCount(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.streamCount;
    return n;
  }

  /** Number of connections in all sessions (away ones included). */
  get connectionCount(): number {
    return this.#members.size;
  }

  sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  /** A session by name (any case), or undefined. */
  get(sessionName: string): Session | undefined {
    const n = normalizeSessionName(sessionName);
    return n.ok ? this.#sessions.get(n.value) : undefined;
  }

  membership(connectionId: string): Membership | undefined {
    return this.#members.get(connectionId);
  }

  /**
   * Join `sessionName` (already checked against the token), creating the
   * session on first join. Throws RtcError when refused.
   */
  async join(sessionName: string, params: JoinParams): Promise<Membership & { othersJson: string; streamsJson: string }> {
    if (this.#closed) throw RtcError.invalidState('The server is shutting down');
    const n = normalizeSessionName(sessionName);
    if (!n.ok) throw RtcError.invalidSession(n.message);
    for (let attempt = 0; ; attempt++) {
      const session = await this.#sessionFor(n.value);
      if (session.ended) {
        if (attempt > 2) throw RtcError.invalidState('The session is ending; try again');
        continue;
      }
      try {
        const { participant, othersJson, streamsJson } = session.join(params, Date.now());
        this.#members.set(participant.connectionId, { session, participant });
        return { session, participant, othersJson, streamsJson };
      } catch (err) {
        // A refused first join must not leave an empty session behind.
        if (session.pristine) session.end('sessionEnded');
        throw err;
      }
    }
  }

  /** The connection's sink went away; keep its place for the resume window. */
  detach(p: Participant): void {
    if (p.closed) return;
    p.detach(Date.now());
    this.#away.add(p);
  }

  /**
   * Re-attach a connection on a new sink and replay what it missed. Throws
   * OT_RESUME_FAILED when the connection is gone, the token is wrong or the
   * frames cannot be replayed exactly once. The previous sink, if any, is
   * returned so the caller can close it.
   */
  resume(connectionId: string, resumeToken: string, lastSeq: number, sink: FrameSink): Membership & { previous: FrameSink | null } {
    const m = this.#members.get(connectionId);
    const fail = (why: string): never => {
      throw new RtcError(ErrorName.ResumeFailed, ErrorCode.ConnectFailed, why);
    };
    if (!m || m.participant.closed) return fail('The connection no longer exists; connect again');
    const p = m.participant;
    const a = Buffer.from(resumeToken);
    const b = Buffer.from(p.resumeToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return fail('Invalid resume token');
    if (!p.canReplayFrom(lastSeq)) return fail(`Cannot resume from sequence ${lastSeq}`);
    const previous = p.sink;
    this.#away.delete(p);
    p.attach(sink, lastSeq);
    return { ...m, previous };
  }

  /** End every session silently and stop timers (server shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    await Promise.allSettled(this.#creating.values());
    for (const s of this.#sessions.values()) s.dispose();
    this.#sessions.clear();
    this.#members.clear();
    this.#away.clear();
  }

  async #sessionFor(id: string): Promise<Session> {
    const existing = this.#sessions.get(id);
    if (existing) return existing;
    const pending = this.#creating.get(id);
    if (pending) return pending;
    const p = this.#create(id).finally(() => this.#creating.delete(id));
    this.#creating.set(id, p);
    return p;
  }

  async #create(id: string): Promise<Session> {
    const { store, router } = this.#opts;
    const owner = await router.claimSession(id);
    if (owner !== router.nodeId) throw RtcError.invalidState(`Session is owned by another node (${owner})`);
    const saved = await store.loadSession(id);
    const createdAt = saved?.session.createdAt ?? Date.now();
    const session = new Session(id, createdAt, {
      store,
      log: moduleLogger(this.#opts.log, 'rtc.Session'),
      defaultIdleTimeoutMins: this.#opts.defaultIdleTimeoutMins,
      replayLimits: this.#opts.replayLimits,
      coalesceAt: this.#opts.coalesceAt,
      coalesceIntervalMs: this.#opts.coalesceIntervalMs,
      newConnectionId: () => randomUUID(),
      newResumeToken: () => randomBytes(24).toString('base64url'),
      newMediaId: () => randomUUID(),
      media: this.#opts.media ?? null,
      mediaMode: this.#opts.mediaModeOf?.(id) ?? 'routed',
      onParticipantGone: (p) => {
        this.#members.delete(p.connectionId);
        this.#away.delete(p);
      },
      onEnded: (s) => {
        if (this.#sessions.get(s.id) === s) this.#sessions.delete(s.id);
        store.deleteSession(s.id).catch((err: unknown) => this.#log.error({ err, sessionId: s.id }, 'store delete failed'));
        router.releaseSession(s.id).catch((err: unknown) => this.#log.error({ err, sessionId: s.id }, 'router release failed'));
      },
    });
    if (saved) session.restore(saved.session);
    else
      await store.createSession({
        sessionId: id,
        createdAt,
        passcode: null,
        hostId: null,
        shareLocked: false,
        forceMuteActive: false,
        idleTimeoutMins: null,
        hostRoleJoined: false,
      });
    this.#sessions.set(id, session);
    this.#log.info({ sessionId: id }, 'session created');
    return session;
  }

  #expireAway(now: number): void {
    for (const p of this.#away) {
      if (now - p.awaySince < this.#opts.resumeWindowMs) continue;
      this.#away.delete(p);
      const m = this.#members.get(p.connectionId);
      if (m) m.session.leave(p, 'networkDisconnected');
    }
  }
}
