import { DEFAULT_ABS_CAPTURE_TIME_ID, encodeAbsCaptureTime, wallClockMs, writeRtpPacket } from './rtp.js';
import { writeSenderReport, type RtcpFeedback } from './rtcp.js';

/** Where a source's packets go (a node-datachannel Track in production, anything in tests). */
export type PacketSink = (packet: Buffer) => void;

/** Counters of one outgoing RTP stream. */
export interface OutboundRtpStats {
  ssrc: number;
  payloadType: number;
  packetsSent: number;
  /** RTP bytes sent (headers included), retransmissions included. */
  bytesSent: number;
  /** Payload bytes of first transmissions. */
  payloadBytesSent: number;
  framesSent: number;
  keyframesSent: number;
  nacksReceived: number;
  packetsRetransmitted: number;
  /** NACKed packets no longer in the retransmission buffer. */
  retransmissionsMissed: number;
  plisReceived: number;
  firsReceived: number;
  /** Last bitrate the receiver asked for with REMB, in bit/s (0 = none seen). */
  rembBitrate: number;
}

/** Options common to the synthetic sources. */
export interface RtpStreamOptions {
  /** SSRC (default: random). */
  ssrc?: number;
  payloadType: number;
  clockRate: number;
  /**
   * One-byte header-extension id of abs-capture-time carrying the send time (null = none).
   * Default {@link DEFAULT_ABS_CAPTURE_TIME_ID}.
   */
  absCaptureTimeId?: number | null;
  /** Packets kept for NACK retransmission (default 512; 0 disables). */
  retransmitBufferSize?: number;
}

/**
 * The RTP side of one outgoing stream: sequence numbers, the send-time extension, a ring buffer
 * answering NACKs, sender reports, and counters. One buffer per stream, not per receiver.
 */
export class RtpStreamSender {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly stats: OutboundRtpStats;
  absCaptureTimeId: number | null;

  #sink: PacketSink | null = null;
  #seq: number;
  readonly #tsBase: number;
  #lastTimestamp = 0;
  #lastSendWall = 0;
  readonly #ring: (Buffer | undefined)[];
  readonly #ringSeq: Int32Array;

  constructor(o: RtpStreamOptions) {
    this.ssrc = (o.ssrc ?? randomUint32()) >>> 0;
    this.payloadType = o.payloadType;
    this.clockRate = o.clockRate;
    this.absCaptureTimeId = o.absCaptureTimeId === undefined ? DEFAULT_ABS_CAPTURE_TIME_ID : o.absCaptureTimeId;
    this.#seq = randomUint32() & 0x7fff;
    this.#tsBase = randomUint32();
    const n = o.retransmitBufferSize ?? 512;
    this.#ring = new Array<Buffer | undefined>(n);
    this.#ringSeq = new Int32Array(n).fill(-1);
    this.stats = {
      ssrc: this.ssrc,
      payloadType: this.payloadType,
      packetsSent: 0,
      bytesSent: 0,
      payloadBytesSent: 0,
      framesSent: 0,
      keyframesSent: 0,
      nacksReceived: 0,
      packetsRetransmitted: 0,
      retransmissionsMissed: 0,
      plisReceived: 0,
      firsReceived: 0,
      rembBitrate: 0,
    };
  }

  /** Connects (or disconnects, with null) the transport. */
  attach(sink: PacketSink | null): void {
    this.#sink = sink;
  }

  /** RTP timestamp for a media time in seconds since the stream started. */
  timestampAt(mediaSeconds: number): number {
    return (this.#tsBase + Math.round(mediaSeconds * this.clockRate)) >>> 0;
  }

  /** Sends one packet (payload already built) and remembers it for retransmission. */
  send(payload: Uint8Array, timestamp: number, marker: boolean, sendTimeMs = wallClockMs()): Buffer {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    const extensions = this.absCaptureTimeId === null ? undefined : [{ id: this.absCaptureTimeId, data: encodeAbsCaptureTime(sendTimeMs) }];
    const pkt = writeRtpPacket({ marker, payloadType: this.payloadType, sequenceNumber: seq, timestamp, ssrc: this.ssrc, extensions }, payload);
    this.#lastTimestamp = timestamp;
    this.#lastSendWall = sendTimeMs;
    if (this.#ring.length > 0) {
      const slot = seq % this.#ring.length;
      this.#ring[slot] = pkt;
      this.#ringSeq[slot] = seq;
    }
    this.stats.packetsSent++;
    this.stats.bytesSent += pkt.length;
    this.stats.payloadBytesSent += payload.length;
    this.#sink?.(pkt);
    return pkt;
  }

  /** Builds and sends a sender report for the current time. */
  sendReport(): void {
    if (this.stats.packetsSent === 0) return;
    // Extrapolate from the last packet, whose timestamp was taken at its send (capture) time.
    const now = wallClockMs();
    const ts = (this.#lastTimestamp + Math.round(((now - this.#lastSendWall) * this.clockRate) / 1000)) >>> 0;
    this.#sink?.(writeSenderReport(this.ssrc, now, ts, this.stats.packetsSent, this.stats.payloadBytesSent));
  }

  /**
   * Handles the RTCP feedback addressed to this stream: answers NACKs from the buffer (same
   * SSRC and sequence number: no RTX) and returns whether a key frame was requested.
   */
  handleFeedback(items: readonly RtcpFeedback[]): boolean {
    let keyframe = false;
    for (const f of items) {
      if (f.kind === 'remb') {
        if (f.ssrcs.length === 0 || f.ssrcs.includes(this.ssrc)) this.stats.rembBitrate = f.bitrate;
        continue;
      }
      if (f.kind === 'rr' || f.kind === 'sr' || f.mediaSsrc !== this.ssrc) continue;
      if (f.kind === 'pli') {
        this.stats.plisReceived++;
        keyframe = true;
      } else if (f.kind === 'fir') {
        this.stats.firsReceived++;
        keyframe = true;
      } else {
        this.stats.nacksReceived++;
        for (const seq of f.lost) this.#retransmit(seq);
      }
    }
    return keyframe;
  }

  #retransmit(seq: number): void {
    const n = this.#ring.length;
    const pkt = n > 0 && this.#ringSeq[seq % n] === seq ? this.#ring[seq % n] : undefined;
    if (!pkt) {
      this.stats.retransmissionsMissed++;
      return;
    }
    this.stats.packetsRetransmitted++;
    this.stats.bytesSent += pkt.length;
    this.#sink?.(pkt);
  }
}

function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}
