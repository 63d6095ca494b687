import { capabilitiesFor, type Capabilities, type ConnectionInfo, type Role } from '@convene/protocol';
import type { Stream, Subscription } from './Stream.js';

/**
 * Where a participant's frames go while its socket is attached. The rtc layer
 * knows nothing about sockets; the service layer implements this.
 */
export interface FrameSink {
  send(frame: string): void;
  /** Close the transport (after the frames already sent). */
  close(code: number, reason: string): void;
}

/** Bounds of one participant's replay buffer. */
export interface ReplayLimits {
  maxFrames: number;
  maxBytes: number;
}

/** Prefix a shared frame tail with this recipient's envelope and sequence number. */
export function frame(q: number, tail: string): string {
  return '{"v":1,"q":' + q + ',' + tail;
}

/**
 * The tail of a frame: its JSON without the opening brace, so that one
 * serialisation serves every recipient (`frame(q, tail)`).
 */
export function tailOf(body: object): string {
  return JSON.stringify(body).slice(1);
}

/**
 * One connection in a session. Owns its sequence numbers and its replay
 * buffer of unacknowledged frames (shared tails, never per-recipient copies),
 * and the sink its frames currently go to. Kept lean: thousands per session.
 */
export class Participant {
  readonly connectionId: string;
  readonly resumeToken: string;
  readonly info: ConnectionInfo;
  readonly joinOrder: number;
  readonly idleTimeoutMins: number | null;
  /** Highest request id processed (for dedupe across resumes). */
  lastRequestId = 0;
  /** ms since epoch the sink was lost; 0 while attached. */
  awaySince = 0;
  closed = false;
  /** Streams this connection publishes, by streamId. */
  readonly streams = new Map<string, Stream>();
  /** This connection's subscriptions, by subscriberId. */
  readonly subscriptions = new Map<string, Subscription>();

  #sink: FrameSink | null;
  #seq = 0;
  /** q of #tails[#head]. */
  #base = 1;
  #tails: string[] = [];
  #head = 0;
  #bytes = 0;
  #infoJson: string | null = null;
  readonly #limits: ReplayLimits;

  constructor(init: {
    connectionId: string;
    resumeToken: string;
    info: ConnectionInfo;
    joinOrder: number;
    idleTimeoutMins: number | null;
    sink: FrameSink | null;
    limits: ReplayLimits;
  }) {
    this.connectionId = init.connectionId;
    this.resumeToken = init.resumeToken;
    this.info = init.info;
    this.joinOrder = init.joinOrder;
    this.idleTimeoutMins = init.idleTimeoutMins;
    this.#sink = init.sink;
    this.#limits = init.limits;
  }

  get role(): Role {
    return this.info.role;
  }

  get isHost(): boolean {
    return this.info.isHost;
  }

  get isManager(): boolean {
    return this.info.isManager;
  }

  get capabilities(): Capabilities {
    return capabilitiesFor(this.info);
  }

  get sink(): FrameSink | null {
    return this.#sink;
  }

  /** Highest sequence number assigned. */
  get seq(): number {
    return this.#seq;
  }

  /** Frames and bytes awaiting acknowledgement. */
  get pending(): { frames: number; bytes: number } {
    return { frames: this.#tails.length - this.#head, bytes: this.#bytes };
  }

  /** The connection info as JSON, cached until it changes. */
  get infoJson(): string {
    return (this.#infoJson ??= JSON.stringify(this.info));
  }

  /** Change visible fields of the connection info. */
  update(patch: Partial<Pick<ConnectionInfo, 'userName' | 'isHost' | 'isManager'>>): void {
    Object.assign(this.info, patch);
    this.#infoJson = null;
  }

  /**
   * Sequence a frame tail, keep it for replay and send it if attached.
   * Over the buffer's bounds, an attached participant (one that does not ack)
   * loses its oldest frames, so a later resume from before them fails cleanly;
   * an away one cannot be served exactly once any more: returns false.
   */
  push(tail: string): boolean {
    const q = ++this.#seq;
    this.#tails.push(tail);
    this.#bytes += tail.length;
    if (this.#sink) {
      this.#sink.send(frame(q, tail));
      while (this.#overLimits()) this.ack(this.#base);
      return true;
    }
    return !this.#overLimits();
  }

  #overLimits(): boolean {
    return this.#tails.length - this.#head > this.#limits.maxFrames || this.#bytes > this.#limits.maxBytes;
  }

  /** The client has processed every frame up to `seq`: drop them from the replay buffer. */
  ack(seq: number): void {
    const upTo = Math.min(seq, this.#seq);
    if (upTo < this.#base) return;
    const n = upTo - this.#base + 1;
    for (let i = this.#head; i < this.#head + n; i++) this.#bytes -= (this.#tails[i] as string).length;
    this.#head += n;
    this.#base = upTo + 1;
    if (this.#head === this.#tails.length) {
      this.#tails = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#tails.length) {
      this.#tails = this.#tails.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Whether a resume from `lastSeq` can be served exactly once. */
  canReplayFrom(lastSeq: number): boolean {
    return lastSeq >= this.#base - 1 && lastSeq <= this.#seq;
  }

  /**
   * Attach a new sink: acknowledge up to `lastSeq`, then send every frame after
   * it, in order. Call canReplayFrom first.
   */
  attach(sink: FrameSink, lastSeq: number): void {
    this.ack(lastSeq);
    this.#sink = sink;
    this.awaySince = 0;
    for (let i = this.#head, q = this.#base; i < this.#tails.length; i++, q++) sink.send(frame(q, this.#tails[i] as string));
  }

  /** The sink went away; keep buffering until resume or expiry. */
  detach(now: number): void {
    this.#sink = null;
    this.awaySince = now;
  }

  /** Stop sending; drop buffered frames. */
  release(): void {
    this.closed = true;
    this.#sink = null;
    this.#tails = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
