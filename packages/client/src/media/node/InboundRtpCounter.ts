import type { ReportBlock } from './rtcp.js';
import { decodeAbsCaptureTime, findHeaderExtension, parseRtpPacket, wallClockMs, type RtpPacketView } from './rtp.js';
import { parseVp8Payload } from './vp8Rtp.js';

/** What a receiver measured on one incoming track. */
export interface InboundRtpStats {
  kind: 'audio' | 'video';
  mid: string;
  /** SSRC of the last media packet (null before the first). */
  ssrc: number | null;
  payloadType: number | null;
  packetsReceived: number;
  /** RTP bytes received (headers included), duplicates excluded. */
  bytesReceived: number;
  payloadBytesReceived: number;
  /** Expected minus received, from the sequence numbers (RFC 3550 A.3); negative never. */
  packetsLost: number;
  packetsDuplicated: number;
  /** Packets that arrived after a later sequence number (reordered or retransmitted). */
  packetsOutOfOrder: number;
  /** Video: frames completed (marker bit); audio: packets. */
  framesReceived: number;
  keyframesReceived: number;
  /** Last key frame's dimensions (video). */
  frameWidth: number | null;
  frameHeight: number | null;
  /** Bit rate over the last complete one-second window, in bit/s. */
  bitrate: number;
  /** Interarrival jitter (RFC 3550 A.8) in ms. */
  jitterMs: number;
  /** Average bit rate since the first packet, in bit/s. */
  averageBitrate: number;
  /** End-to-end latency from abs-capture-time (sender clock → our clock), in ms; null without samples. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  latencyMaxMs: number | null;
  latencySamples: number;
  /** ms since epoch of the first and last media packet, and of the first key frame (video). */
  firstPacketAt: number | null;
  firstKeyframeAt: number | null;
  lastPacketAt: number | null;
  /** NACKs we sent for gaps, and packets named in them. */
  nacksSent: number;
  plisSent: number;
}

const LATENCY_RESERVOIR = 4096;
const SEQ_WINDOW = 2048;

/**
 * Counts what arrives on one track: packets, bytes, loss from sequence gaps, frames (marker
 * bit), VP8 key frames (S bit, PID 0, P bit of the frame tag), bitrate, and end-to-end latency
 * from the abs-capture-time extension. Allocation per packet: none beyond the parse view.
 */
export class InboundRtpCounter {
  readonly kind: 'audio' | 'video';
  readonly mid: string;
  /** Media payload types accepted (others — RTX, padding probes, FEC — are ignored). */
  readonly payloadTypes: ReadonlySet<number> | null;
  /** abs-capture-time extension id, when negotiated. */
  absCaptureTimeId: number | null;

  #ssrc: number | null = null;
  #pt: number | null = null;
  #packets = 0;
  #bytes = 0;
  #payloadBytes = 0;
  #dups = 0;
  #ooo = 0;
  #frames = 0;
  #keyframes = 0;
  #width: number | null = null;
  #height: number | null = null;
  #baseSeq = -1; // extended
  #maxSeq = -1; // extended
  readonly #seenSeq = new Int32Array(SEQ_WINDOW).fill(-1);
  #windowStart = 0;
  #windowBytes = 0;
  #bitrate = 0;
  #first: number | null = null;
  #last: number | null = null;
  #firstKeyframe: number | null = null;
  readonly #latency = new Float64Array(LATENCY_RESERVOIR);
  #latencyCount = 0;
  #latencyMax = -Infinity;
  nacksSent = 0;
  plisSent = 0;

  readonly clockRate: number;
  // RFC 3550 A.8 jitter, and the state of the previous receiver report (A.3).
  #jitter = 0;
  #prevTransit: number | null = null;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #lastSrMiddle = 0;
  #lastSrArrival = 0;

  constructor(kind: 'audio' | 'video', mid: string, opts: { payloadTypes?: Iterable<number>; absCaptureTimeId?: number | null; clockRate?: number } = {}) {
    this.kind = kind;
    this.mid = mid;
    this.clockRate = opts.clockRate ?? (kind === 'video' ? 90_000 : 48_000);
    this.payloadTypes = opts.payloadTypes ? new Set(opts.payloadTypes) : null;
    this.absCaptureTimeId = opts.absCaptureTimeId ?? null;
  }

  /**
   * Accounts one incoming RTP packet; returns the extended sequence numbers found missing just
   * now (for NACK), or null when the packet was not counted (RTCP, foreign payload type, duplicate).
   */
  onPacket(buf: Uint8Array, now = wallClockMs()): number[] | null {
    const pt7 = (buf[1] ?? 0) & 0x7f;
    if (pt7 >= 64 && pt7 <= 95) return null; // RTCP (RFC 5761)
    const pkt = parseRtpPacket(buf);
    if (pkt === null || (this.payloadTypes !== null && !this.payloadTypes.has(pkt.payloadType))) return null;
    if (pkt.payload.length === 0) return null; // padding-only probe
    if (this.#ssrc !== null && pkt.ssrc !== this.#ssrc) {
      // New sender (e.g. the SFU switched source): restart sequence accounting.
      this.#baseSeq = -1;
      this.#maxSeq = -1;
      this.#seenSeq.fill(-1);
    }
    this.#ssrc = pkt.ssrc;
    this.#pt = pkt.payloadType;
    const missing = this.#trackSequence(pkt.sequenceNumber);
    if (missing === null) {
      this.#dups++;
      return null;
    }
    this.#packets++;
    this.#bytes += buf.length;
    this.#payloadBytes += pkt.payload.length;
    this.#first ??= now;
    this.#last = now;
    if (now - this.#windowStart >= 1000) {
      if (this.#windowStart > 0) this.#bitrate = (this.#windowBytes * 8 * 1000) / (now - this.#windowStart);
      this.#windowStart = now;
      this.#windowBytes = 0;
    }
    this.#windowBytes += buf.length;
    if (missing.length > 0 || this.#maxSeq === this.#extOf(pkt.sequenceNumber)) {
      // Jitter only from in-order packets (a retransmission's transit time is not the path's).
      const transit = (now * this.clockRate) / 1000 - pkt.timestamp;
      if (this.#prevTransit !== null) {
        let d = Math.abs(transit - this.#prevTransit);
        if (d > 2 ** 31) d = Math.abs(d - 2 ** 32); // timestamp wrap
        this.#jitter += (d - this.#jitter) / 16;
      }
      this.#prevTransit = transit;
    }
    if (this.kind === 'video') this.#onVideo(pkt, now);
    else this.#frames++;
    if (this.absCaptureTimeId !== null) {
      const ext = findHeaderExtension(buf, pkt, this.absCaptureTimeId);
      const sent = ext ? decodeAbsCaptureTime(ext) : null;
      if (sent !== null) this.#addLatency(now - sent);
    }
    return missing;
  }

  /** SSRC of the last media packet (null before the first); cheaper than `stats()`. */
  get ssrc(): number | null {
    return this.#ssrc;
  }

  /** Notes a sender report from this track's sender (for LSR/DLSR in our reports). */
  onSenderReport(ntpMiddle32: number, now = wallClockMs()): void {
    this.#lastSrMiddle = ntpMiddle32 >>> 0;
    this.#lastSrArrival = now;
  }

  /** The report block for our next receiver report (null before the first packet). */
  reportBlock(now = wallClockMs()): ReportBlock | null {
    if (this.#ssrc === null || this.#maxSeq < 0) return null;
    const expected = this.#maxSeq - this.#baseSeq + 1;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#packets - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#packets;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: this.#ssrc,
      fractionLost: expectedInterval > 0 && lostInterval > 0 ? Math.min(255, Math.floor((lostInterval * 256) / expectedInterval)) : 0,
      cumulativeLost: expected - this.#packets,
      highestSeq: (this.#maxSeq - 0x10000) >>> 0,
      jitter: this.#jitter,
      lastSr: this.#lastSrMiddle,
      delaySinceLastSr: this.#lastSrArrival > 0 ? Math.round(((now - this.#lastSrArrival) / 1000) * 65536) : 0,
    };
  }

  /** A snapshot of the counters. */
  stats(now = wallClockMs()): InboundRtpStats {
    const expected = this.#maxSeq < 0 ? 0 : this.#maxSeq - this.#baseSeq + 1;
    const n = Math.min(this.#latencyCount, LATENCY_RESERVOIR);
    let p50: number | null = null;
    let p99: number | null = null;
    if (n > 0) {
      const sorted = this.#latency.slice(0, n).sort();
      p50 = sorted[Math.min(n - 1, Math.floor(0.5 * n))] ?? null;
      p99 = sorted[Math.min(n - 1, Math.floor(0.99 * n))] ?? null;
    }
    const span = this.#first !== null && this.#last !== null ? this.#last - this.#first : 0;
    return {
      kind: this.kind,
      mid: this.mid,
      ssrc: this.#ssrc,
      payloadType: this.#pt,
      packetsReceived: this.#packets,
      bytesReceived: this.#bytes,
      payloadBytesReceived: this.#payloadBytes,
      packetsLost: Math.max(0, expected - this.#packets),
      packetsDuplicated: this.#dups,
      packetsOutOfOrder: this.#ooo,
      framesReceived: this.#frames,
      keyframesReceived: this.#keyframes,
      frameWidth: this.#width,
      frameHeight: this.#height,
      // A stream that stopped has no current bit rate.
      bitrate: this.#last !== null && now - this.#last < 2000 ? Math.round(this.#bitrate) : 0,
      jitterMs: (this.#jitter * 1000) / this.clockRate,
      averageBitrate: span > 0 ? Math.round((this.#bytes * 8 * 1000) / span) : 0,
      latencyP50Ms: p50,
      latencyP99Ms: p99,
      latencyMaxMs: this.#latencyCount > 0 ? this.#latencyMax : null,
      latencySamples: this.#latencyCount,
      firstPacketAt: this.#first,
      firstKeyframeAt: this.#firstKeyframe,
      lastPacketAt: this.#last,
      nacksSent: this.nacksSent,
      plisSent: this.plisSent,
    };
  }

  #extOf(seq: number): number {
    let d = (seq - (this.#maxSeq & 0xffff)) & 0xffff;
    if (d >= 0x8000) d -= 0x10000;
    return this.#maxSeq + d;
  }

  /** Returns the newly missing extended sequence numbers, [] if none, null for a duplicate. */
  #trackSequence(seq: number): number[] | null {
    let ext: number;
    if (this.#maxSeq < 0) {
      ext = seq + 0x10000; // start in cycle 1 so reordered packets never go negative
      this.#baseSeq = ext;
      this.#maxSeq = ext;
    } else {
      const cur = this.#maxSeq & 0xffff;
      let d = (seq - cur) & 0xffff;
      if (d >= 0x8000) d -= 0x10000;
      ext = this.#maxSeq + d;
      if (ext < this.#baseSeq - SEQ_WINDOW) return null; // ancient: treat as duplicate
    }
    const slot = ext % SEQ_WINDOW;
    if (this.#seenSeq[slot] === ext) return null;
    this.#seenSeq[slot] = ext;
    const missing: number[] = [];
    if (ext > this.#maxSeq) {
      for (let s = this.#maxSeq + 1; s < ext && missing.length < 256; s++) missing.push(s & 0xffff);
      this.#maxSeq = ext;
    } else if (ext < this.#maxSeq) {
      this.#ooo++;
      if (ext < this.#baseSeq) this.#baseSeq = ext;
    }
    return missing;
  }

  #onVideo(pkt: RtpPacketView, now: number): void {
    const info = parseVp8Payload(pkt.payload);
    if (info?.frameStart && info.keyframe) {
      this.#keyframes++;
      this.#firstKeyframe ??= now;
      if (info.width !== null) this.#width = info.width;
      if (info.height !== null) this.#height = info.height;
    }
    if (pkt.marker) this.#frames++;
  }

  #addLatency(ms: number): void {
    // Reservoir sampling keeps percentiles representative of the whole run in bounded memory.
    const i = this.#latencyCount++;
    if (i < LATENCY_RESERVOIR) this.#latency[i] = ms;
    else {
      const j = Math.floor(Math.random() * (i + 1));
      if (j < LATENCY_RESERVOIR) this.#latency[j] = ms;
    }
    if (ms > this.#latencyMax) this.#latencyMax = ms;
  }
}
