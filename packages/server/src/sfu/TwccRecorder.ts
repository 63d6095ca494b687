import { TwccFeedbackWriter } from './rtcp.js';
import { seqDiff } from './rtp.js';

const RING = 4096;

/**
 * Records when each transport-wide sequence number arrived (µs, monotonic) and turns the records into
 * transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01), the input of the publisher's
 * send-side bandwidth estimator. One per transport: the sequence space spans all its media streams.
 */
export class TwccRecorder {
  /** Feedback packets built, cumulative. */
  feedbackCount = 0;
  readonly #arrivals = new Float64Array(RING).fill(-1);
  readonly #scratch = new Float64Array(RING);
  readonly #writer = new TwccFeedbackWriter(RING);
  #started = false;
  /** Extended (unwrapped) sequence numbers. */
  #highest = 0;
  #nextToReport = 0;
  #fbPktCount = 0;

  /** Records that transport-wide sequence `seq` arrived at `arrivalUs`. */
  record(seq: number, arrivalUs: number): void {
    if (!this.#started) {
      this.#started = true;
      this.#highest = seq;
      this.#nextToReport = seq;
    }
    const ext = this.#highest + seqDiff(seq, this.#highest & 0xffff);
    if (ext < this.#nextToReport) return; // already reported as lost; too late to matter
    if (ext > this.#highest) {
      for (let s = this.#highest + 1; s < ext && s - this.#highest < RING; s++) this.#arrivals[s & (RING - 1)] = -1;
      this.#highest = ext;
      if (this.#highest - this.#nextToReport >= RING) this.#nextToReport = this.#highest - RING + 1;
    }
    this.#arrivals[ext & (RING - 1)] = arrivalUs;
  }

  /** True when packets arrived since the last feedback. */
  get hasPending(): boolean {
    return this.#started && this.#nextToReport <= this.#highest;
  }

  /**
   * Writes one feedback packet covering unreported arrivals into `buf` at `off` and returns its length
   * (0 when nothing is left). Call again until it returns 0: a feedback stops at 8191 ms deltas or `maxBytes`.
   */
  buildFeedback(buf: Uint8Array, off: number, senderSsrc: number, mediaSsrc: number, maxBytes = 1200): number {
    if (!this.hasPending) return 0;
    const count = this.#highest - this.#nextToReport + 1;
    for (let k = 0; k < count; k++) this.#scratch[k] = this.#arrivals[(this.#nextToReport + k) & (RING - 1)]!;
    const n = this.#writer.write(
      buf,
      off,
      senderSsrc,
      mediaSsrc,
      this.#nextToReport & 0xffff,
      this.#scratch,
      0,
      count,
      this.#fbPktCount,
      maxBytes,
    );
    if (n === 0) {
      // Nothing received in range (all lost): report nothing, move on.
      this.#nextToReport = this.#highest + 1;
      return 0;
    }
    this.#nextToReport += this.#writer.packetsWritten;
    this.#fbPktCount = (this.#fbPktCount + 1) & 0xff;
    this.feedbackCount++;
    return n;
  }
}
