import {
  CloseCode,
  ErrorCode,
  normalizeUserName,
  validateIdleTimeoutMins,
  validatePasscode,
  validateSignal,
  type ConnectionDestroyedReason,
  type ConnectionInfo,
  type ModerationAction,
  type Role,
  type SessionState,
  type SessionSummary,
} from '@convene/protocol';
import type { Logger } from '../util/log.js';
import type { SessionStore } from '../store/SessionStore.js';
import { RtcError } from './errors.js';
import { Participant, tailOf, type FrameSink, type ReplayLimits } from './Participant.js';

/** What a Session needs from its owner. */
export interface SessionDeps {
  store: SessionStore;
  log: Logger;
  /** Server-wide idle timeout (host alone), minutes. */
  defaultIdleTimeoutMins: number;
  replayLimits: ReplayLimits;
  /** Coalesce connection events at or above this many connections. */
  coalesceAt: number;
  coalesceIntervalMs: number;
  newConnectionId(): string;
  newResumeToken(): string;
  /** A participant left the session for good. */
  onParticipantGone(p: Participant): void;
  /** The session ended (last one left, host ended it, idle timeout). */
  onEnded(session: Session): void;
}

/** A validated join, from the service layer. */
export interface JoinParams {
  role: Role;
  userName: string;
  userIdentity: string;
  data: string;
  passcode?: string;
  idleTimeoutMins?: number;
  sink: FrameSink;
}

/** Reasons a session ends. */
export type SessionEndReason = 'sessionEnded' | 'idleTimeout' | 'empty';

const PASSCODE_REJECTED = 'The session passcode is missing or incorrect';

/**
 * One session: its participants, roles, moderation, signals and lifecycle.
 * Knows nothing about sockets: frames go to each participant's FrameSink.
 */
export class Session {
  readonly id: string;
  readonly createdAt: number;

  readonly #deps: SessionDeps;
  readonly #log: Logger;
  readonly #participants = new Map<string, Participant>();
  #passcode: string | null = null;
  #hostId: string | null = null;
  #shareLocked = false;
  #forceMuteActive = false;
  #idleTimeoutMins: number | null = null;
  #hostRoleJoined = false;
  #joinCounter = 0;
  #ended = false;
  #restored = false;

  #pendingKind: 'created' | 'destroyed' | null = null;
  #pendingCreated: Participant[] = [];
  #pendingDestroyed: { connectionId: string; reason: ConnectionDestroyedReason }[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #overflowed = new Set<Participant>();
  /** Everyone's info JSON, comma-joined in join order (null = rebuild): a join storm appends instead of re-serialising n entries per join. */
  #listJson: string | null = '';

  constructor(id: string, createdAt: number, deps: SessionDeps) {
    this.id = id;
    this.createdAt = createdAt;
    this.#deps = deps;
    this.#log = deps.log.child({ sessionId: id });
  }

  get ended(): boolean {
    return this.#ended;
  }

  get size(): number {
    return this.#participants.size;
  }

  get hostId(): string | null {
    return this.#hostId;
  }

  /** The session state every client sees. */
  get state(): SessionState {
    return {
      sessionId: this.id,
      hostId: this.#hostId,
      shareLocked: this.#shareLocked,
      forceMuteActive: this.#forceMuteActive,
      hasPasscode: this.#passcode !== null,
      createdAt: this.createdAt,
    };
  }

  get summary(): SessionSummary {
    return {
      sessionId: this.id,
      createdAt: this.createdAt,
      connectionCount: this.#participants.size,
      hostId: this.#hostId,
      hasPasscode: this.#passcode !== null,
      shareLocked: this.#shareLocked,
      forceMuteActive: this.#forceMuteActive,
    };
  }

  participant(connectionId: string): Participant | undefined {
    return this.#participants.get(connectionId);
  }

  /** Everyone's connection info, in join order. */
  connections(): ConnectionInfo[] {
    return [...this.#participants.values()].map((p) => p.info);
  }

  #allJson(): string {
    this.#listJson ??= [...this.#participants.values()].map((p) => p.infoJson).join(',');
    return this.#listJson;
  }

  /** Restore durable state when this node takes over a session from the store. */
  restore(rec: { passcode: string | null; shareLocked: boolean; forceMuteActive: boolean; idleTimeoutMins: number | null; hostRoleJoined: boolean }): void {
    this.#passcode = rec.passcode;
    this.#shareLocked = rec.shareLocked;
    this.#forceMuteActive = rec.forceMuteActive;
    this.#idleTimeoutMins = rec.idleTimeoutMins;
    this.#hostRoleJoined = rec.hostRoleJoined;
    this.#restored = true;
  }

  /** Created here and nobody has joined yet: a refused first join may drop it. */
  get pristine(): boolean {
    return this.#joinCounter === 0 && !this.#restored;
  }

  /**
   * Add a connection. Checks the passcode (set by the creator, or the first
   * host-role joiner if none is set), assigns host/manager standing and
   * announces the newcomer. Throws RtcError when refused.
   */
  join(params: JoinParams, now: number): { participant: Participant; othersJson: string } {
    if (this.#ended) throw RtcError.invalidState('The session has ended');
    if (params.idleTimeoutMins !== undefined) {
      const err = validateIdleTimeoutMins(params.idleTimeoutMins);
      if (err) throw RtcError.invalidParameter(err);
    }
    const isCreator = this.#joinCounter === 0;
    const hostRole = params.role === 'host';
    let setPasscode: string | null = null;
    if (this.#passcode !== null) {
      if (params.passcode !== this.#passcode) throw RtcError.invalidPasscode(PASSCODE_REJECTED);
    } else if (params.passcode !== undefined && params.passcode !== '' && (isCreator || (hostRole && !this.#hostRoleJoined))) {
      const err = validatePasscode(params.passcode);
      if (err) throw RtcError.invalidPasscode(err);
      setPasscode = params.passcode;
    }

    const becomesHost = hostRole && this.#hostId === null;
    const info: ConnectionInfo = {
      connectionId: this.#deps.newConnectionId(),
      creationTime: now,
      data: params.data,
      userName: params.userName,
      userIdentity: params.userIdentity,
      role: params.role,
      isHost: becomesHost,
      isManager: hostRole && !becomesHost,
    };
    const idleMins = params.idleTimeoutMins ?? null;
    const p = new Participant({
      connectionId: info.connectionId,
      resumeToken: this.#deps.newResumeToken(),
      info,
      joinOrder: this.#joinCounter++,
      idleTimeoutMins: idleMins,
      sink: params.sink,
      limits: this.#deps.replayLimits,
    });

    const changed: (keyof SessionState)[] = [];
    if (setPasscode !== null) {
      this.#passcode = setPasscode;
      changed.push('hasPasscode');
    }
    if (hostRole) this.#hostRoleJoined = true;
    if (becomesHost) {
      this.#hostId = p.connectionId;
      changed.push('hostId');
      if (idleMins !== null) this.#idleTimeoutMins = idleMins;
    }

    if (this.#pendingKind === 'destroyed') this.flushPending();
    const othersJson = '[' + this.#allJson() + ']';
    this.#participants.set(p.connectionId, p);
    const all = this.#listJson as string;
    this.#listJson = all === '' ? p.infoJson : all + ',' + p.infoJson;
    this.#queueCreated(p);
    if (changed.length > 0 && this.#participants.size > 1) this.#sessionUpdated(changed, undefined, p);

    this.#write(this.#deps.store.putParticipant(this.id, { info: { ...info }, joinOrder: p.joinOrder, idleTimeoutMins: idleMins }));
    if (changed.length > 0 || hostRole)
      this.#write(
        this.#deps.store.updateSession(this.id, {
          passcode: this.#passcode,
          hostId: this.#hostId,
          hostRoleJoined: this.#hostRoleJoined,
          idleTimeoutMins: this.#idleTimeoutMins,
        }),
      );
    this.#checkIdle();
    this.#log.debug({ connectionId: p.connectionId, role: p.role, isHost: p.isHost }, 'joined');
    return { participant: p, othersJson };
  }

  /**
   * A connection leaves for good. It gets nothing more; everyone else gets
   * `connectionDestroyed`. `closeCode` closes its sink if still attached.
   */
  leave(p: Participant, reason: ConnectionDestroyedReason, closeCode: number = CloseCode.Normal): void {
    if (p.closed || this.#participants.get(p.connectionId) !== p) return;
    // Announce p (if its connectionCreated is still pending) before announcing its departure.
    if (this.#pendingKind === 'created') this.flushPending();
    const sink = p.sink;
    p.release();
    sink?.close(closeCode, reason);
    this.#participants.delete(p.connectionId);
    this.#listJson = null;
    this.#deps.onParticipantGone(p);
    this.#write(this.#deps.store.removeParticipant(this.id, p.connectionId));
    this.#log.debug({ connectionId: p.connectionId, reason }, 'left');
    if (this.#participants.size === 0) {
      this.#end('empty');
      return;
    }
    this.#queueDestroyed(p.connectionId, reason);
    if (this.#hostId === p.connectionId) this.#promoteHost();
    this.#checkIdle();
    this.#drainOverflow();
  }

  /** End this connection from the server side: it is told why and may not resume. */
  terminate(p: Participant, reason: 'forceDisconnected' | 'networkDisconnected', message?: string): void {
    if (p.closed) return;
    this.flushPending();
    p.push(tailOf({ type: 'disconnected', reason, message }));
    this.leave(p, reason, CloseCode.Terminated);
  }

  /** Whether `p` may end the session for everyone. */
  canEnd(p: Participant): boolean {
    return p.capabilities.canEndSession;
  }

  /**
   * End the session: everyone but `by` gets `disconnected` with the reason and
   * is closed; `by` (who asked, and was already answered) is closed normally.
   */
  end(reason: 'sessionEnded' | 'idleTimeout', by?: Participant): void {
    this.#end(reason, by);
  }

  /**
   * Send a signal. `from` null means the server (REST). Reaches everyone,
   * the sender included, or one connection (queued if it is away).
   */
  signal(from: Participant | null, to: string | undefined, signalType: string | undefined, data: string | undefined): void {
    const err = validateSignal(signalType, data);
    if (err) throw RtcError.from(err);
    let target: Participant | undefined;
    if (to !== undefined) {
      target = this.#participants.get(to);
      if (!target) throw new RtcError('OT_NOT_FOUND', ErrorCode.SignalNotFound, `Connection ${to.slice(0, 64)} is not connected to the session`);
    }
    this.flushPending();
    const tail = tailOf({ type: 'signal', from: from ? from.connectionId : null, signalType: signalType ?? '', data: data ?? '' });
    if (target) this.#sendTo(target, tail);
    else this.#broadcast(tail);
    this.#drainOverflow();
  }

  /**
   * Remove a connection (`actor` null = server). Needs canForceDisconnect
   * (OT_PERMISSION_DENIED, 1530); only the host may remove the host.
   */
  forceDisconnect(actor: Participant | null, targetId: string): void {
    if (actor && actor.connectionId !== targetId) {
      if (!actor.capabilities.canForceDisconnect)
        throw RtcError.permissionDenied('This connection is not allowed to force other connections to disconnect', ErrorCode.ForceDisconnectDenied);
    }
    const target = this.#participants.get(targetId);
    if (!target) throw RtcError.notFound(`Connection ${targetId.slice(0, 64)} is not connected to the session`);
    if (actor && actor !== target && target.isHost && !actor.isHost)
      throw RtcError.permissionDenied('Only the host may remove the host', ErrorCode.ForceDisconnectDenied);
    this.terminate(target, 'forceDisconnected');
  }

  /** Host and manager actions from the sessions guide. Throws RtcError when denied; a denied action changes nothing. */
  moderate(actor: Participant, action: ModerationAction, targetId: string | undefined, userName: string | undefined): void {
    const caps = actor.capabilities;
    const deny = (what: string): never => {
      throw RtcError.permissionDenied(`This connection is not allowed to ${what}`);
    };
    const needTarget = (): Participant => {
      if (targetId === undefined) throw RtcError.invalidParameter(`${action} needs a target connectionId`);
      const t = this.#participants.get(targetId);
      if (!t) throw RtcError.notFound(`Connection ${targetId.slice(0, 64)} is not connected to the session`);
      return t;
    };
    switch (action) {
      case 'rename': {
        if (!caps.canRename && targetId !== actor.connectionId) deny('rename other users');
        const t = needTarget();
        if (userName === undefined) throw RtcError.invalidParameter('rename needs a userName');
        this.#setStanding(t, { userName: normalizeUserName(userName) }, ['userName'], actor);
        return;
      }
      case 'makeHost': {
        if (!caps.canMakeHost) deny('transfer the host role');
        const t = needTarget();
        if (t === actor) return;
        this.flushPending();
        this.#hostId = t.connectionId;
        this.#setStanding(actor, { isHost: false, isManager: false }, ['isHost', 'isManager'], actor);
        this.#setStanding(t, { isHost: true, isManager: false }, ['isHost', 'isManager'], actor);
        this.#sessionUpdated(['hostId'], actor.connectionId);
        this.#write(this.#deps.store.updateSession(this.id, { hostId: this.#hostId }));
        this.#checkIdle();
        return;
      }
      case 'makeManager':
      case 'revokeManager': {
        if (!caps.canManageManagers) deny(action === 'makeManager' ? 'make managers' : 'revoke managers');
        const t = needTarget();
        if (t.isHost) throw RtcError.invalidParameter('The host cannot be made or revoked as a manager');
        const want = action === 'makeManager';
        if (t.isManager !== want) this.#setStanding(t, { isManager: want }, ['isManager'], actor);
        return;
      }
      case 'lockShare':
      case 'unlockShare': {
        if (!caps.canLockShare) deny('lock screen sharing');
        const want = action === 'lockShare';
        if (this.#shareLocked === want) return;
        this.#shareLocked = want;
        this.#sessionUpdated(['shareLocked'], actor.connectionId);
        this.#write(this.#deps.store.updateSession(this.id, { shareLocked: want }));
        return;
      }
      case 'muteAudio':
      case 'requestUnmute': {
        if (!caps.canMuteUser) deny(action === 'muteAudio' ? 'mute other users' : 'ask other users to unmute');
        const t = needTarget();
        this.flushPending();
        this.#sendTo(t, tailOf({ type: 'muteRequest', action, by: actor.connectionId }));
        this.#drainOverflow();
        return;
      }
    }
  }

  /** Send every coalesced connection event now. */
  flushPending(): void {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    const kind = this.#pendingKind;
    this.#pendingKind = null;
    if (kind === 'created') {
      const members = this.#pendingCreated.filter((m) => !m.closed);
      this.#pendingCreated = [];
      if (members.length === 0) return;
      const entries = members.map((m) => m.infoJson);
      const index = new Map<Participant, number>();
      members.forEach((m, i) => index.set(m, i));
      const full = '"type":"connectionCreated","connections":[' + entries.join(',') + ']}';
      for (const p of this.#participants.values()) {
        const i = index.get(p);
        if (i === undefined) this.#sendTo(p, full);
        else if (i < entries.length - 1) this.#sendTo(p, '"type":"connectionCreated","connections":[' + entries.slice(i + 1).join(',') + ']}');
      }
    } else if (kind === 'destroyed') {
      const list = this.#pendingDestroyed;
      this.#pendingDestroyed = [];
      if (list.length === 0) return;
      this.#broadcast(tailOf({ type: 'connectionDestroyed', connections: list }));
    }
    this.#drainOverflow();
  }

  /** Stop timers without notifying anyone (server shutdown). */
  dispose(): void {
    this.#clearTimers();
    this.#ended = true;
  }

  // -------------------------------------------------------------------------

  #queueCreated(p: Participant): void {
    this.#pendingKind = 'created';
    this.#pendingCreated.push(p);
    this.#scheduleFlush();
  }

  #queueDestroyed(connectionId: string, reason: ConnectionDestroyedReason): void {
    this.#pendingKind = 'destroyed';
    this.#pendingDestroyed.push({ connectionId, reason });
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#participants.size < this.#deps.coalesceAt) this.flushPending();
    else if (!this.#flushTimer) this.#flushTimer = setTimeout(() => this.flushPending(), this.#deps.coalesceIntervalMs);
  }

  #sendTo(p: Participant, tail: string): void {
    if (!p.push(tail)) this.#overflowed.add(p);
  }

  #broadcast(tail: string, except?: Participant): void {
    for (const p of this.#participants.values()) if (p !== except) this.#sendTo(p, tail);
  }

  /** Connections whose replay buffer overflowed (not acking, or away too long) are dropped. */
  #drainOverflow(): void {
    while (this.#overflowed.size > 0) {
      const [p] = this.#overflowed;
      this.#overflowed.delete(p as Participant);
      if (!p || p.closed) continue;
      this.#log.warn({ connectionId: p.connectionId, pending: p.pending }, 'replay buffer overflow: dropping connection');
      this.leave(p, 'networkDisconnected', CloseCode.Terminated);
    }
  }

  #sessionUpdated(changed: (keyof SessionState)[], by?: string, except?: Participant): void {
    this.flushPending();
    this.#broadcast(tailOf({ type: 'sessionUpdated', session: this.state, changed, by }), except);
    this.#drainOverflow();
  }

  /** Change a connection's name or standing: everyone sees connectionUpdated, the connection its new capabilities. */
  #setStanding(
    p: Participant,
    patch: Partial<Pick<ConnectionInfo, 'userName' | 'isHost' | 'isManager'>>,
    changed: ('userName' | 'isHost' | 'isManager')[],
    by?: Participant,
  ): void {
    this.flushPending();
    const before = p.capabilities;
    p.update(patch);
    this.#listJson = null;
    this.#broadcast(tailOf({ type: 'connectionUpdated', connection: p.info, changed, by: by?.connectionId }));
    const after = p.capabilities;
    if (JSON.stringify(before) !== JSON.stringify(after)) this.#sendTo(p, tailOf({ type: 'capabilities', capabilities: after }));
    this.#write(this.#deps.store.putParticipant(this.id, { info: { ...p.info }, joinOrder: p.joinOrder, idleTimeoutMins: p.idleTimeoutMins }));
    this.#drainOverflow();
  }

  /** The host left without ending: the earliest manager takes over, or nobody holds it until a host-role joiner arrives. */
  #promoteHost(): void {
    let next: Participant | undefined;
    for (const p of this.#participants.values()) if (p.isManager && (!next || p.joinOrder < next.joinOrder)) next = p;
    this.#hostId = next ? next.connectionId : null;
    if (next) this.#setStanding(next, { isHost: true, isManager: false }, ['isHost', 'isManager']);
    this.#sessionUpdated(['hostId']);
    this.#write(this.#deps.store.updateSession(this.id, { hostId: this.#hostId }));
  }

  /** The idle timer runs while the host is the only connection. */
  #checkIdle(): void {
    const alone = this.#participants.size === 1 && this.#hostId !== null && this.#participants.has(this.#hostId);
    if (!alone) {
      if (this.#idleTimer) {
        clearTimeout(this.#idleTimer);
        this.#idleTimer = null;
      }
      return;
    }
    if (this.#idleTimer) return;
    const host = this.#participants.get(this.#hostId as string) as Participant;
    const mins = host.idleTimeoutMins ?? this.#idleTimeoutMins ?? this.#deps.defaultIdleTimeoutMins;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      this.#log.info({ mins }, 'idle timeout: host alone');
      this.#end('idleTimeout');
    }, mins * 60_000);
  }

  #clearTimers(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#idleTimer = null;
    this.#flushTimer = null;
  }

  #end(reason: SessionEndReason, by?: Participant): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#clearTimers();
    this.#pendingCreated = [];
    this.#pendingDestroyed = [];
    this.#pendingKind = null;
    const everyone = [...this.#participants.values()];
    this.#participants.clear();
    this.#listJson = '';
    for (const p of everyone) {
      const sink = p.sink;
      if (p === by) {
        p.release();
        sink?.close(CloseCode.Normal, 'left');
      } else {
        if (reason !== 'empty') p.push(tailOf({ type: 'disconnected', reason }));
        p.release();
        sink?.close(CloseCode.Terminated, reason);
      }
      this.#deps.onParticipantGone(p);
    }
    this.#log.info({ reason }, 'session ended');
    this.#deps.onEnded(this);
  }

  #write(op: Promise<void>): void {
    op.catch((err: unknown) => this.#log.error({ err }, 'session store write failed'));
  }
}
