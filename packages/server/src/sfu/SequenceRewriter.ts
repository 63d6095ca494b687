import { seqDiff } from './rtp.js';

/** Packets further behind the newest than this are dropped rather than forwarded late. */
const MAX_BACKWARD = 1000;
/** A forward jump larger than this within one source is treated as a restart and re-based (no giant gap). */
const MAX_FORWARD = 3000;

/**
 * Maps one outbound stream's source sequence numbers and timestamps to a continuous output space.
 *
 * Each source segment (a publisher, a simulcast layer, the stream after a pause) gets an offset so that its
 * first packet follows the last one sent: the subscriber sees no sequence gap (which would trigger a NACK storm
 * for packets that never existed) and a timestamp that advances by the wall-clock time between the two.
 * Works modulo 2^16 for sequence numbers and 2^32 for timestamps. Allocation-free; results in {@link seq}/{@link ts}.
 */
export class SequenceRewriter {
  /** Output sequence number of the last {@link rewrite} that returned true. */
  seq = 0;
  /** Output timestamp of the last {@link rewrite} that returned true. */
  ts = 0;
  readonly #clockRate: number;
  #started = false;
  #newSegment = true;
  #source = -1;
  #seqOffset = 0;
  #tsOffset = 0;
  #highestIn = 0;
  #segStartIn = 0;
  #segStartOut = 0;
  #lastOutSeq = 0;
  #lastOutTs = 0;
  #lastOutAtMs = 0;

  /** `clockRate` of the RTP timestamps (90000 video, 48000 Opus). */
  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /** Makes the next packet start a new segment (layer switch, publisher change, resume after pause). */
  switchSource(): void {
    this.#newSegment = true;
  }

  /**
   * Maps a source packet. Returns false when the packet must be dropped (older than the current segment or too
   * far behind); otherwise {@link seq} and {@link ts} hold the output values. `source` identifies the source
   * (e.g. its SSRC): a change starts a new segment by itself.
   */
  rewrite(source: number, seq: number, ts: number, nowMs: number): boolean {
    if (source !== this.#source) {
      this.#source = source;
      this.#newSegment = true;
    }
    if (!this.#newSegment) {
      const d = seqDiff(seq, this.#highestIn);
      if (d > MAX_FORWARD) {
        this.#newSegment = true;
      } else if (d > 0) {
        this.#highestIn = seq;
      } else if (-d > MAX_BACKWARD || seqDiff(seq, this.#segStartIn) < 0) {
        return false;
      }
    }
    if (this.#newSegment) {
      this.#newSegment = false;
      if (!this.#started) {
        this.#started = true;
        this.#seqOffset = 0;
        this.#tsOffset = 0;
      } else {
        const outSeq = (this.#lastOutSeq + 1) & 0xffff;
        const elapsed = Math.max(1, Math.round(((nowMs - this.#lastOutAtMs) * this.#clockRate) / 1000));
        const outTs = (this.#lastOutTs + elapsed) >>> 0;
        this.#seqOffset = (outSeq - seq) & 0xffff;
        this.#tsOffset = (outTs - ts) >>> 0;
      }
      this.#highestIn = seq;
      this.#segStartIn = seq;
      this.#segStartOut = (seq + this.#seqOffset) & 0xffff;
    }
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTs = (ts + this.#tsOffset) >>> 0;
    if (seqDiff(outSeq, this.#lastOutSeq) > 0 || outSeq === this.#segStartOut) {
      this.#lastOutSeq = outSeq;
      this.#lastOutTs = outTs;
      this.#lastOutAtMs = nowMs;
    }
    this.seq = outSeq;
    this.ts = outTs;
    return true;
  }

  /** Source sequence number of output `outSeq` when it belongs to the current segment, else -1 (for NACKs). */
  toSourceSeq(outSeq: number): number {
    if (!this.#started) return -1;
    if (seqDiff(outSeq, this.#segStartOut) < 0 || seqDiff(outSeq, this.#lastOutSeq) > 0) return -1;
    return (outSeq - this.#seqOffset) & 0xffff;
  }

  /** Output timestamp of source timestamp `ts` in the current segment. */
  mapTimestamp(ts: number): number {
    return (ts + this.#tsOffset) >>> 0;
  }

  /** True once a packet has been mapped. */
  get started(): boolean {
    return this.#started;
  }
}
