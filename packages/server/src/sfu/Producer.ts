import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '@convene/protocol';
import type { Consumer } from './Consumer.js';
import type { MediaCounters } from './counters.js';
import { InvalidStateError } from './errors.js';
import type { ProducerEvents } from './events.js';
import { ntpMiddle } from './ntp.js';
import { ProducerLayer, type ProducerLayerStats } from './ProducerLayer.js';
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
  findRtpExtension,
  isRtcp,
  isValidRtp,
  isVp8Keyframe,
  parseVp8Descriptor,
  readTransportSeq,
  rtpExtensionEquals,
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
  Vp8Descriptor,
  vp8KeyframeSize,
} from './rtp.js';
import type { MediaKind, PublishedMedia } from './sdp.js';
import type { TwccRecorder } from './TwccRecorder.js';
import type { MediaTrack } from './TransportLink.js';

/** Receiver reports go to the publisher this often. */
const RR_INTERVAL_MS = 1000;
/** Retransmission buffer slots of simulcast layers below the top one (fewer packets per second). */
const LOWER_LAYER_SLOTS = 512;
const TOP_LAYER_SLOTS = 1024;

/** A snapshot of a producer's receive statistics. */
export interface ProducerStats {
  /** SSRC of the publisher's media (of its first layer with simulcast; 0 until known). */
  ssrc: number;
  /** Totals over every layer. Packets received (retransmissions included). */
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
  /** Per layer (one without simulcast), in the order of {@link Producer.layers}. */
  layers: ProducerLayerStats[];
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
 * to its consumers. A simulcast track has one {@link ProducerLayer} per rid, whose SSRCs it learns from the rid
 * and repaired-rid header extensions; each consumer forwards one layer at a time.
 */
export class Producer extends TypedEmitter<ProducerEvents> {
  /** Unique id. */
  readonly id = randomUUID();
  /** audio or video. */
  readonly kind: MediaKind;
  /** What the publisher negotiated for this track. */
  readonly media: PublishedMedia;
  /**
   * Its RTP streams: one without simulcast, else one per rid in the offer's order (browsers list the lowest
   * layer first; consumers rank layers by their measured frame size anyway).
   */
  readonly layers: readonly ProducerLayer[];
  /** True when the publisher simulcasts (layers by rid). */
  readonly simulcast: boolean;
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
  readonly #blocks: ReportBlock[];
  readonly #senderInfo = new SenderInfo();
  /** Source VP8 descriptor of the packet being fanned out (simulcast: consumers rewrite picture ids from it). */
  readonly #vp8 = new Vp8Descriptor();
  readonly #ridId: number;
  readonly #repairedRidId: number;
  #lastRrMs = 0;
  /** The layer of the previous media packet: most packets belong to the same layer as the one before. */
  #lastLayer: ProducerLayer;

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
    this.#ridId = options.media.ridId ?? -1;
    this.#repairedRidId = options.media.repairedRidId ?? -1;
    const rids = options.media.rids ?? [];
    this.simulcast = rids.length > 0 && this.#ridId > 0;
    const video = this.kind === 'video';
    const layer = (index: number, rid: string, ssrc: number, rtxSsrc: number, slots: number): ProducerLayer =>
      new ProducerLayer({
        index,
        rid,
        ssrc,
        rtxSsrc,
        clockRate: options.media.clockRate,
        video,
        slots,
        keyframeIntervalMs: options.keyframeIntervalMs ?? 500,
        sendKeyframeRequest: (l, fir, seq) => this.#sendKeyframeRequest(l, fir, seq),
      });
    this.layers = this.simulcast
      ? rids.map((rid, i) => layer(i, rid, 0, 0, i === rids.length - 1 ? TOP_LAYER_SLOTS : LOWER_LAYER_SLOTS))
      : [layer(0, '', options.media.ssrc, options.media.rtxSsrc, TOP_LAYER_SLOTS)];
    this.#blocks = this.layers.map((l) => l.block);
    this.#lastLayer = this.layers[0]!;
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
    const nowMs = this.#now();
    const sum = (f: (l: ProducerLayer) => number): number => this.layers.reduce((n, l) => n + f(l), 0);
    return {
      ssrc: this.layers[0]!.ssrc,
      packetsReceived: sum((l) => l.stats.received),
      packetsLost: sum((l) => l.stats.cumulativeLost),
      packetsMissing: sum((l) => l.nack.lost),
      packetsRecovered: sum((l) => l.nack.recovered),
      jitter: Math.max(...this.layers.map((l) => l.stats.jitter)) / this.media.clockRate,
      keyframesRequested: sum((l) => l.keyframes.requested),
      keyframesRequestsSent: sum((l) => l.keyframes.sent),
      consumers: this.#consumers.length,
      layers: this.layers.map((l) => l.getStats(nowMs)),
    };
  }

  /**
   * Asks the publisher for a keyframe of `layer` (rate-limited and coalesced per layer), or of every layer
   * whose SSRC is known when none is given.
   */
  requestKeyframe(fir = false, layer?: ProducerLayer): void {
    if (this.#closed || this.kind !== 'video') return;
    const nowMs = this.#now();
    if (layer) {
      layer.keyframes.request(nowMs, fir);
      return;
    }
    for (const l of this.layers) if (l.ssrc !== 0 || !this.simulcast) l.keyframes.request(nowMs, fir);
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

  /**
   * @internal The newest keyframe of `layer` (default: the top one) and everything received after it, as
   * `[firstSeq, lastSeq]` of source sequence numbers, when it is at most `maxAgeMs` old, at most `maxPackets` long
   * and every packet of it is still in the retransmission buffer (a new subscriber can then start from it without
   * asking the publisher); else null.
   */
  _heldKeyframe(nowMs: number, maxAgeMs: number, maxPackets: number, layer = this.layers[this.layers.length - 1]!): [number, number] | null {
    if (this.#paused) return null;
    return layer._heldKeyframe(nowMs, maxAgeMs, maxPackets);
  }

  /** @internal Periodic work: NACKs, deferred keyframe requests, receiver reports. */
  _tick(nowMs: number): void {
    if (this.#closed || !this.#open) return;
    const layers = this.layers;
    let blocks = 0;
    const rrDue = nowMs - this.#lastRrMs >= RR_INTERVAL_MS;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if (this.media.nack && l.ssrc !== 0) {
        const n = l.nack.collect(nowMs, 0, this.#nackSeqs);
        if (n > 0) {
          const len = writeNack(this.#rtcp, 0, this.#rtcpSsrc, l.ssrc, this.#nackSeqs, n);
          if (this._sendRtcp(this.#rtcp.subarray(0, len))) this.#counters.rtcpNackSent++;
        }
      }
      l.keyframes.tick(nowMs);
      if (rrDue && l.stats.started && l.ssrc !== 0) {
        l.stats.fillReportBlock(l.block, l.ssrc, nowMs);
        this.#blocks[blocks++] = l.block;
      }
    }
    if (blocks > 0) {
      this.#lastRrMs = nowMs;
      const len = writeRr(this.#rtcp, 0, this.#rtcpSsrc, this.#blocks, blocks);
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
    const pt = rtpPayloadType(buf);
    let layer = this.#lastLayer;
    if (ssrc !== layer.ssrc || ssrc === 0) {
      const found = this.#layerOf(ssrc) ?? this.#learnSsrc(buf, len, ssrc, pt);
      if (!found) return;
      layer = found;
      if (ssrc === found.ssrc) this.#lastLayer = found;
    }
    let pkt = buf;
    let plen = len;
    let retransmission = false;
    if (ssrc !== layer.ssrc) {
      if (pt !== this.media.rtxPayloadType || this.media.rtxPayloadType < 0 || layer.ssrc === 0) return;
      // RTX (RFC 4588): payload starts with the original sequence number. Padding-only probes carry no OSN.
      if (rtpPayloadLength(buf, len) < 2) return;
      const hl = rtpHeaderLength(buf, len);
      const osn = (buf[hl]! << 8) | buf[hl + 1]!;
      buf.copyWithin(2, 0, hl);
      pkt = buf.subarray(2);
      plen = len - 2;
      setRtpSeq(pkt, osn);
      setRtpSsrc(pkt, layer.ssrc);
      setRtpPayloadType(pkt, this.media.payloadType);
      retransmission = true;
    } else if (pt !== this.media.payloadType) {
      return;
    }
    const seq = rtpSeq(pkt);
    const ts = rtpTimestamp(pkt);
    this.#counters.rtpPacketsReceived++;
    layer.stats.onPacket(seq, ts, nowMs, retransmission);
    const nack = layer.nack;
    const lostBefore = nack.lost;
    if (nack.onPacket(seq, nowMs)) this.requestKeyframe(false, layer);
    this.#counters.rtpPacketsLost += nack.lost - lostBefore;
    layer.retransmissions?.store(pkt, plen, nowMs);
    if (layer.highestSeq < 0 || seqDiff(seq, layer.highestSeq) > 0) layer.highestSeq = seq;
    if (!retransmission) layer._onFirstTransmission(ts, nowMs);
    // Simulcast VP8: consumers rewrite picture ids, so the descriptor is read once here, before any rewrites it.
    let vp8: Vp8Descriptor | null = null;
    let keyframe = false;
    if (this.simulcast && this.#isVp8) {
      const hl = rtpHeaderLength(pkt, plen);
      if (parseVp8Descriptor(pkt, hl, rtpPayloadLength(pkt, plen), this.#vp8)) {
        vp8 = this.#vp8;
        keyframe = vp8.keyframe;
      }
    } else {
      keyframe = this.#isVp8 && isVp8Keyframe(pkt, plen);
    }
    if (keyframe) {
      layer.keyframes.onKeyframe();
      const size = vp8KeyframeSize(pkt, plen);
      if (size > 0) {
        layer.width = Math.floor(size / 65536);
        layer.height = size & 0xffff;
      }
      // A first transmission is the newest keyframe (whatever the distance: GOPs can outlast half the sequence
      // space); a retransmission only when it repairs a keyframe newer than the one held.
      if (!retransmission || layer.keyframeSeq < 0 || seqDiff(seq, layer.keyframeSeq) > 0) {
        layer.keyframeSeq = seq;
        layer.keyframeAtMs = nowMs;
      }
    }
    if (this.#paused) return;
    const consumers = this.#consumers;
    for (let i = 0; i < consumers.length; i++) consumers[i]!._forward(pkt, plen, layer, seq, ts, keyframe, vp8, nowMs);
  }

  /** The layer whose media or RTX SSRC `ssrc` is (a loop: at most a few layers). */
  #layerOf(ssrc: number): ProducerLayer | undefined {
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if ((l.ssrc === ssrc || l.rtxSsrc === ssrc) && ssrc !== 0) return l;
    }
    return undefined;
  }

  /**
   * Simulcast: an SSRC not seen before names its layer in the rid extension (media) or the repaired-rid one (RTX),
   * RFC 8852. Runs once per SSRC. A known rid on a new SSRC means the publisher restarted that layer.
   */
  #learnSsrc(buf: Buffer, len: number, ssrc: number, pt: number): ProducerLayer | undefined {
    if (!this.simulcast || ssrc === 0) return undefined;
    const rtx = pt === this.media.rtxPayloadType && this.media.rtxPayloadType >= 0;
    if (!rtx && pt !== this.media.payloadType) return undefined;
    const found = findRtpExtension(buf, len, rtx && this.#repairedRidId > 0 ? this.#repairedRidId : this.#ridId);
    if (found < 0) return undefined;
    for (const l of this.layers) {
      if (!rtpExtensionEquals(buf, found, l.rid)) continue;
      if (ssrc === l.retiredSsrc) return undefined; // a late packet of the SSRC this layer left
      if (rtx) l.rtxSsrc = ssrc;
      else if (l.ssrc === 0) l.ssrc = ssrc;
      else {
        l._restart(ssrc);
        for (const c of this.#consumers) c._layerRestarted(l);
      }
      return l;
    }
    return undefined;
  }

  #onRtcp(buf: Buffer, len: number): void {
    if (!isValidRtcp(buf, len)) return;
    for (let o = 0; o >= 0 && o < len; o = rtcpNext(buf, o, len)) {
      if (rtcpPacketType(buf, o) !== RtcpType.SR) continue;
      const layer = this.#layerOf(rtcpSenderSsrc(buf, o));
      if (!layer || rtcpSenderSsrc(buf, o) !== layer.ssrc) continue;
      const nowMs = this.#now();
      readSenderInfo(buf, o, this.#senderInfo);
      layer.stats.onSenderReport(ntpMiddle(this.#senderInfo.ntpSec, this.#senderInfo.ntpFrac), nowMs);
      layer.srRtp = this.#senderInfo.rtpTimestamp;
      layer.srAtMs = nowMs;
    }
  }

  #sendKeyframeRequest(layer: ProducerLayer, fir: boolean, firSeq: number): boolean {
    if (!this.#open || this.#closed || layer.ssrc === 0) return false;
    const len = fir ? writeFir(this.#rtcp, 0, this.#rtcpSsrc, layer.ssrc, firSeq) : writePli(this.#rtcp, 0, this.#rtcpSsrc, layer.ssrc);
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
