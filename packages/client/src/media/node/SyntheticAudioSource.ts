import { TypedEmitter } from '@convene/protocol';
import { RtpStreamSender, type OutboundRtpStats, type PacketSink } from './RtpStreamSender.js';
import { isRtcp, wallClockMs } from './rtp.js';
import { parseRtcp } from './rtcp.js';
import { OPUS_CLOCK_RATE, OPUS_SAMPLES_PER_20MS, OPUS_SILENCE_20MS } from './opus.js';

/** Options of {@link SyntheticAudioSource}. */
export interface SyntheticAudioOptions {
  /** RTP payload type (default 111). */
  payloadType?: number;
  ssrc?: number;
  /** abs-capture-time extension id (default 9; null = no extension). */
  absCaptureTimeId?: number | null;
  /** Packets kept for NACKs (default 64). */
  retransmitBufferSize?: number;
}

/** Events of the audio source. */
export type SyntheticAudioEvents = {
  frame: [{ index: number }];
};

/**
 * Synthetic Opus audio as RTP: one 20 ms packet every 20 ms ({@link OPUS_SILENCE_20MS}, decoded
 * by Chromium as real samples), 48 kHz timestamps, the send time in abs-capture-time, marker
 * bit on the first packet, sender reports every second.
 *
 * @example
 * const audio = new SyntheticAudioSource();
 * audio.attach((pkt) => track.sendMessageBinary(pkt));
 * audio.start();
 */
export class SyntheticAudioSource extends TypedEmitter<SyntheticAudioEvents> {
  readonly kind = 'audio' as const;
  readonly rtp: RtpStreamSender;
  #timer: NodeJS.Timeout | null = null;
  #reportTimer: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #sent = 0;
  #index = 0;

  constructor(o: SyntheticAudioOptions = {}) {
    super();
    this.rtp = new RtpStreamSender({
      ssrc: o.ssrc,
      payloadType: o.payloadType ?? 111,
      clockRate: OPUS_CLOCK_RATE,
      absCaptureTimeId: o.absCaptureTimeId,
      retransmitBufferSize: o.retransmitBufferSize ?? 64,
    });
  }

  /** SSRC of the stream. */
  get ssrc(): number {
    return this.rtp.ssrc;
  }

  /** Counters of the outgoing stream. */
  get stats(): OutboundRtpStats {
    return this.rtp.stats;
  }

  /** Sets where packets go. */
  attach(sink: PacketSink | null): void {
    this.rtp.attach(sink);
  }

  /** Starts sending every 20 ms. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#startedAt = performance.now();
    this.#sent = 0;
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

  /** Feeds RTCP received on the sending track (NACKs are answered; the rest is counted). */
  handleRtcp(buf: Uint8Array): void {
    if (isRtcp(buf)) this.rtp.handleFeedback(parseRtcp(buf));
  }

  /** Sends the next 20 ms packet now (the timer calls this; tests may too). */
  sendPacket(): void {
    const index = this.#index++;
    const ts = this.rtp.timestampAt(0) + index * OPUS_SAMPLES_PER_20MS;
    this.rtp.send(OPUS_SILENCE_20MS, ts >>> 0, index === 0, wallClockMs());
    this.rtp.stats.framesSent++;
    this.emit('frame', { index });
  }

  #tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / 20) + 1;
    let burst = 0;
    while (this.#sent < due && burst < 5) {
      this.sendPacket();
      this.#sent++;
      burst++;
    }
    if (this.#sent < due) {
      // Skipped packets keep the timestamp moving, as a real capture clock would.
      this.#index += due - this.#sent;
      this.#sent = due;
    }
    const next = this.#startedAt + this.#sent * 20;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, next - performance.now()));
  }
}
