import { TypedEmitter } from '@convene/protocol';
import { RtpStreamSender, type OutboundRtpStats, type PacketSink } from './RtpStreamSender.js';
import { isRtcp, wallClockMs } from './rtp.js';
import { parseRtcp } from './rtcp.js';
import { DEFAULT_MAX_PAYLOAD, packetizeVp8 } from './vp8Rtp.js';
import { Vp8SyntheticEncoder, type Vp8Frame } from './Vp8SyntheticEncoder.js';
import { Vp8GopCache } from './Vp8GopCache.js';

/** Options of {@link SyntheticVideoSource}. */
export interface SyntheticVideoOptions {
  width?: number;
  height?: number;
  /** Frames per second (default 30). */
  fps?: number;
  /** Target bitrate in bit/s (default 600 000); frames are filled with decodable texture to reach it. */
  bitrate?: number;
  /** Interval between periodic key frames in ms (default 5000; 0 = only on request). */
  keyframeIntervalMs?: number;
  /** Minimum spacing of key frames sent on PLI/FIR, in ms (default 250), so a PLI storm costs one. */
  minKeyframeSpacingMs?: number;
  /** RTP payload type (default 96). */
  payloadType?: number;
  ssrc?: number;
  /** Largest RTP payload (default 1200). */
  maxPayload?: number;
  /** abs-capture-time extension id (default 9; null = no extension). */
  absCaptureTimeId?: number | null;
  /** Packets kept for NACKs (default 512). */
  retransmitBufferSize?: number;
  /**
   * Replay one group of pictures encoded once and shared with every source of the same
   * settings (default true when `keyframeIntervalMs` > 0): frames then cost nothing to
   * produce. With false, or without periodic key frames, this source runs its own encoder.
   */
  shareFrames?: boolean;
}

/** Events of a synthetic source. */
export type SyntheticSourceEvents = {
  /** A frame was sent (for video: its index and whether it was a key frame). */
  frame: [{ index: number; keyframe: boolean; bytes: number; packets: number }];
};

/**
 * Synthetic VP8 video as RTP: a moving box over grey, encoded by {@link Vp8SyntheticEncoder},
 * packetized per RFC 7741, timestamped at 90 kHz, with the send time in abs-capture-time.
 * Sends a key frame periodically and on PLI/FIR, answers NACKs, and emits sender reports.
 *
 * @example
 * const video = new SyntheticVideoSource({ width: 640, height: 480, fps: 30, bitrate: 800_000 });
 * video.attach((pkt) => track.sendMessageBinary(pkt));
 * video.start();
 */
export class SyntheticVideoSource extends TypedEmitter<SyntheticSourceEvents> {
  readonly kind = 'video' as const;
  readonly rtp: RtpStreamSender;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly keyframeIntervalMs: number;
  readonly minKeyframeSpacingMs: number;
  readonly maxPayload: number;
  #bitrate: number;
  #timer: NodeJS.Timeout | null = null;
  #reportTimer: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #framesDue = 0;
  #pictureId: number;
  #lastKeyframeAt = -Infinity;
  #keyframeRequested = false;
  readonly #shared: boolean;
  #encoder: Vp8SyntheticEncoder | null = null;
  #gop: Vp8GopCache | null = null;
  #gopPos = 0;
  #framesProduced = 0;

  constructor(o: SyntheticVideoOptions = {}) {
    super();
    this.fps = o.fps ?? 30;
    if (!(this.fps > 0 && this.fps <= 120)) throw new TypeError(`fps must be in (0, 120], got ${this.fps}`);
    this.#bitrate = o.bitrate ?? 600_000;
    this.keyframeIntervalMs = o.keyframeIntervalMs ?? 5000;
    this.minKeyframeSpacingMs = o.minKeyframeSpacingMs ?? 250;
    this.maxPayload = o.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.width = o.width ?? 640;
    this.height = o.height ?? 480;
    this.#shared = (o.shareFrames ?? true) && this.keyframeIntervalMs > 0;
    this.#setupFrames();
    this.rtp = new RtpStreamSender({
      ssrc: o.ssrc,
      payloadType: o.payloadType ?? 96,
      clockRate: 90_000,
      absCaptureTimeId: o.absCaptureTimeId,
      retransmitBufferSize: o.retransmitBufferSize,
    });
    this.#pictureId = this.rtp.ssrc & 0x7fff;
  }

  /** SSRC of the stream. */
  get ssrc(): number {
    return this.rtp.ssrc;
  }

  /** Target bitrate in bit/s; takes effect from the next frame. */
  get bitrate(): number {
    return this.#bitrate;
  }

  set bitrate(bps: number) {
    if (!(bps >= 0)) throw new TypeError(`invalid bitrate ${bps}`);
    this.#bitrate = bps;
    if (this.#encoder) this.#encoder.targetFrameBytes = this.#frameBytes();
    else {
      // Another shared group of pictures; it starts with its key frame.
      this.#setupFrames();
      this.#gopPos = 0;
    }
  }

  /** Counters of the outgoing stream. */
  get stats(): OutboundRtpStats {
    return this.rtp.stats;
  }

  /** Sets where packets go. */
  attach(sink: PacketSink | null): void {
    this.rtp.attach(sink);
  }

  /** Starts sending frames at `fps` and a sender report every second. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#startedAt = performance.now();
    this.#framesDue = 0;
    this.#tick();
    this.#reportTimer = setInterval(() => this.rtp.sendReport(), 1000);
  }

  /** Stops sending. Idempotent. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#reportTimer) clearInterval(this.#reportTimer);
    this.#timer = null;
    this.#reportTimer = null;
  }

  /** Asks for a key frame as the next frame (subject to `minKeyframeSpacingMs`). */
  requestKeyframe(): void {
    this.#keyframeRequested = true;
  }

  /** Feeds RTCP received on the sending track (PLI/FIR → key frame, NACK → retransmission, REMB). */
  handleRtcp(buf: Uint8Array): void {
    if (!isRtcp(buf)) return;
    if (this.rtp.handleFeedback(parseRtcp(buf))) this.requestKeyframe();
  }

  /** Encodes and sends the next frame now (the timer calls this; tests may too). */
  sendFrame(mediaSeconds = this.#framesProduced / this.fps): void {
    const now = performance.now();
    const requested = this.#keyframeRequested && now - this.#lastKeyframeAt >= this.minKeyframeSpacingMs;
    let frame: Vp8Frame;
    if (this.#gop) {
      if (requested) this.#gopPos = 0;
      frame = this.#gop.frame(this.#gopPos);
      this.#gopPos = (this.#gopPos + 1) % this.#gop.settings.length;
    } else {
      const periodic = this.keyframeIntervalMs > 0 && now - this.#lastKeyframeAt >= this.keyframeIntervalMs;
      frame = (this.#encoder as Vp8SyntheticEncoder).encode(periodic || requested);
    }
    this.#framesProduced++;
    if (frame.keyframe) {
      this.#lastKeyframeAt = now;
      this.#keyframeRequested = false;
      this.rtp.stats.keyframesSent++;
    }
    const ts = this.rtp.timestampAt(mediaSeconds);
    const sendTime = wallClockMs();
    const payloads = packetizeVp8(frame.data, this.#pictureId, this.maxPayload);
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    payloads.forEach((p, i) => this.rtp.send(p, ts, i === payloads.length - 1, sendTime));
    this.rtp.stats.framesSent++;
    this.emit('frame', { index: this.#framesProduced - 1, keyframe: frame.keyframe, bytes: frame.data.length, packets: payloads.length });
  }

  #setupFrames(): void {
    if (this.#shared) {
      const length = Math.max(1, Math.round((this.fps * this.keyframeIntervalMs) / 1000));
      this.#gop = Vp8GopCache.for({ width: this.width, height: this.height, targetFrameBytes: this.#frameBytes(), length });
    } else {
      this.#encoder ??= new Vp8SyntheticEncoder({ width: this.width, height: this.height, targetFrameBytes: this.#frameBytes() });
    }
  }

  #frameBytes(): number {
    return Math.max(0, Math.round(this.#bitrate / 8 / this.fps));
  }

  #tick(): void {
    // Catch up on frames that are due (timers are late under load), at most 3 at once.
    const elapsed = performance.now() - this.#startedAt;
    const due = Math.floor((elapsed * this.fps) / 1000) + 1;
    let burst = 0;
    while (this.#framesDue < due && burst < 3) {
      this.sendFrame(this.#framesDue / this.fps);
      this.#framesDue++;
      burst++;
    }
    if (this.#framesDue < due) this.#framesDue = due; // drop what we could not send in time
    const next = this.#startedAt + (this.#framesDue * 1000) / this.fps;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, next - performance.now()));
  }
}
