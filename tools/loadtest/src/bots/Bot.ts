import type { BotError, BotErrorKind, BotPlan, BotSnapshot, ReceivedTrack, SentTrack } from '../types.js';

/** A failure already recorded in the bot's errors (so callers do not record it twice). */
export class BotFailure extends Error {
  constructor(
    readonly kind: BotErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What every bot does, whatever server it talks to: join within a time limit, keep its errors,
 * pause and resume its sources (publishers), report its counters, close idempotently.
 */
export abstract class Bot {
  readonly plan: BotPlan;
  readonly tracksExpected: number;
  joined = false;
  joinMs: number | null = null;
  connected = false;
  readonly subscribeMs: number[] = [];
  readonly errors: BotError[] = [];
  /** Called for every error as it happens. */
  onError: ((e: BotError) => void) | null = null;
  #closed: Promise<void> | null = null;

  constructor(plan: BotPlan, tracksExpected: number) {
    this.plan = plan;
    this.tracksExpected = tracksExpected;
  }

  get id(): string {
    return this.plan.id;
  }

  /** Join (and publish, for a publisher); rejects with a BotFailure after `timeoutMs`. */
  async join(timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const msg = `not joined within ${timeoutMs} ms`;
        this.error('timeout', msg);
        reject(new BotFailure('timeout', msg));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.doJoin(), timeout]);
    } catch (err) {
      if (!(err instanceof BotFailure)) this.error(this.plan.role === 'publisher' ? 'publish' : 'connect', (err as Error).message ?? String(err));
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.joined = true;
    this.joinMs = performance.now() - t0;
    return this.joinMs;
  }

  pause(): void {
    if (this.plan.role === 'publisher') this.doPause();
  }

  resume(): void {
    if (this.plan.role === 'publisher') this.doResume();
  }

  /** Leave and release everything. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.doClose().catch(() => {});
    return this.#closed;
  }

  snapshot(): BotSnapshot {
    return {
      id: this.plan.id,
      role: this.plan.role,
      session: this.plan.session,
      joined: this.joined,
      joinMs: this.joinMs,
      subscribeMs: [...this.subscribeMs],
      sent: this.plan.role === 'publisher' ? this.sent() : [],
      received: this.plan.role === 'subscriber' ? this.received() : [],
      tracksExpected: this.tracksExpected,
      errors: [...this.errors],
      connected: this.connected,
    };
  }

  /** Record an error (and tell the worker). */
  protected error(kind: BotErrorKind, message: string): void {
    const e: BotError = { kind, message, at: Date.now() };
    this.errors.push(e);
    this.onError?.(e);
  }

  protected abstract doJoin(): Promise<void>;
  protected abstract doPause(): void;
  protected abstract doResume(): void;
  protected abstract sent(): SentTrack[];
  protected abstract received(): ReceivedTrack[];
  protected abstract doClose(): Promise<void>;
}

/** Counters of a synthetic source, as `SentTrack` needs them (both SyntheticVideoSource and SyntheticAudioSource have them). */
interface SourceWithStats {
  stats: { packetsSent: number; bytesSent: number; packetsRetransmitted: number; nacksReceived: number; plisReceived: number; keyframesSent: number };
}

/** The `SentTrack` rows of a bot's video and audio sources (absent sources are skipped). */
export function sentTracks(streamId: string, video: SourceWithStats | null | undefined, audio: SourceWithStats | null | undefined): SentTrack[] {
  const out: SentTrack[] = [];
  for (const [kind, src] of [
    ['video', video],
    ['audio', audio],
  ] as const) {
    if (!src) continue;
    const s = src.stats;
    out.push({
      kind,
      streamId,
      packetsSent: s.packetsSent,
      bytesSent: s.bytesSent,
      packetsRetransmitted: s.packetsRetransmitted,
      nacksReceived: s.nacksReceived,
      plisReceived: s.plisReceived,
      keyframesSent: s.keyframesSent,
    });
  }
  return out;
}
