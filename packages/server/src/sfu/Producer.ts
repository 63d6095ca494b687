import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '@convene/protocol';
import type { Consumer } from './Consumer.js';
import type { MediaCounters } from './counters.js';
import { InvalidStateError } from './errors.js';
import type { ProducerEvents } from './events.js';
import { KeyframeRequester } from './KeyframeRequester.js';
import { NackGenerator } from './NackGenerator.js';
import { ntpMiddle } from './ntp.js';
import { ReceiverStats } from './ReceiverStats.js';
import { RetransmissionBuffer } from './RetransmissionBuffer.js';
import {
  isValidRtcp,
  readSenderInfo,
  ReportBlock,
  rtcpNext,
  rtcpPacketType,
  rtcpSenderSsrc,
  RtcpType,
  SenderInfo,
  writeFir,
  writeNack,
  writePli,
  writeRr,
} from './rtcp.js';
import {
  isRtcp,
  isValidRtp,
  isVp8Keyframe,
  readTransportSeq,
  rtpHeaderLength,
  rtpPayloadLength,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  seqDiff,
  setRtpPayloadType,
  setRtpSeq,
  setRtpSsrc,
} from './rtp.js';
import type { MediaKind, PublishedMedia } from './sdp.js';
import type { TwccRecorder } from './TwccRecorder.js';
import type { MediaTrack } from './TransportLink.js';

/** Receiver reports go to the publisher this often. */
const RR_INTERVAL_MS = 1000;

/** A snapshot of a producer's receive statistics. */
export interface ProducerStats {
  /** SSRC of the publisher's media. */
  ssrc: number;
  /** Packets received (retransmissions included). */
  packetsReceived: number;
  /** Packets expected minus received (RFC 3550). */
  packetsLost: number;
  /** Gaps detected (packets NACKed at least once or skipped). */
  packetsMissing: number;
  /** Missing packets that arrived later. */
  packetsRecovered: number;
  /** Interarrival jitter in seconds. */
  jitter: number;
  /** Keyframe requests received from subscribers or the SFU, and sent after coalescing. */
  keyframesRequested: number;
  keyframesRequestsSent: number;
  /** Consumers attached. */
  consumers: number;
}

/** Options of a Producer, fixed by its transport. */
export interface ProducerOptions {
  /** Parameters read from the publisher's offer. */
  media: PublishedMedia;
  /** SSRC we use as RTCP sender toward this publisher. */
  rtcpSsrc: number;
  /** The router's counters. */
  counters: MediaCounters;
  /** The transport's transport-cc recorder (shared by all its producers). */
  twcc: TwccRecorder;
  /** Monotonic clock in ms. */
  now: () => number;
  /** Monotonic clock in µs (arrival times for transport-cc). */
  nowUs: () => number;
  /** Minimum spacing of keyframe requests to the publisher (default 500 ms). */
  keyframeIntervalMs?: number;
}

/**
 * One track received from a publisher. Buffers its packets for retransmission, NACKs what the publisher lost,
 * records transport-cc arrivals, requests keyframes (coalesced across subscribers), and fans every packet out
 * to its consumers.
 */
export class Producer extends TypedEmitter<ProducerEvents> {
  /** Unique id. */
  readonly id = randomUUID();
  /** audio or video. */
  readonly kind: MediaKind;
  /** What the publisher negotiated for this track. */
  readonly media: PublishedMedia;
  /** Receiver statistics of the media SSRC (for RRs and metrics). */
  readonly stats: ReceiverStats;
  /** NACK state toward the publisher. */
  readonly nack: NackGenerator;
  /** Keyframe requests toward the publisher. */
  readonly keyframes: KeyframeRequester;
  /** Packet copies answering subscribers' NACKs (video only). */
  readonly retransmissions: RetransmissionBuffer | undefined;
  #closed = false;
  #paused = false;
  #track: MediaTrack | undefined;
  #open = false;
  #trackOpen = false;
  #transportReady = false;
  #consumers: Consumer[] = [];
  readonly #rtcpSsrc: number;
  readonly #counters: MediaCounters;
  readonly #twcc: TwccRecorder;
  readonly #now: () => number;
  readonly #nowUs: () => number;
  readonly #isVp8: boolean;
  readonly #rtcp = Buffer.alloc(1500);
  readonly #nackSeqs = new Uint16Array(256);
  readonly #block = new ReportBlock();
  readonly #blocks = [this.#block];
  readonly #senderInfo = new SenderInfo();
  #lastRrMs = 0;
  #srRtp = 0;
  #srAtMs = -1;
  /** Source sequence number of the first packet of the newest keyframe (-1: none yet), and when it came. */
  #keyframeSeq = -1;
  #keyframeAtMs = 0;
  /** Highest source sequence number received (-1: none yet). */
  #highestSeq = -1;

  /** @internal Created by {@link WebRtcTransport.publish}. */
  constructor(options: ProducerOptions) {
    super();
    this.media = options.media;
    this.kind = options.media.kind;
    this.#rtcpSsrc = options.rtcpSsrc;
    this.#counters = options.counters;
    this.#twcc = options.twcc;
    this.#now = options.now;
    this.#nowUs = options.nowUs;
    this.#isVp8 = options.media.codec.toLowerCase() === 'vp8';
    this.stats = new ReceiverStats(options.media.clockRate);
    this.nack = new NackGenerator();
    this.retransmissions = this.kind === 'video' ? new RetransmissionBuffer(1024, 1500, 1000) : undefined;
    this.keyframes = new KeyframeRequester((fir, seq) => this.#sendKeyframeRequest(fir, seq), options.keyframeIntervalMs ?? 500);
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once the publisher's track is open. */
  get open(): boolean {
    return this.#open;
  }

  /** True while paused (packets are received but not forwarded). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Number of consumers attached. */
  get consumerCount(): number {
    return this.#consumers.length;
  }

  /** Stops forwarding to consumers (e.g. the publisher muted); NACK/TWCC toward the publisher continue. */
  pause(): void {
    this.#assertOpen();
    this.#paused = true;
  }

  /** Resumes forwarding; video consumers wait for the next keyframe, which is requested now. */
  resume(): void {
    this.#assertOpen();
    if (!this.#paused) return;
    this.#paused = false;
    for (const c of this.#consumers) c._sourceRestarted();
    if (this.kind === 'video') this.requestKeyframe();
  }

  /** Current receive statistics (not a hot path: allocates a small object). */
  getStats(): ProducerStats {
    return {
      ssrc: this.media.ssrc,
      packetsReceived: this.stats.received,
      packetsLost: this.stats.cumulativeLost,
      packetsMissing: this.nack.lost,
      packetsRecovered: this.nack.recovered,
      jitter: this.stats.jitter / this.media.clockRate,
      keyframesRequested: this.keyframes.requested,
      keyframesRequestsSent: this.keyframes.sent,
      consumers: this.#consumers.length,
    };
  }

  /** Asks the publisher for a keyframe (rate-limited and coalesced). */
  requestKeyframe(fir = false): void {
    if (this.#closed || this.kind !== 'video') return;
    this.keyframes.request(this.#now(), fir);
  }

  /** Closes the producer and every consumer of it. Idempotent. */
  close(): void {
    this.#close('close');
  }

  /** @internal The transport closed. */
  _transportClosed(): void {
    this.#close('transportclose');
  }

  /** @internal Attaches the publisher's track (kept referenced here so it is not collected). */
  _attachTrack(track: MediaTrack): void {
    this.#track = track;
    track.onMessage((msg) => this.#onMessage(msg));
    track.onOpen(() => {
      this.#trackOpen = true;
      this.#maybeOpen();
    });
    track.onClosed(() => {
      this.#open = false;
    });
  }

  /** @internal The transport verified the peer's DTLS certificate. */
  _setTransportReady(): void {
    this.#transportReady = true;
    this.#maybeOpen();
  }

  #maybeOpen(): void {
    if (this.#closed || this.#open || !this.#trackOpen || !this.#transportReady) return;
    this.#open = true;
    this.emit('open');
  }

  /** The consumers attached now (a copy). */
  consumerList(): Consumer[] {
    return this.#consumers.slice();
  }

  /** @internal */
  _addConsumer(c: Consumer): void {
    this.#consumers.push(c);
  }

  /** @internal */
  _removeConsumer(c: Consumer): void {
    const i = this.#consumers.indexOf(c);
    if (i >= 0) this.#consumers.splice(i, 1);
  }

  /** @internal The source RTP timestamp at monotonic `nowMs` from the publisher's last SR (for consumers' SRs), or -1. */
  _sourceRtpAt(nowMs: number): number {
    if (this.#srAtMs < 0) return -1;
    return (this.#srRtp + Math.round(((nowMs - this.#srAtMs) * this.media.clockRate) / 1000)) >>> 0;
  }

  /**
   * @internal The newest keyframe and everything received after it, as `[firstSeq, lastSeq]` of source sequence
   * numbers, when it is at most `maxAgeMs` old, at most `maxPackets` long and every packet of it is still in the
   * retransmission buffer (a new subscriber can then start from it without asking the publisher); else null.
   */
  _heldKeyframe(nowMs: number, maxAgeMs: number, maxPackets: number): [number, number] | null {
    const rtx = this.retransmissions;
    const from = this.#keyframeSeq;
    if (!rtx || from < 0 || this.#paused || nowMs - this.#keyframeAtMs > maxAgeMs) return null;
    const count = seqDiff(this.#highestSeq, from) + 1;
    if (count <= 0 || count > maxPackets) return null;
    for (let i = 0; i < count; i++) if (!rtx.has((from + i) & 0xffff, nowMs)) return null;
    return [from, this.#highestSeq];
  }

  /** @internal Periodic work: NACKs, deferred keyframe requests, receiver reports. */
  _tick(nowMs: number): void {
    if (this.#closed || !this.#open) return;
    if (this.media.nack) {
      const n = this.nack.collect(nowMs, 0, this.#nackSeqs);
      if (n > 0) {
        const len = writeNack(this.#rtcp, 0, this.#rtcpSsrc, this.media.ssrc, this.#nackSeqs, n);
        if (this._sendRtcp(this.#rtcp.subarray(0, len))) this.#counters.rtcpNackSent++;
      }
    }
    this.keyframes.tick(nowMs);
    if (nowMs - this.#lastRrMs >= RR_INTERVAL_MS && this.stats.started) {
      this.#lastRrMs = nowMs;
      this.stats.fillReportBlock(this.#block, this.media.ssrc, nowMs);
      const len = writeRr(this.#rtcp, 0, this.#rtcpSsrc, this.#blocks, 1);
      if (this._sendRtcp(this.#rtcp.subarray(0, len))) this.#counters.rtcpRrSent++;
    }
  }

  /** @internal Sends an RTCP packet to the publisher on this track (used for transport-cc feedback). */
  _sendRtcp(buf: Buffer): boolean {
    if (!this.#open || this.#closed) return false;
    try {
      return this.#track!.sendMessageBinary(buf);
    } catch {
      // libdatachannel throws once the track is closed natively, possibly before JS hears of it.
      this.#open = false;
      return false;
    }
  }

  #onMessage(buf: Buffer): void {
    if (!this.#open) return; // closed, or the peer's certificate is not verified yet
    const len = buf.length;
    if (isRtcp(buf, len)) {
      this.#onRtcp(buf, len);
      return;
    }
    if (!isValidRtp(buf, len)) return;
    const nowMs = this.#now();
    const twccId = this.media.transportCcId;
    if (twccId > 0) {
      const tseq = readTransportSeq(buf, len, twccId);
      if (tseq >= 0) this.#twcc.record(tseq, this.#nowUs());
    }
    const ssrc = rtpSsrc(buf);
    let pkt = buf;
    let plen = len;
    let retransmission = false;
    if (ssrc !== this.media.ssrc) {
      if (ssrc !== this.media.rtxSsrc || this.media.rtxSsrc === 0 || rtpPayloadType(buf) !== this.media.rtxPayloadType) return;
      // RTX (RFC 4588): payload starts with the original sequence number. Padding-only probes carry no OSN.
      if (rtpPayloadLength(buf, len) < 2) return;
      const hl = rtpHeaderLength(buf, len);
      const osn = (buf[hl]! << 8) | buf[hl + 1]!;
      buf.copyWithin(2, 0, hl);
      pkt = buf.subarray(2);
      plen = len - 2;
      setRtpSeq(pkt, osn);
      setRtpSsrc(pkt, this.media.ssrc);
      setRtpPayloadType(pkt, this.media.payloadType);
      retransmission = true;
    } else if (rtpPayloadType(buf) !== this.media.payloadType) {
      return;
    }
    const seq = rtpSeq(pkt);
    const ts = rtpTimestamp(pkt);
    this.#counters.rtpPacketsReceived++;
    this.stats.onPacket(seq, ts, nowMs, retransmission);
    const lostBefore = this.nack.lost;
    if (this.nack.onPacket(seq, nowMs)) this.requestKeyframe();
    this.#counters.rtpPacketsLost += this.nack.lost - lostBefore;
    this.retransmissions?.store(pkt, plen, nowMs);
    if (this.#highestSeq < 0 || seqDiff(seq, this.#highestSeq) > 0) this.#highestSeq = seq;
    const keyframe = this.#isVp8 && isVp8Keyframe(pkt, plen);
    if (keyframe) {
      this.keyframes.onKeyframe();
      // A first transmission is the newest keyframe (whatever the distance: GOPs can outlast half the sequence
      // space); a retransmission only when it repairs a keyframe newer than the one held.
      if (!retransmission || this.#keyframeSeq < 0 || seqDiff(seq, this.#keyframeSeq) > 0) {
        this.#keyframeSeq = seq;
        this.#keyframeAtMs = nowMs;
      }
    }
    if (this.#paused) return;
    const consumers = this.#consumers;
    for (let i = 0; i < consumers.length; i++) consumers[i]!._forward(pkt, plen, seq, ts, keyframe, nowMs);
  }

  #onRtcp(buf: Buffer, len: number): void {
    if (!isValidRtcp(buf, len)) return;
    for (let o = 0; o >= 0 && o < len; o = rtcpNext(buf, o, len)) {
      if (rtcpPacketType(buf, o) === RtcpType.SR && rtcpSenderSsrc(buf, o) === this.media.ssrc) {
        const nowMs = this.#now();
        readSenderInfo(buf, o, this.#senderInfo);
        this.stats.onSenderReport(ntpMiddle(this.#senderInfo.ntpSec, this.#senderInfo.ntpFrac), nowMs);
        this.#srRtp = this.#senderInfo.rtpTimestamp;
        this.#srAtMs = nowMs;
      }
    }
  }

  #sendKeyframeRequest(fir: boolean, firSeq: number): boolean {
    if (!this.#open || this.#closed) return false;
    const len = fir
      ? writeFir(this.#rtcp, 0, this.#rtcpSsrc, this.media.ssrc, firSeq)
      : writePli(this.#rtcp, 0, this.#rtcpSsrc, this.media.ssrc);
    if (!this._sendRtcp(this.#rtcp.subarray(0, len))) return false;
    if (fir) this.#counters.rtcpFirSent++;
    else this.#counters.rtcpPliSent++;
    return true;
  }

  #close(reason: 'close' | 'transportclose'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    for (const c of this.#consumers.slice()) c._producerClosed();
    this.#consumers = [];
    this.#track = undefined; // the transport closes the peer connection (and with it the track)
    if (reason === 'transportclose') this.emit('transportclose');
    this.emit('close');
    this.off();
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('Producer closed');
  }
}
