import {
  CloseCode,
  ErrorCode,
  ErrorName,
  limits,
  normalizeUserName,
  validateIdleTimeoutMins,
  validatePasscode,
  validateSignal,
  type ConnectionDestroyedReason,
  type ConnectionInfo,
  type MediaMode,
  type ModerationAction,
  type PeerCandidate,
  type PeerDescription,
  type Role,
  type PublishResult,
  type SessionState,
  type SessionSummary,
  type StreamDestroyedReason,
  type StreamInfo,
  type StreamProperty,
  type SubscribeResult,
  type VideoType,
} from '@convene/protocol';
import type { Logger } from '../util/log.js';
import type { SessionStore } from '../store/SessionStore.js';
import { RtcError } from './errors.js';
import type { MediaPlane, MediaPublisher, MediaRoom, MediaSubscriber } from './MediaPlane.js';
import { Participant, tailOf, type FrameSink, type ReplayLimits } from './Participant.js';
import { RelayedPublisher, RelayedSubscriber } from './relayed.js';
import { Stream, Subscription } from './Stream.js';

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
  /** Ids of streams and subscriptions. */
  newMediaId(): string;
  /** The media plane, or null when this server runs without media (routed publish/subscribe then fail). */
  media: MediaPlane | null;
  /** `relayed`: media flows peer to peer and the session only relays signaling. Default `routed`. */
  mediaMode?: MediaMode;
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

/** How long a publisher's new peer connection may take to connect before a move is given up. */
const MOVE_TIMEOUT_MS = 20_000;

const PASSCODE_REJECTED = 'The session passcode is missing or incorrect';

/** A validated publish request (see PublishRequest in @convene/protocol). */
export interface PublishParams {
  /** Routed sessions. */
  sdp?: string;
  /** Relayed sessions: the tracks the publisher can send. */
  tracks?: { audio: boolean; video: boolean };
  /** Routed sessions: move this stream of the caller's to the offer's peer connection. */
  replaceStreamId?: string;
  name?: string;
  hasAudio?: boolean;
  hasVideo?: boolean;
  videoType?: VideoType;
  videoDimensions?: { width: number; height: number };
  frameRate?: number;
}

/** A validated subscribe request. */
export interface SubscribeParams {
  streamId: string;
  /** Routed sessions; absent in relayed ones. */
  sdp?: string;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number } | null;
  preferredFrameRate?: number | null;
}

/** A validated subscription update. */
export interface SubscriptionUpdate {
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number } | null;
  preferredFrameRate?: number | null;
}

/** A validated stream update from its publisher. */
export interface StreamUpdate {
  hasAudio?: boolean;
  hasVideo?: boolean;
  videoDimensions?: { width: number; height: number };
  videoType?: VideoType;
}

/**
 * One session: its participants, roles, moderation, signals and lifecycle.
 * Knows nothing about sockets: frames go to each participant's FrameSink.
 */
export class Session {
  readonly id: string;
  readonly createdAt: number;
  /** How this session carries media (fixed for its lifetime). */
  readonly mediaMode: MediaMode;

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
  readonly #streams = new Map<string, Stream>();
  #room: MediaRoom | null = null;
  /** Relayed sessions: every live subscription by id (either end may send it peerSignal). */
  readonly #relayedSubs = new Map<string, Subscription>();
  /** Everyone's info JSON, comma-joined in join order (null = rebuild): a join storm appends instead of re-serialising n entries per join. */
  #listJson: string | null = '';

  constructor(id: string, createdAt: number, deps: SessionDeps) {
    this.id = id;
    this.createdAt = createdAt;
    this.mediaMode = deps.mediaMode ?? 'routed';
    this.#deps = deps;
    this.#log = deps.log.child({ sessionId: id });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Publishers may simulcast: a routed session on a media plane that serves it (the connect result says so). */
  get simulcast(): boolean {
    return this.mediaMode === 'routed' && this.#deps.media?.simulcast === true;
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
  join(params: JoinParams, now: number): { participant: Participant; othersJson: string; streamsJson: string } {
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
    return { participant: p, othersJson, streamsJson: this.streamsJson() };
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
    this.#releaseMedia(p, reason);
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
        // muteAudio is enforced (the SFU stops forwarding the target's audio); requestUnmute only asks.
        if (action === 'muteAudio') for (const st of t.streams.values()) if (st.media.hasAudioTrack) this.#forceMute(st);
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
    this.#closeAllMedia();
  }


  // Media ---------------------------------------------------------------------

  /** Number of published streams. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** A stream by id. */
  stream(streamId: string): Stream | undefined {
    return this.#streams.get(streamId);
  }

  /** Every stream's info, in publish order. */
  streamInfos(): StreamInfo[] {
    return [...this.#streams.values()].map((st) => st.info);
  }

  /** The streams as a JSON array (for the join result). */
  streamsJson(): string {
    return this.#streams.size === 0 ? '[]' : JSON.stringify(this.streamInfos());
  }

  /**
   * Publish a stream: needs canPublish (1500); `videoType: 'screen'` while sharing is locked needs the host
   * (1500). The SFU answers the offer; everyone else gets streamCreated. While force-mute is active the
   * stream starts with audio muted.
   */
  async publish(p: Participant, req: PublishParams): Promise<PublishResult> {
    this.#assertMember(p);
    if (req.replaceStreamId !== undefined) return this.#movePublisher(p, req.replaceStreamId, req.sdp);
    if (!p.capabilities.canPublish) throw RtcError.permissionDenied('This connection is not allowed to publish', ErrorCode.PublishPermissionDenied);
    this.#checkShareLock(p, req.videoType);
    if (p.streams.size >= limits.maxStreamsPerConnection)
      throw new RtcError(ErrorName.LimitExceeded, ErrorCode.LimitExceeded, `A connection may publish at most ${limits.maxStreamsPerConnection} streams`);
    let stream: Stream | null = null;
    let pub: MediaPublisher;
    if (this.mediaMode === 'relayed') {
      if (req.sdp !== undefined) throw RtcError.invalidParameter('This session is relayed (peer to peer): publish carries tracks, not an SDP offer');
      if (!req.tracks) throw RtcError.invalidParameter('This session is relayed (peer to peer): publish needs tracks { audio, video }');
      pub = new RelayedPublisher(req.tracks);
    } else {
      if (req.sdp === undefined) throw RtcError.invalidParameter('publish needs an SDP offer (sdp) in a routed session');
      const room = this.#mediaRoom();
      try {
        pub = await room.publish(req.sdp, (why) => {
          if (stream?.moving) stream.endedWhileMoving = true;
          else if (stream && !stream.closed) {
            this.#log.info({ streamId: stream.id, why }, 'publisher transport ended');
            this.#destroyStream(stream, 'networkDisconnected');
            this.#drainOverflow();
          }
        });
      } catch (err) {
        throw mediaError(err, 'publish');
      }
    }
    if (p.closed || this.#ended || this.#participants.get(p.connectionId) !== p) {
      pub.close();
      throw RtcError.invalidState('The connection left the session while publishing');
    }
    if (!pub.hasAudioTrack && !pub.hasVideoTrack) {
      pub.close();
      throw RtcError.invalidParameter(
        this.mediaMode === 'relayed' ? 'publish.tracks has neither audio nor video' : 'The offer has no audio or video track the server can receive (VP8 or Opus, with a=ssrc or simulcast rids)',
      );
    }
    try {
      this.#checkShareLock(p, req.videoType); // the lock may have changed while the SFU answered
    } catch (err) {
      pub.close();
      throw err;
    }
    const audioMuted = this.#forceMuteActive && pub.hasAudioTrack;
    const info: StreamInfo = {
      streamId: this.#deps.newMediaId(),
      connectionId: p.connectionId,
      name: req.name ?? '',
      hasAudio: pub.hasAudioTrack && (req.hasAudio ?? true) && !audioMuted,
      hasVideo: pub.hasVideoTrack && (req.hasVideo ?? true),
      videoType: pub.hasVideoTrack ? (req.videoType ?? 'camera') : null,
      videoDimensions: pub.hasVideoTrack && req.videoDimensions ? { ...req.videoDimensions } : null,
      frameRate: pub.hasVideoTrack ? (req.frameRate ?? null) : null,
      creationTime: Date.now(),
    };
    stream = new Stream(p, info, pub);
    if (pub.hasAudioTrack && !info.hasAudio) {
      pub.setAudioForwarding(false);
      stream.audioPaused = true;
    }
    this.#streams.set(stream.id, stream);
    p.streams.set(stream.id, stream);
    this.flushPending();
    this.#broadcast(tailOf({ type: 'streamCreated', stream: info }), p);
    this.#drainOverflow();
    this.#log.debug({ streamId: stream.id, connectionId: p.connectionId, audio: pub.hasAudioTrack, video: pub.hasVideoTrack }, 'stream published');
    return { stream: info, sdp: this.mediaMode === 'relayed' ? null : pub.answer, audioMuted };
  }

  /**
   * Move `p`'s stream to the peer connection `sdp` comes from (make-before-break; see `replaceStreamId` in
   * @convene/protocol). The answer goes back now; `publisherMoved` follows when the move is done or failed.
   */
  async #movePublisher(p: Participant, streamId: string, sdp: string | undefined): Promise<PublishResult> {
    const st = p.streams.get(streamId);
    if (!st) throw RtcError.notFound(`Stream ${streamId.slice(0, 64)} is not published by this connection`);
    if (this.mediaMode === 'relayed') throw RtcError.invalidState('A relayed stream has no server transport to move');
    if (sdp === undefined) throw RtcError.invalidParameter('publish with replaceStreamId needs an SDP offer');
    if (st.moving) throw RtcError.invalidState('This stream is already moving to a new peer connection');
    st.moving = true;
    st.endedWhileMoving = false;
    const done = (moved: boolean): void => {
      st.moving = false;
      if (st.closed) return;
      if (!moved && st.endedWhileMoving) {
        this.#destroyStream(st, 'networkDisconnected');
        this.#drainOverflow();
        return;
      }
      if (!p.closed) this.#sendTo(p, tailOf({ type: 'publisherMoved', streamId: st.id, moved }));
      this.#drainOverflow();
    };
    let next: MediaPublisher;
    try {
      next = await this.#mediaRoom().replacePublisher(
        sdp,
        st.media,
        {
          moved: () => {
            st.media = next;
            done(true);
          },
          failed: () => done(false),
          ended: (why) => {
            if (st.media !== next || st.closed) return;
            if (st.moving) st.endedWhileMoving = true;
            else {
              this.#log.info({ streamId: st.id, why }, 'publisher transport ended');
              this.#destroyStream(st, 'networkDisconnected');
              this.#drainOverflow();
            }
          },
        },
        MOVE_TIMEOUT_MS,
      );
    } catch (err) {
      st.moving = false;
      throw mediaError(err, 'publish');
    }
    if (st.closed) {
      next.close();
      throw RtcError.notFound(`Stream ${streamId.slice(0, 64)} was destroyed while moving`);
    }
    if (next.hasAudioTrack) next.setAudioForwarding(!st.audioPaused);
    return { stream: st.info, sdp: next.answer, audioMuted: st.audioPaused && next.hasAudioTrack };
  }

  /** The publisher stops a stream of its own (reason `unpublished`, or `mediaStopped` when capture ended). */
  unpublish(p: Participant, streamId: string, reason: 'unpublished' | 'mediaStopped' = 'unpublished'): void {
    const st = p.streams.get(streamId);
    if (!st) throw RtcError.notFound(`Stream ${streamId.slice(0, 64)} is not published by this connection`);
    this.#destroyStream(st, reason);
    this.#drainOverflow();
  }

  /** Subscribe `p` to a stream: the SFU answers the subscriber's offer. */
  async subscribe(p: Participant, req: SubscribeParams): Promise<SubscribeResult> {
    this.#assertMember(p);
    if (!p.capabilities.canSubscribe) throw RtcError.permissionDenied('This connection is not allowed to subscribe');
    const st = this.#streams.get(req.streamId);
    if (!st) throw RtcError.notFound(`Stream ${req.streamId.slice(0, 64)} is not published in this session`);
    if (p.subscriptions.size >= limits.maxSubscriptionsPerConnection)
      throw new RtcError(ErrorName.LimitExceeded, ErrorCode.LimitExceeded, `A connection may hold at most ${limits.maxSubscriptionsPerConnection} subscriptions`);
    const subscriberId = this.#deps.newMediaId();
    const audio = req.subscribeToAudio ?? true;
    const video = req.subscribeToVideo ?? true;
    if (this.mediaMode === 'relayed') return this.#subscribeRelayed(p, st, subscriberId, audio, video, req);
    if (req.sdp === undefined) throw RtcError.invalidParameter('subscribe needs an SDP offer (sdp) in a routed session');
    const room = this.#mediaRoom();
    let sub: Subscription | null = null;
    let media: MediaSubscriber;
    try {
      media = await room.subscribe(
        req.sdp,
        st.media,
        {
          audio,
          video,
          subscriberConnectionId: p.connectionId,
          streamId: st.id,
          subscriberId,
          preferredResolution: req.preferredResolution ?? null,
          preferredFrameRate: req.preferredFrameRate ?? null,
        },
        (why) => {
          if (sub && !sub.closed) {
            this.#log.info({ subscriberId, why }, 'subscriber transport ended');
            this.#closeSubscription(sub);
          }
        },
      );
    } catch (err) {
      throw mediaError(err, 'subscribe');
    }
    if (p.closed || this.#ended || this.#participants.get(p.connectionId) !== p) {
      media.close();
      throw RtcError.invalidState('The connection left the session while subscribing');
    }
    if (st.closed) {
      media.close();
      throw RtcError.notFound(`Stream ${req.streamId.slice(0, 64)} was destroyed while subscribing`);
    }
    sub = this.#addSubscription(p, st, subscriberId, media, audio, video, req);
    return { subscriberId, sdp: media.answer, audioMid: media.audioMid, videoMid: media.videoMid };
  }

  #addSubscription(p: Participant, st: Stream, id: string, media: MediaSubscriber, audio: boolean, video: boolean, req: SubscribeParams): Subscription {
    const sub = new Subscription({
      id,
      owner: p,
      stream: st,
      media,
      audio,
      video,
      preferredResolution: req.preferredResolution ?? null,
      preferredFrameRate: req.preferredFrameRate ?? null,
    });
    st.subscriptions.add(sub);
    p.subscriptions.set(sub.id, sub);
    return sub;
  }

  /** Relayed: register the subscription and ask the publisher's client to offer (`peerSubscribe`). */
  #subscribeRelayed(p: Participant, st: Stream, subscriberId: string, audio: boolean, video: boolean, req: SubscribeParams): SubscribeResult {
    if (req.sdp !== undefined) throw RtcError.invalidParameter('This session is relayed (peer to peer): subscribe carries no SDP offer (the publisher offers)');
    const owner = st.owner;
    const media = new RelayedSubscriber({
      update: (change) => {
        if (!owner.closed) this.#sendTo(owner, tailOf({ type: 'peerUpdate', subscriberId, ...change }));
      },
      closed: () => {
        this.#relayedSubs.delete(subscriberId);
        if (!owner.closed && !st.closed) this.#sendTo(owner, tailOf({ type: 'peerClosed', subscriberId, streamId: st.id }));
      },
    });
    const sub = this.#addSubscription(p, st, subscriberId, media, audio, video, req);
    this.#relayedSubs.set(subscriberId, sub);
    this.#sendTo(owner, tailOf({ type: 'peerSubscribe', subscriberId, streamId: st.id, connectionId: p.connectionId, subscribeToAudio: audio, subscribeToVideo: video }));
    this.#drainOverflow();
    return { subscriberId, sdp: null, audioMid: null, videoMid: null };
  }

  /**
   * Relayed: pass a description or candidate to the other end of subscription `subscriberId`. `p` must be
   * its subscriber or its stream's publisher (otherwise 404, as for a subscription that does not exist).
   */
  peerSignal(p: Participant, subscriberId: string, signal: { description?: PeerDescription; candidate?: PeerCandidate }): void {
    this.#assertMember(p);
    if (this.mediaMode !== 'relayed') throw RtcError.invalidState('peerSignal is for relayed sessions; this one is routed through the server');
    const sub = this.#relayedSubs.get(subscriberId);
    const to = sub?.owner === p ? sub.stream.owner : sub?.stream.owner === p ? sub.owner : undefined;
    if (!sub || !to || sub.closed) throw RtcError.notFound(`Subscription ${subscriberId.slice(0, 64)} does not exist`);
    this.#sendTo(to, tailOf({ type: 'peerSignal', subscriberId, streamId: sub.stream.id, ...signal }));
    this.#drainOverflow();
  }

  /** End one of `p`'s subscriptions. */
  unsubscribe(p: Participant, subscriberId: string): void {
    const sub = p.subscriptions.get(subscriberId);
    if (!sub) throw RtcError.notFound(`Subscription ${subscriberId.slice(0, 64)} does not exist`);
    this.#closeSubscription(sub);
  }

  /** Change what one of `p`'s subscriptions receives. */
  updateSubscription(p: Participant, subscriberId: string, u: SubscriptionUpdate): void {
    const sub = p.subscriptions.get(subscriberId);
    if (!sub) throw RtcError.notFound(`Subscription ${subscriberId.slice(0, 64)} does not exist`);
    if (u.subscribeToAudio !== undefined && u.subscribeToAudio !== sub.audio) {
      sub.audio = u.subscribeToAudio;
      sub.media.setAudio(sub.audio);
    }
    if (u.subscribeToVideo !== undefined && u.subscribeToVideo !== sub.video) {
      sub.video = u.subscribeToVideo;
      sub.media.setVideo(sub.video);
    }
    const resolution = u.preferredResolution !== undefined ? u.preferredResolution : sub.preferredResolution;
    const frameRate = u.preferredFrameRate !== undefined ? u.preferredFrameRate : sub.preferredFrameRate;
    const sameResolution = resolution?.width === sub.preferredResolution?.width && resolution?.height === sub.preferredResolution?.height;
    if (sameResolution && frameRate === sub.preferredFrameRate) return;
    sub.preferredResolution = resolution;
    sub.preferredFrameRate = frameRate;
    sub.media.setPreferredLayers(resolution, frameRate);
  }

  /** A trickled ICE candidate for one of `p`'s peer connections (a stream or a subscription of its own). */
  addCandidate(p: Participant, target: string, candidate: string, mid: string): void {
    const media = p.streams.get(target)?.media ?? p.subscriptions.get(target)?.media;
    if (!media) throw RtcError.notFound(`No stream or subscription ${target.slice(0, 64)} of this connection`);
    try {
      media.addCandidate(candidate, mid);
    } catch (err) {
      throw mediaError(err, 'candidate');
    }
  }

  /** The publisher changed its stream: everyone gets one streamPropertyChanged per changed property. */
  updateStream(p: Participant, streamId: string, u: StreamUpdate): void {
    const st = p.streams.get(streamId);
    if (!st) throw RtcError.notFound(`Stream ${streamId.slice(0, 64)} is not published by this connection`);
    if (u.videoType !== undefined && u.videoType !== st.info.videoType) this.#checkShareLock(p, u.videoType);
    const changes: { changedProperty: StreamProperty; oldValue: unknown; newValue: unknown }[] = [];
    const info = st.info;
    if (u.hasAudio !== undefined && st.media.hasAudioTrack) {
      if (u.hasAudio !== info.hasAudio) {
        changes.push({ changedProperty: 'hasAudio', oldValue: info.hasAudio, newValue: u.hasAudio });
        info.hasAudio = u.hasAudio;
      }
      // Forward audio exactly while the publisher says it sends some (an unmute also lifts a force mute).
      if (st.audioPaused === u.hasAudio) {
        st.audioPaused = !u.hasAudio;
        st.media.setAudioForwarding(u.hasAudio);
      }
    }
    if (u.hasVideo !== undefined && st.media.hasVideoTrack && u.hasVideo !== info.hasVideo) {
      changes.push({ changedProperty: 'hasVideo', oldValue: info.hasVideo, newValue: u.hasVideo });
      info.hasVideo = u.hasVideo;
    }
    if (u.videoDimensions !== undefined && st.media.hasVideoTrack) {
      const old = info.videoDimensions;
      if (!old || old.width !== u.videoDimensions.width || old.height !== u.videoDimensions.height) {
        const next = { ...u.videoDimensions };
        changes.push({ changedProperty: 'videoDimensions', oldValue: old, newValue: next });
        info.videoDimensions = next;
      }
    }
    if (u.videoType !== undefined && st.media.hasVideoTrack && u.videoType !== info.videoType) {
      changes.push({ changedProperty: 'videoType', oldValue: info.videoType, newValue: u.videoType });
      info.videoType = u.videoType;
    }
    if (changes.length === 0) return;
    this.flushPending();
    for (const c of changes) this.#broadcast(tailOf({ type: 'streamPropertyChanged', streamId: st.id, ...c }));
    this.#drainOverflow();
  }

  /** Stop someone's stream (`actor` null = server): needs canForceUnpublish (1530); unknown stream 1535. */
  forceUnpublish(actor: Participant | null, streamId: string): void {
    if (actor && !actor.capabilities.canForceUnpublish)
      throw RtcError.permissionDenied('This connection is not allowed to force other connections to unpublish', ErrorCode.ForceDisconnectDenied);
    const st = this.#streams.get(streamId);
    if (!st) throw new RtcError('OT_NOT_FOUND', ErrorCode.ForceUnpublishNotFound, `Stream ${streamId.slice(0, 64)} is not publishing to the session`);
    this.#destroyStream(st, 'forceUnpublished');
    this.#drainOverflow();
  }

  /** Mute one stream's audio (`actor` null = server): needs canForceMute (1520). */
  forceMuteStream(actor: Participant | null, streamId: string): void {
    if (actor && !actor.capabilities.canForceMute) throw RtcError.permissionDenied('This connection is not allowed to force other connections to mute');
    const st = this.#streams.get(streamId);
    if (!st) throw RtcError.notFound(`Stream ${streamId.slice(0, 64)} is not publishing to the session`);
    this.flushPending();
    this.#forceMute(st);
    this.#drainOverflow();
  }

  /** Mute every stream but `excluded`, and make new streams start muted until disableForceMute. */
  forceMuteAll(actor: Participant | null, excludedStreamIds: readonly string[]): void {
    if (actor && !actor.capabilities.canForceMute) throw RtcError.permissionDenied('This connection is not allowed to force other connections to mute');
    const excluded = new Set(excludedStreamIds);
    this.flushPending();
    for (const st of this.#streams.values()) if (!excluded.has(st.id)) this.#forceMute(st);
    if (!this.#forceMuteActive) {
      this.#forceMuteActive = true;
      this.#sessionUpdated(['forceMuteActive'], actor?.connectionId);
      this.#write(this.#deps.store.updateSession(this.id, { forceMuteActive: true }));
    }
    this.#broadcast(tailOf({ type: 'muteForced', active: true }));
    this.#drainOverflow();
  }

  /** New streams no longer start muted; everyone gets muteForced { active: false }. Needs canForceMute (1520). */
  disableForceMute(actor: Participant | null): void {
    if (actor && !actor.capabilities.canForceMute) throw RtcError.permissionDenied('This connection is not allowed to change the mute state of the session');
    this.flushPending();
    if (this.#forceMuteActive) {
      this.#forceMuteActive = false;
      this.#sessionUpdated(['forceMuteActive'], actor?.connectionId);
      this.#write(this.#deps.store.updateSession(this.id, { forceMuteActive: false }));
    }
    this.#broadcast(tailOf({ type: 'muteForced', active: false }));
    this.#drainOverflow();
  }

  #assertMember(p: Participant): void {
    if (this.#ended || p.closed || this.#participants.get(p.connectionId) !== p) throw RtcError.invalidState('The connection is not in the session');
  }

  #checkShareLock(p: Participant, videoType: VideoType | undefined): void {
    if (videoType === 'screen' && this.#shareLocked && !p.isHost)
      throw RtcError.permissionDenied('Screen sharing is locked: only the host may share', ErrorCode.PublishPermissionDenied);
  }

  #mediaRoom(): MediaRoom {
    const media = this.#deps.media;
    if (!media) throw RtcError.invalidState('This server runs without media');
    this.#room ??= media.createRoom(this.id);
    return this.#room;
  }

  /** Stop forwarding the stream's audio and tell its publisher to mute. */
  #forceMute(st: Stream): void {
    if (st.media.hasAudioTrack && !st.audioPaused) {
      st.audioPaused = true;
      st.media.setAudioForwarding(false);
    }
    this.#sendTo(st.owner, tailOf({ type: 'muteForced', streamId: st.id }));
  }

  /** Close a stream, its media and its subscriptions; everyone still here gets streamDestroyed. Caller drains. */
  #destroyStream(st: Stream, reason: StreamDestroyedReason): void {
    if (st.closed) return;
    st.closed = true;
    this.#streams.delete(st.id);
    st.owner.streams.delete(st.id);
    for (const sub of [...st.subscriptions]) this.#closeSubscription(sub);
    st.media.close();
    if (this.#ended) return;
    this.flushPending();
    this.#broadcast(tailOf({ type: 'streamDestroyed', streamId: st.id, reason }));
    this.#log.debug({ streamId: st.id, reason }, 'stream destroyed');
  }

  #closeSubscription(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.stream.subscriptions.delete(sub);
    sub.owner.subscriptions.delete(sub.id);
    sub.media.close();
  }

  /** A participant left: its subscriptions end silently, its streams are destroyed for the same reason. */
  #releaseMedia(p: Participant, reason: ConnectionDestroyedReason): void {
    for (const sub of [...p.subscriptions.values()]) this.#closeSubscription(sub);
    for (const st of [...p.streams.values()]) this.#destroyStream(st, reason);
  }

  #closeAllMedia(): void {
    for (const st of [...this.#streams.values()]) {
      st.closed = true;
      for (const sub of st.subscriptions) {
        sub.closed = true;
        sub.owner.subscriptions.delete(sub.id);
      }
      st.subscriptions.clear();
      st.owner.streams.delete(st.id);
    }
    this.#streams.clear();
    this.#relayedSubs.clear();
    this.#room?.close();
    this.#room = null;
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
    this.#closeAllMedia();
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

/** Map a media-plane failure to a wire error: a bad offer is the caller's fault, anything else ours. */
function mediaError(err: unknown, what: string): RtcError {
  if (err instanceof RtcError) return err;
  if (err instanceof TypeError) return RtcError.invalidParameter(`${what}: ${err.message}`);
  const e = new RtcError('OT_UNEXPECTED_SERVER_RESPONSE', ErrorCode.InternalError, `${what} failed in the media server`);
  e.cause = err;
  return e;
}
