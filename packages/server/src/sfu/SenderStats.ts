import type { SenderInfo } from './rtcp.js';
import { ntpFraction, ntpMiddle, ntpSeconds, wallMs } from './ntp.js';

/**
 * Send-side statistics of one outbound RTP stream, to build its sender reports (RFC 3550 §6.4.1): packet and
 * octet counts and the NTP ↔ RTP timestamp mapping. The mapping comes from the source's own SR when known
 * (so a subscriber can lip-sync audio and video) and otherwise from the last packet sent.
 */
export class SenderStats {
  /** Packets sent. */
  packetCount = 0;
  /** Payload octets sent. */
  octetCount = 0;
  readonly #clockRate: number;
  #lastTs = 0;
  #lastSentMs = -1;
  #lastSrNtpMiddle = 0;
  #lastSrAtMs = -1;

  /** `clockRate` of the stream's RTP timestamps. */
  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /** Records a packet sent at monotonic `nowMs` with output timestamp `ts` and `payloadBytes` of payload. */
  onPacketSent(ts: number, payloadBytes: number, nowMs: number): void {
    this.packetCount = (this.packetCount + 1) >>> 0;
    this.octetCount = (this.octetCount + payloadBytes) >>> 0;
    this.#lastTs = ts;
    this.#lastSentMs = nowMs;
  }

  /** True once a packet was sent (an SR before that has no meaningful mapping). */
  get active(): boolean {
    return this.#lastSentMs >= 0;
  }

  /**
   * Fills `info` for an SR at monotonic `nowMs`. `rtpNow` is the output RTP timestamp that corresponds to now
   * when the caller knows it from the source's SR; pass -1 to extrapolate from the last packet sent.
   */
  fillSenderInfo(info: SenderInfo, nowMs: number, rtpNow: number): void {
    const wall = wallMs(nowMs);
    info.ntpSec = ntpSeconds(wall);
    info.ntpFrac = ntpFraction(wall);
    info.rtpTimestamp =
      rtpNow >= 0 ? rtpNow >>> 0 : (this.#lastTs + Math.round(((nowMs - this.#lastSentMs) * this.#clockRate) / 1000)) >>> 0;
    info.packetCount = this.packetCount;
    info.octetCount = this.octetCount;
    this.#lastSrNtpMiddle = ntpMiddle(info.ntpSec, info.ntpFrac);
    this.#lastSrAtMs = nowMs;
  }

  /**
   * Round-trip time in ms from a receiver's report block on this stream (RFC 3550 §6.4.1: A − LSR − DLSR),
   * or -1 when the block does not echo our last SR.
   */
  rttFromReport(lsr: number, dlsr: number, nowMs: number): number {
    if (lsr === 0 || lsr !== this.#lastSrNtpMiddle || this.#lastSrAtMs < 0) return -1;
    const elapsed = nowMs - this.#lastSrAtMs; // A − LSR in ms, on our monotonic clock
    const rtt = elapsed - (dlsr * 1000) / 65536;
    return rtt >= 0 ? rtt : 0;
  }
}
