import { KeyframeRequester } from './KeyframeRequester.js';
import { NackGenerator } from './NackGenerator.js';
import { ReceiverStats } from './ReceiverStats.js';
import { RetransmissionBuffer } from './RetransmissionBuffer.js';
import { ReportBlock } from './rtcp.js';
import { seqDiff, tsDiff } from './rtp.js';

/** A layer without a first transmission for this long is no longer active (the publisher stopped sending it). */
export const LAYER_TIMEOUT_MS = 1000;
/** The frame rate is measured over windows of at least this length. */
const FRAME_RATE_WINDOW_MS = 1000;

/** A snapshot of one layer's receive statistics. */
export interface ProducerLayerStats {
  /** rid ('' without simulcast). */
  rid: string;
  /** Media SSRC (0 until the first packet names it). */
  ssrc: number;
  /** Frame size of the newest keyframe (0 before one). */
  width: number;
  height: number;
  /** Measured frames per second (0 before a full window). */
  frameRate: number;
  /** True while packets arrive. */
  active: boolean;
  packetsReceived: number;
  packetsLost: number;
  /** Interarrival jitter in seconds. */
  jitter: number;
}

/**
 * One RTP stream of a published track: the only one without simulcast, else one simulcast layer (one rid). Holds
 * everything that is per SSRC: receive statistics, NACK state, the retransmission buffer, keyframe requests
 * (a PLI names the SSRC, so each layer is asked separately), the newest keyframe for new subscribers, the
 * publisher's sender report, and what subscribers choose a layer by: frame size and measured frame rate.
 * Mutable fields are written by the {@link Producer} only.
 */
export class ProducerLayer {
  /** Position in `Producer.layers` (the offer's order: lowest layer first for browsers). */
  readonly index: number;
  /** rid, '' without simulcast. */
  readonly rid: string;
  /** Media SSRC; 0 until known (simulcast layers are learnt from their first packet's rid). */
  ssrc: number;
  /** RTX SSRC; 0 until known, or without RTX. */
  rtxSsrc: number;
  /** The media SSRC before the last restart (0: none): late packets of it are not a new restart. */
  retiredSsrc = 0;
  /** Receive statistics and NACK state of the media SSRC (replaced when the SSRC changes). */
  stats: ReceiverStats;
  nack: NackGenerator;
  /** Packet copies answering subscribers' NACKs (video only). */
  readonly retransmissions: RetransmissionBuffer | undefined;
  readonly keyframes: KeyframeRequester;
  /** Frame size of the newest keyframe (0 before one). */
  width = 0;
  height = 0;
  /** Frames per second over the last measurement window (0 before one). */
  frameRate = 0;
  /** Arrival of the newest first transmission (-Infinity before one). */
  lastPacketMs = -Infinity;
  /** Source sequence number of the first packet of the newest keyframe (-1: none yet), and when it came. */
  keyframeSeq = -1;
  keyframeAtMs = 0;
  /** Highest source sequence number received (-1: none yet). */
  highestSeq = -1;
  /** The publisher's last sender report for this SSRC: its RTP timestamp and our arrival time (-1: none yet). */
  srRtp = 0;
  srAtMs = -1;
  /** @internal Reused for this layer's receiver report block. */
  readonly block = new ReportBlock();
  readonly #clockRate: number;
  #frames = 0;
  #windowStartMs = -1;
  #lastTs = 0;
  #haveTs = false;

  /**
   * `sendKeyframeRequest` writes a PLI (or FIR) for this layer's SSRC, returning false when it cannot yet (see
   * {@link KeyframeRequester}). Non-top simulcast layers carry fewer packets: `slots` sizes their buffer.
   */
  constructor(init: {
    index: number;
    rid: string;
    ssrc: number;
    rtxSsrc: number;
    clockRate: number;
    video: boolean;
    slots: number;
    keyframeIntervalMs: number;
    sendKeyframeRequest: (layer: ProducerLayer, fir: boolean, firSeq: number) => boolean;
  }) {
    this.index = init.index;
    this.rid = init.rid;
    this.ssrc = init.ssrc;
    this.rtxSsrc = init.rtxSsrc;
    this.#clockRate = init.clockRate;
    this.stats = new ReceiverStats(init.clockRate);
    this.nack = new NackGenerator();
    this.retransmissions = init.video ? new RetransmissionBuffer(init.slots, 1500, 1000) : undefined;
    this.keyframes = new KeyframeRequester((fir, seq) => init.sendKeyframeRequest(this, fir, seq), init.keyframeIntervalMs);
  }

  /** True while the publisher sends this layer (a first transmission within {@link LAYER_TIMEOUT_MS}). */
  active(nowMs: number): boolean {
    return nowMs - this.lastPacketMs <= LAYER_TIMEOUT_MS;
  }

  /** Pixels per frame (0 before the first keyframe). */
  get pixels(): number {
    return this.width * this.height;
  }

  /** Current statistics (not a hot path). */
  getStats(nowMs: number): ProducerLayerStats {
    return {
      rid: this.rid,
      ssrc: this.ssrc,
      width: this.width,
      height: this.height,
      frameRate: this.frameRate,
      active: this.active(nowMs),
      packetsReceived: this.stats.received,
      packetsLost: this.stats.cumulativeLost,
      jitter: this.stats.jitter / this.#clockRate,
    };
  }

  /** @internal A first transmission with RTP timestamp `ts` arrived: liveness and frame rate (new timestamp: new frame). */
  _onFirstTransmission(ts: number, nowMs: number): void {
    this.lastPacketMs = nowMs;
    if (this.#windowStartMs < 0 || !this.#haveTs || nowMs - this.#windowStartMs > 4 * FRAME_RATE_WINDOW_MS) {
      // First packet, or the layer resumes after a pause: a fresh window (the old one says nothing now), which
      // counts the frames after this one.
      this.#windowStartMs = nowMs;
      this.#frames = 0;
      this.#haveTs = true;
      this.#lastTs = ts;
      return;
    }
    if (tsDiff(ts, this.#lastTs) > 0) {
      this.#lastTs = ts;
      this.#frames++;
    }
    const elapsed = nowMs - this.#windowStartMs;
    if (elapsed >= FRAME_RATE_WINDOW_MS) {
      this.frameRate = Math.round((this.#frames * 10_000) / elapsed) / 10;
      this.#windowStartMs = nowMs;
      this.#frames = 0;
    }
  }

  /** @internal The publisher's source RTP timestamp at monotonic `nowMs`, from its last sender report, or -1. */
  _sourceRtpAt(nowMs: number): number {
    if (this.srAtMs < 0) return -1;
    return (this.srRtp + Math.round(((nowMs - this.srAtMs) * this.#clockRate) / 1000)) >>> 0;
  }

  /**
   * @internal The newest keyframe and everything received after it, as `[firstSeq, lastSeq]`, when it is at most
   * `maxAgeMs` old, at most `maxPackets` long and every packet of it is still held; else null.
   */
  _heldKeyframe(nowMs: number, maxAgeMs: number, maxPackets: number): [number, number] | null {
    const rtx = this.retransmissions;
    const from = this.keyframeSeq;
    if (!rtx || from < 0 || nowMs - this.keyframeAtMs > maxAgeMs) return null;
    const count = seqDiff(this.highestSeq, from) + 1;
    if (count <= 0 || count > maxPackets) return null;
    for (let i = 0; i < count; i++) if (!rtx.has((from + i) & 0xffff, nowMs)) return null;
    return [from, this.highestSeq];
  }

  /**
   * @internal The publisher sends this rid on a new SSRC (its encoder restarted): a new sequence space, so
   * everything learnt about the old one goes.
   */
  _restart(ssrc: number): void {
    this.retiredSsrc = this.ssrc;
    this.ssrc = ssrc;
    this.rtxSsrc = 0;
    this.stats = new ReceiverStats(this.#clockRate);
    this.nack = new NackGenerator();
    this.retransmissions?.clear();
    this.keyframeSeq = -1;
    this.highestSeq = -1;
    this.srAtMs = -1;
    this.#haveTs = false;
  }
}
