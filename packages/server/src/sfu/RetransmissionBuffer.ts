import { rtpSeq } from './rtp.js';

/**
 * Copies of one published track's recent packets, indexed by their original sequence number, to answer every
 * subscriber's NACKs. One per track (not per subscriber): memory is `slots × slotSize`, allocated once.
 */
export class RetransmissionBuffer {
  readonly #slab: Buffer;
  readonly #slotSize: number;
  readonly #mask: number;
  readonly #lens: Uint16Array;
  readonly #seqs: Int32Array;
  readonly #times: Float64Array;
  readonly #maxAgeMs: number;

  /** `slots` must be a power of two; packets larger than `slotSize` are not kept. */
  constructor(slots = 1024, slotSize = 1500, maxAgeMs = 1000) {
    if (slots <= 0 || (slots & (slots - 1)) !== 0) throw new TypeError('slots must be a power of two');
    this.#slab = Buffer.alloc(slots * slotSize);
    this.#slotSize = slotSize;
    this.#mask = slots - 1;
    this.#lens = new Uint16Array(slots);
    this.#seqs = new Int32Array(slots).fill(-1);
    this.#times = new Float64Array(slots);
    this.#maxAgeMs = maxAgeMs;
  }

  /** Stores a copy of the packet (`len` bytes of `buf`) received at `nowMs`. */
  store(buf: Buffer, len: number, nowMs: number): void {
    const seq = rtpSeq(buf);
    const i = seq & this.#mask;
    if (len > this.#slotSize) {
      this.#seqs[i] = -1;
      return;
    }
    buf.copy(this.#slab, i * this.#slotSize, 0, len); // no view object: this runs for every packet
    this.#lens[i] = len;
    this.#seqs[i] = seq;
    this.#times[i] = nowMs;
  }

  /**
   * Copies packet `seq` into `dst` at `dstOff` and returns its length, or -1 when it is not held (overwritten,
   * never received, or older than the age limit).
   */
  copyTo(seq: number, nowMs: number, dst: Uint8Array, dstOff: number): number {
    const i = seq & this.#mask;
    if (this.#seqs[i] !== seq || nowMs - this.#times[i]! > this.#maxAgeMs) return -1;
    const len = this.#lens[i]!;
    const from = i * this.#slotSize;
    this.#slab.copy(dst, dstOff, from, from + len);
    return len;
  }

  /** True when packet `seq` is held and young enough. */
  has(seq: number, nowMs: number): boolean {
    const i = seq & this.#mask;
    return this.#seqs[i] === seq && nowMs - this.#times[i]! <= this.#maxAgeMs;
  }

  /** Forgets every packet (e.g. when the publisher restarts its stream). */
  clear(): void {
    this.#seqs.fill(-1);
  }
}
