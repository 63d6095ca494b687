import { seqDiff } from './rtp.js';

/** Options of {@link NackGenerator}. */
export interface NackGeneratorOptions {
  /** How many times one packet is asked for. */
  maxRetries?: number;
  /** Stop asking for a packet this long after its loss was detected. */
  maxAgeMs?: number;
  /** A gap larger than this is not NACKed: the caller should ask for a keyframe instead. */
  maxGap?: number;
  /** Minimum spacing between two NACKs of the same packet when no RTT is known. */
  defaultRttMs?: number;
}

const WINDOW = 1024;

/**
 * Tracks one inbound stream's sequence numbers, detects gaps and says which packets to NACK, when.
 * A packet is asked for again at most every RTT (retransmissions need a round trip), up to `maxRetries` times,
 * and never once older than `maxAgeMs` (by then the jitter buffer has moved on). State lives in fixed arrays.
 */
export class NackGenerator {
  /** Packets found missing (gaps detected), cumulative. */
  lost = 0;
  /** Missing packets that arrived later (retransmitted or reordered), cumulative. */
  recovered = 0;
  /** NACK entries emitted (one per sequence number per retry), cumulative. */
  requested = 0;
  readonly #maxRetries: number;
  readonly #maxAgeMs: number;
  readonly #maxGap: number;
  readonly #defaultRttMs: number;
  readonly #missing = new Uint8Array(WINDOW);
  readonly #seqAt = new Int32Array(WINDOW).fill(-1);
  readonly #detectedAt = new Float64Array(WINDOW);
  readonly #sentAt = new Float64Array(WINDOW);
  readonly #retries = new Uint8Array(WINDOW);
  #missingCount = 0;
  #started = false;
  #highest = 0;

  constructor(options: NackGeneratorOptions = {}) {
    this.#maxRetries = options.maxRetries ?? 10;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
    this.#maxGap = Math.min(options.maxGap ?? 256, WINDOW / 2);
    this.#defaultRttMs = options.defaultRttMs ?? 100;
  }

  /** Number of packets currently awaited. */
  get missingCount(): number {
    return this.#missingCount;
  }

  /**
   * Records an arrival. Returns true when a gap too large to repair was skipped (ask for a keyframe).
   */
  onPacket(seq: number, nowMs: number): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#highest = seq;
      return false;
    }
    const d = seqDiff(seq, this.#highest);
    if (d > 0) {
      let skipped = false;
      if (d - 1 > this.#maxGap) {
        this.#reset();
        skipped = true;
      } else {
        for (let k = 1; k < d; k++) {
          const s = (this.#highest + k) & 0xffff;
          const i = s & (WINDOW - 1);
          if (this.#missing[i] === 1) this.#missingCount--; // a stale entry from a full window ago
          this.#missing[i] = 1;
          this.#seqAt[i] = s;
          this.#detectedAt[i] = nowMs;
          this.#sentAt[i] = -Infinity;
          this.#retries[i] = 0;
          this.#missingCount++;
          this.lost++;
        }
      }
      // This slot may hold an old missing entry; the packet is here now.
      const j = seq & (WINDOW - 1);
      if (this.#missing[j] === 1) {
        this.#missing[j] = 0;
        this.#missingCount--;
      }
      this.#highest = seq;
      return skipped;
    }
    const i = seq & (WINDOW - 1);
    if (this.#missing[i] === 1 && this.#seqAt[i] === seq) {
      this.#missing[i] = 0;
      this.#missingCount--;
      this.recovered++;
    }
    return false;
  }

  /**
   * Writes into `out` the sequence numbers to NACK now (oldest first) and returns how many; marks them sent.
   * Forgets packets past their age or retry limit.
   */
  collect(nowMs: number, rttMs: number, out: Uint16Array | number[]): number {
    if (this.#missingCount === 0) return 0;
    const spacing = rttMs > 0 ? rttMs : this.#defaultRttMs;
    let n = 0;
    // Walk from the oldest possible slot to the newest, in sequence order.
    for (let k = WINDOW - 1; k >= 1 && n < out.length; k--) {
      const s = (this.#highest - k) & 0xffff;
      const i = s & (WINDOW - 1);
      if (this.#missing[i] !== 1 || this.#seqAt[i] !== s) continue;
      if (nowMs - this.#detectedAt[i]! > this.#maxAgeMs || this.#retries[i]! >= this.#maxRetries) {
        this.#missing[i] = 0;
        this.#missingCount--;
        continue;
      }
      if (nowMs - this.#sentAt[i]! < spacing) continue;
      this.#sentAt[i] = nowMs;
      this.#retries[i] = this.#retries[i]! + 1;
      out[n++] = s;
    }
    this.requested += n;
    return n;
  }

  #reset(): void {
    this.#missing.fill(0);
    this.#missingCount = 0;
  }
}
