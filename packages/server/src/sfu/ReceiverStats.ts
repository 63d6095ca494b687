import type { ReportBlock } from './rtcp.js';
import { seqDiff } from './rtp.js';

/**
 * Receiver statistics of one inbound RTP stream (RFC 3550 §6.4.1, appendix A.1, A.3, A.8): extended highest
 * sequence number, cumulative and fractional loss, interarrival jitter and the LSR/DLSR echo of the sender's SR.
 */
export class ReceiverStats {
  /** Packets received (duplicates included, as RFC 3550 counts them). */
  received = 0;
  readonly #clockRate: number;
  #started = false;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #jitter = 0;
  #lastTransit = 0;
  #haveTransit = false;
  #lsr = 0;
  #lsrAtMs = -1;

  /** `clockRate` of the stream's RTP timestamps. */
  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /**
   * Records a packet (seq, RTP timestamp) that arrived at monotonic time `arrivalMs`. A retransmission counts as
   * received but stays out of the jitter estimate (its transit time includes the repair round trip).
   */
  onPacket(seq: number, rtpTs: number, arrivalMs: number, retransmission = false): void {
    this.received++;
    if (!this.#started) {
      this.#started = true;
      this.#baseSeq = seq;
      this.#maxSeq = seq;
    } else {
      const d = seqDiff(seq, this.#maxSeq);
      if (d > 0) {
        if (seq < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = seq;
      }
    }
    if (retransmission) return;
    // A.8: transit time in timestamp units; jitter is its smoothed absolute difference.
    const arrival = Math.floor((arrivalMs * this.#clockRate) / 1000);
    const transit = (arrival - rtpTs) | 0;
    if (this.#haveTransit) {
      const d = Math.abs((transit - this.#lastTransit) | 0);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastTransit = transit;
    this.#haveTransit = true;
  }

  /** Records the sender report (NTP middle 32 bits) received at `arrivalMs`, for LSR/DLSR. */
  onSenderReport(ntpMiddle32: number, arrivalMs: number): void {
    this.#lsr = ntpMiddle32;
    this.#lsrAtMs = arrivalMs;
  }

  /** Extended highest sequence number received. */
  get extendedHighestSeq(): number {
    return (this.#cycles + this.#maxSeq) >>> 0;
  }

  /** Packets expected minus packets received since the first packet (may be negative with duplicates). */
  get cumulativeLost(): number {
    return this.#started ? this.#expected() - this.received : 0;
  }

  /** Interarrival jitter in timestamp units. */
  get jitter(): number {
    return Math.floor(this.#jitter);
  }

  /** True once a packet was received. */
  get started(): boolean {
    return this.#started;
  }

  /** Fills a report block for `ssrc` and starts a new fraction-lost interval. */
  fillReportBlock(block: ReportBlock, ssrc: number, nowMs: number): void {
    const expected = this.#expected();
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    block.ssrc = ssrc;
    block.fractionLost = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    block.cumulativeLost = expected - this.received;
    block.highestSeq = this.extendedHighestSeq;
    block.jitter = this.jitter;
    block.lsr = this.#lsrAtMs < 0 ? 0 : this.#lsr;
    block.dlsr = this.#lsrAtMs < 0 ? 0 : Math.floor(((nowMs - this.#lsrAtMs) * 65536) / 1000) >>> 0;
  }

  #expected(): number {
    return this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }
}
