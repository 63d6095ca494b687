import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '@convene/protocol';
import type { MediaCounters } from './counters.js';
import { InvalidStateError } from './errors.js';
import type { ConsumerEvents } from './events.js';
import { NO_PREFERENCES, selectLayer, type LayerPreferences } from './layerSelection.js';
import type { Producer } from './Producer.js';
import type { ProducerLayer } from './ProducerLayer.js';
import {
  expandNack,
  firSeqFor,
  isFir,
  isNack,
  isPli,
  isValidRtcp,
  readReportBlock,
  ReportBlock,
  rtcpMediaSsrc,
  rtcpNext,
  rtcpPacketType,
  RtcpType,
  SenderInfo,
  writeSdesCname,
  writeSr,
} from './rtcp.js';
import {
  parseVp8Descriptor,
  rtpHeaderLength,
  rtpPayloadLength,
  setRtpPayloadType,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
  setVp8PictureId,
  setVp8Tl0PicIdx,
  rtpTimestamp,
  Vp8Descriptor,
} from './rtp.js';
import type { MediaKind } from './sdp.js';
import { SenderStats } from './SenderStats.js';
import { SequenceRewriter } from './SequenceRewriter.js';
import type { MediaTrack } from './TransportLink.js';

/** Sender reports go to the subscriber this often. */
const SR_INTERVAL_MS = 1000;
const NO_BLOCKS: ReportBlock[] = [];
/** A video consumer still waiting for its first keyframe asks again this often. */
const KEYFRAME_RETRY_MS = 1000;
/**
 * A new video consumer starts from the keyframe the SFU holds (sent in one burst with the packets after it) when
 * that keyframe is at most this old and this many packets long; otherwise it asks the publisher for a new one.
 */
const HELD_KEYFRAME_MAX_AGE_MS = 500;
const HELD_KEYFRAME_MAX_PACKETS = 256;

/*
 * Scratch space shared by every consumer of the process: each use fills it and hands it to libdatachannel, which
 * copies synchronously, before any other consumer can run (one JS thread, no await in between). One set per
 * process instead of ≈4 KB per consumer (bench/README.md, memory per subscriber).
 */
const SCRATCH = Buffer.alloc(1600);
const RTCP_OUT = Buffer.alloc(512);
const NACK_SEQS = new Uint16Array(1024);
/** VP8 descriptor of a packet read back from a retransmission buffer (simulcast picture id rewrite). */
const SCRATCH_VP8 = new Vp8Descriptor();

/** A snapshot of a consumer's send statistics. */
export interface ConsumerStats {
  /** Our SSRC toward the subscriber. */
  ssrc: number;
  /** Packets sent (first transmissions). */
  packetsSent: number;
  /** Payload bytes sent. */
  bytesSent: number;
  /** NACK packets received from the subscriber, and packets retransmitted in answer. */
  nacksReceived: number;
  retransmitted: number;
  /** PLI/FIR received from the subscriber. */
  keyframeRequests: number;
  /** Round-trip time from the subscriber's receiver reports, ms (-1 until known). */
  rttMs: number;
  /** Loss share (0–255) and cumulative loss from the subscriber's last receiver report (-1 until one arrives). */
  fractionLost: number;
  packetsLost: number;
  /** The layer forwarded now (its rid, '' without simulcast; null before the first keyframe), and the one wanted. */
  layer: string | null;
  targetLayer: string | null;
}

/** Parameters of one consumer, chosen by its transport. */
export interface ConsumerOptions {
  /** The m-section mid in the subscriber's SDP. */
  mid: string;
  /** The producer to forward. */
  producer: Producer;
  /** Our SSRC toward the subscriber. */
  ssrc: number;
  /** Our RTX SSRC, or 0 without RTX. */
  rtxSsrc: number;
  /** Payload type the subscriber negotiated for the codec. */
  payloadType: number;
  /** RTX payload type, or -1. */
  rtxPayloadType: number;
  /** CNAME written in SDES (the producer's, so audio and video of one publisher sync). */
  cname: string;
  /** The router's counters. */
  counters: MediaCounters;
  /** Monotonic clock in ms. */
  now: () => number;
}

/**
 * Sends one producer's track to one subscriber: rewrites each packet in place (SSRC, sequence number,
 * timestamp, payload type) and hands it to libdatachannel, answers the subscriber's NACKs from the producer's
 * retransmission buffer (as RTX when negotiated), forwards its PLI/FIR upstream through the producer's
 * coalescing keyframe requester, and writes sender reports.
 *
 * Simulcast: it forwards one layer at a time, the one {@link selectLayer} picks from the subscriber's preferences
 * ({@link setPreferredLayers}) among the layers the publisher sends now, re-chosen on every tick. A switch asks the
 * publisher for a keyframe of the new layer and happens on it, continuing sequence numbers, timestamps and VP8
 * picture ids (and TL0PICIDX) so the subscriber sees one stream; when the forwarded layer stops, a lower one takes over.
 */
export class Consumer extends TypedEmitter<ConsumerEvents> {
  /** Unique id. */
  readonly id = randomUUID();
  /** The producer's id (changes when the consumer moves to another producer, see `moveTo`). */
  producerId: string;
  /** audio or video. */
  readonly kind: MediaKind;
  /** mid of this consumer's m-section in the subscriber's SDP. */
  readonly mid: string;
  /** Our SSRC toward the subscriber. */
  readonly ssrc: number;
  /** Our RTX SSRC (0 without RTX). */
  readonly rtxSsrc: number;
  /** Output payload type. */
  readonly payloadType: number;
  /** Output RTX payload type (-1 without RTX). */
  readonly rtxPayloadType: number;
  /** Send statistics (for SRs). */
  readonly stats: SenderStats;
  /** Round-trip time to the subscriber from its receiver reports, ms (-1 until known). */
  rttMs = -1;
  #nacksReceived = 0;
  #retransmitted = 0;
  #keyframeRequests = 0;
  #fractionLost = -1;
  #packetsLost = -1;
  #closed = false;
  #open = false;
  #trackOpen = false;
  #transportReady = false;
  #paused = false;
  #needKeyframe: boolean;
  #track: MediaTrack | undefined;
  #producer: Producer;
  /** The layer forwarded now (video: null until the first keyframe), and the one to switch to on its next keyframe. */
  #layer: ProducerLayer | null;
  #target: ProducerLayer | null;
  #prefs: LayerPreferences = NO_PREFERENCES;
  /** VP8 picture id / TL0PICIDX continuity across layers: output minus source, and the newest output (-1: none). */
  #picOffset = 0;
  #lastPic = -1;
  #picRestart = false;
  #tl0Offset = 0;
  #lastTl0 = -1;
  #tl0Restart = false;
  readonly #rewriter: SequenceRewriter;
  readonly #counters: MediaCounters;
  readonly #now: () => number;
  readonly #cname: Uint8Array;
  readonly #info = new SenderInfo();
  readonly #block = new ReportBlock();
  #rtxSeq = Math.floor(Math.random() * 0x10000);
  #lastSrMs = 0;
  #keyframeAskedMs = 0;
  #dropShare = 0;
  #rng = 0x9e3779b9;

  /** @internal Created by {@link WebRtcTransport.consume}. */
  constructor(options: ConsumerOptions) {
    super();
    this.#producer = options.producer;
    this.producerId = options.producer.id;
    this.kind = options.producer.kind;
    this.mid = options.mid;
    this.ssrc = options.ssrc;
    this.rtxSsrc = options.rtxSsrc;
    this.payloadType = options.payloadType;
    this.rtxPayloadType = options.rtxPayloadType;
    this.#counters = options.counters;
    this.#now = options.now;
    this.#cname = new TextEncoder().encode(options.cname);
    this.#rewriter = new SequenceRewriter(options.producer.media.clockRate);
    this.stats = new SenderStats(options.producer.media.clockRate);
    this.#needKeyframe = this.kind === 'video';
    this.#layer = this.kind === 'video' ? null : options.producer.layers[0]!;
    this.#target = this.#select(options.now());
    // Ask now, while the subscriber's ICE and DTLS are still under way (≈60–100 ms here): the SFU holds the
    // keyframe and the packets after it when the subscriber's transport opens, and sends them at once (#maybeOpen).
    // Without the held copy a keyframe requested this early would be wasted (DESIGN.md, TTFF).
    if (this.kind === 'video') options.producer.requestKeyframe(false, this.#target);
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once the subscriber's track is open. */
  get open(): boolean {
    return this.#open;
  }

  /** True while paused (nothing is sent). */
  get paused(): boolean {
    return this.#paused;
  }

  /** The producer this consumer forwards. */
  get producer(): Producer {
    return this.#producer;
  }

  /** The producer's layer forwarded now (null before a video consumer's first keyframe). */
  get currentLayer(): ProducerLayer | null {
    return this.#layer;
  }

  /** The layer this consumer wants (it switches on that layer's next keyframe). */
  get targetLayer(): ProducerLayer | null {
    return this.#target;
  }

  /**
   * The subscriber's preferred resolution and frame rate (maxima; null: none): with simulcast they pick the layer
   * (see {@link selectLayer}); the switch follows on that layer's next keyframe, asked for now. Without simulcast
   * they change nothing.
   */
  setPreferredLayers(prefs: LayerPreferences): void {
    this.#assertOpen();
    this.#prefs = { resolution: prefs.resolution && { ...prefs.resolution }, frameRate: prefs.frameRate };
    this.#retarget(this.#now());
  }

  /** Current send statistics (not a hot path: allocates a small object). */
  getStats(): ConsumerStats {
    return {
      ssrc: this.ssrc,
      packetsSent: this.stats.packetCount,
      bytesSent: this.stats.octetCount,
      nacksReceived: this.#nacksReceived,
      retransmitted: this.#retransmitted,
      keyframeRequests: this.#keyframeRequests,
      rttMs: this.rttMs,
      fractionLost: this.#fractionLost,
      packetsLost: this.#packetsLost,
      layer: this.#layer?.rid ?? null,
      targetLayer: this.#target?.rid ?? null,
    };
  }

  /** Stops sending (e.g. the subscriber unsubscribed from video). */
  pause(): void {
    this.#assertOpen();
    this.#paused = true;
  }

  /** Resumes sending without a sequence gap; video waits for a keyframe, requested now. */
  resume(): void {
    this.#assertOpen();
    if (!this.#paused) return;
    this.#paused = false;
    this._sourceRestarted();
    if (this.kind === 'video' && this.#open) {
      this.#keyframeAskedMs = this.#now();
      this.#producer.requestKeyframe(false, this.#target ?? undefined);
    }
  }

  /**
   * Forwards `producer` from now on instead of the current one (the publisher moved to a new transport): the
   * output continues without a sequence or timestamp jump, from the new producer's next keyframe (asked for
   * now). Both must carry the same kind and codec.
   */
  moveTo(producer: Producer): void {
    this.#assertOpen();
    if (producer === this.#producer) return;
    if (producer.kind !== this.kind || producer.media.clockRate !== this.#producer.media.clockRate) throw new TypeError('moveTo(): the producer carries another kind or codec');
    this.#producer._removeConsumer(this);
    this.#producer = producer;
    this.producerId = producer.id;
    producer._addConsumer(this);
    this._sourceRestarted();
    // The old producer's layers are gone: video starts again on a keyframe of the new one's chosen layer.
    this.#layer = this.kind === 'video' ? null : producer.layers[0]!;
    this.#target = this.#select(this.#now());
    if (this.kind === 'video' && this.#open && !this.#paused) {
      this.#keyframeAskedMs = this.#now();
      producer.requestKeyframe(false, this.#target);
    }
  }

  /** Asks the publisher for a keyframe on this subscriber's behalf (coalesced with others). */
  requestKeyframe(): void {
    this.#assertOpen();
    this.#producer.requestKeyframe(false, this.#target ?? undefined);
  }

  /**
   * Test-only hook: drops `share` (0–1) of first transmissions toward this subscriber, deterministically
   * (retransmissions are never dropped), to exercise NACK/RTX end to end without netem.
   */
  setTestLoss(share: number): void {
    if (!(share >= 0 && share <= 1)) throw new TypeError('share must be within [0, 1]');
    this.#dropShare = share;
  }

  /** Closes the consumer. Idempotent. */
  close(): void {
    this.#close('close');
  }

  /** @internal */
  _producerClosed(): void {
    this.#close('producerclose');
  }

  /** @internal */
  _transportClosed(): void {
    this.#close('transportclose');
  }

  /** @internal Attaches the sending track (kept referenced here so it is not collected). */
  _attachTrack(track: MediaTrack): void {
    this.#track = track;
    track.onMessage((msg) => this.#onRtcp(msg));
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
    // Start from the keyframe the SFU holds (asked for when this consumer was created); without one, ask now that
    // DTLS is done — a keyframe that arrived before would have been wasted (DESIGN.md, TTFF).
    if (this.kind === 'video') this.#target = this.#select(this.#now());
    if (this.kind === 'video' && !this.#startFromHeldKeyframe()) {
      this.#keyframeAskedMs = this.#now();
      this.#producer.requestKeyframe(false, this.#target ?? undefined);
    }
    this.emit('open');
  }

  /**
   * Sends the producer's newest keyframe and every packet after it from its retransmission buffer, through the
   * normal rewrite path (so live packets continue the sequence). Returns false when the producer holds no recent
   * complete keyframe (or this consumer is paused): the caller asks the publisher then. Runs once per subscriber.
   */
  #startFromHeldKeyframe(): boolean {
    const layer = this.#target;
    if (this.#paused || !layer) return false;
    const nowMs = this.#now();
    const held = this.#producer._heldKeyframe(nowMs, HELD_KEYFRAME_MAX_AGE_MS, HELD_KEYFRAME_MAX_PACKETS, layer);
    const rtx = layer.retransmissions;
    if (!held || !rtx) return false;
    const [from, to] = held;
    const buf = SCRATCH;
    const vp8 = this.#producer.simulcast ? SCRATCH_VP8 : null;
    for (let seq = from, first = true; ; seq = (seq + 1) & 0xffff, first = false) {
      const len = rtx.copyTo(seq, nowMs, buf, 0);
      if (len > 0) {
        if (vp8 && !parseVp8Descriptor(buf, rtpHeaderLength(buf, len), rtpPayloadLength(buf, len), vp8)) vp8.pictureId = vp8.tl0PicIdx = -1;
        this._forward(buf, len, layer, seq, rtpTimestamp(buf), first, vp8, nowMs);
      }
      if (seq === to || !this.#open) break;
    }
    return !this.#needKeyframe;
  }

  /** @internal The source restarts (resume, publisher change): continue the output without a gap. */
  _sourceRestarted(): void {
    this.#rewriter.switchSource();
    this.#picRestart = this.#tl0Restart = true;
    if (this.kind === 'video') this.#needKeyframe = true;
  }

  /** @internal The publisher restarted `layer` on a new SSRC: if it is the one forwarded, wait for its keyframe. */
  _layerRestarted(layer: ProducerLayer): void {
    if (layer !== this.#layer || this.#closed) return;
    this._sourceRestarted();
    if (this.#open && !this.#paused) {
      this.#keyframeAskedMs = this.#now();
      this.#producer.requestKeyframe(false, this.#target ?? layer);
    }
  }

  /** The layer the preferences pick now (the only one without simulcast). */
  #select(nowMs: number): ProducerLayer {
    const layers = this.#producer.layers;
    return layers.length === 1 ? layers[0]! : selectLayer(layers, this.#prefs, nowMs);
  }

  /** Re-chooses the target layer; a new one different from the forwarded one is asked for a keyframe. */
  #retarget(nowMs: number): void {
    if (this.kind !== 'video' || this.#closed) return;
    const want = this.#select(nowMs);
    if (want === this.#target) return;
    this.#target = want;
    if (want === this.#layer || this.#paused) return;
    // Before the subscriber's transport opens this still pays: the keyframe is held for its start.
    this.#keyframeAskedMs = nowMs;
    this.#producer.requestKeyframe(false, want);
  }

  /**
   * @internal Hot path: rewrites the producer's packet of `layer` in place and sends it. The producer read `srcSeq`,
   * `srcTs` and (simulcast VP8) the descriptor `vp8` before the loop, because earlier consumers have already
   * overwritten them in `buf`.
   */
  _forward(buf: Buffer, len: number, layer: ProducerLayer, srcSeq: number, srcTs: number, keyframe: boolean, vp8: Vp8Descriptor | null, nowMs: number): void {
    if (!this.#open || this.#paused) return;
    if (layer !== this.#layer) {
      // Another layer's packet: only a keyframe of the target layer makes it the forwarded one (a switch).
      if (layer !== this.#target || !keyframe) return;
      this.#layer = layer;
      this.#startSegment();
    } else if (this.#needKeyframe) {
      if (!keyframe) return;
      this.#startSegment();
    }
    if (!this.#rewriter.rewrite(layer.ssrc, srcSeq, srcTs, nowMs)) return;
    if (this.#dropShare > 0 && this.#dropped()) {
      this.#counters.rtpTestDropped++;
      return;
    }
    setRtpSsrc(buf, this.ssrc);
    setRtpSeq(buf, this.#rewriter.seq);
    setRtpTimestamp(buf, this.#rewriter.ts);
    setRtpPayloadType(buf, this.payloadType);
    if (vp8 !== null) this.#rewriteVp8(buf, len, vp8, true);
    if (!this.#send(len === buf.length ? buf : buf.subarray(0, len))) return;
    this.stats.onPacketSent(this.#rewriter.ts, rtpPayloadLength(buf, len), nowMs);
    this.#counters.rtpPacketsForwarded++;
  }

  /** A keyframe starts a new output segment: sequence numbers, timestamps and picture ids continue from the last ones. */
  #startSegment(): void {
    this.#needKeyframe = false;
    this.#rewriter.switchSource();
    this.#picRestart = this.#tl0Restart = true;
  }

  /**
   * Simulcast VP8: writes the picture id and TL0PICIDX of the output stream into `buf` (in place, widths kept).
   * Each layer numbers its pictures on its own; a new segment continues from the last id sent. `d` holds the
   * source values (read by the producer before any consumer rewrote the shared buffer). `live`: a first
   * transmission (retransmissions map through the current offsets without moving them).
   */
  #rewriteVp8(buf: Buffer, len: number, d: Vp8Descriptor, live: boolean): void {
    const hl = rtpHeaderLength(buf, len);
    if (d.pictureId >= 0) {
      if (live && this.#picRestart) {
        this.#picRestart = false;
        this.#picOffset = this.#lastPic < 0 ? 0 : (this.#lastPic + 1 - d.pictureId) & 0x7fff;
      }
      const out = (d.pictureId + this.#picOffset) & 0x7fff;
      if (live && (this.#lastPic < 0 || (((out - this.#lastPic) & 0x7fff) > 0 && ((out - this.#lastPic) & 0x7fff) < 0x4000))) this.#lastPic = out;
      setVp8PictureId(buf, hl, d, out);
    }
    if (d.tl0PicIdx >= 0) {
      if (live && this.#tl0Restart) {
        this.#tl0Restart = false;
        this.#tl0Offset = this.#lastTl0 < 0 ? 0 : (this.#lastTl0 + 1 - d.tl0PicIdx) & 0xff;
      }
      const out = (d.tl0PicIdx + this.#tl0Offset) & 0xff;
      if (live && (this.#lastTl0 < 0 || (((out - this.#lastTl0) & 0xff) > 0 && ((out - this.#lastTl0) & 0xff) < 0x80))) this.#lastTl0 = out;
      setVp8Tl0PicIdx(buf, hl, d, out);
    }
  }

  /** @internal Periodic work: layer choice, keyframe retries, sender reports. */
  _tick(nowMs: number): void {
    if (!this.#open || this.#closed) return;
    if (this.#producer.simulcast) this.#retarget(nowMs);
    // Still waiting for a keyframe, or for the target layer's (request or keyframe lost, publisher slow): ask
    // again, at most every second.
    const waiting = this.#needKeyframe || (this.#target !== null && this.#target !== this.#layer);
    if (waiting && !this.#paused && nowMs - this.#keyframeAskedMs >= KEYFRAME_RETRY_MS) {
      this.#keyframeAskedMs = nowMs;
      this.#producer.requestKeyframe(false, this.#target ?? undefined);
    }
    if (!this.stats.active || nowMs - this.#lastSrMs < SR_INTERVAL_MS) return;
    this.#lastSrMs = nowMs;
    const src = this.#layer ? this.#layer._sourceRtpAt(nowMs) : -1;
    this.stats.fillSenderInfo(this.#info, nowMs, src < 0 ? -1 : this.#rewriter.mapTimestamp(src));
    let n = writeSr(RTCP_OUT, 0, this.ssrc, this.#info, NO_BLOCKS, 0);
    n += writeSdesCname(RTCP_OUT, n, this.ssrc, this.#cname);
    if (this.#send(RTCP_OUT.subarray(0, n))) this.#counters.rtcpSrSent++;
  }

  #onRtcp(buf: Buffer): void {
    if (!this.#open) return;
    const len = buf.length;
    if (!isValidRtcp(buf, len)) return;
    for (let o = 0; o >= 0 && o < len; o = rtcpNext(buf, o, len)) {
      const pt = rtcpPacketType(buf, o);
      if (pt === RtcpType.RR || pt === RtcpType.SR) {
        for (let i = 0; readReportBlock(buf, o, i, this.#block); i++) {
          if (this.#block.ssrc !== this.ssrc) continue;
          this.#fractionLost = this.#block.fractionLost;
          this.#packetsLost = this.#block.cumulativeLost;
          const rtt = this.stats.rttFromReport(this.#block.lsr, this.#block.dlsr, this.#now());
          if (rtt >= 0) this.rttMs = rtt;
        }
      } else if (isNack(buf, o)) {
        if (rtcpMediaSsrc(buf, o) !== this.ssrc) continue;
        this.#counters.rtcpNackReceived++;
        this.#nacksReceived++;
        this.#retransmit(buf, o);
      } else if (isPli(buf, o)) {
        if (rtcpMediaSsrc(buf, o) !== this.ssrc) continue;
        this.#counters.rtcpPliReceived++;
        this.#keyframeRequests++;
        this.#producer.requestKeyframe(false, this.#target ?? undefined);
      } else if (isFir(buf, o)) {
        if (firSeqFor(buf, o, this.ssrc) < 0) continue;
        this.#counters.rtcpFirReceived++;
        this.#keyframeRequests++;
        this.#producer.requestKeyframe(true, this.#target ?? undefined);
      }
    }
  }

  #retransmit(buf: Buffer, off: number): void {
    // Only the current segment (the forwarded layer since its last switch) can be repaired: see toSourceSeq.
    const rtx = this.#layer?.retransmissions;
    const vp8 = this.#producer.simulcast ? SCRATCH_VP8 : null;
    if (!rtx || !this.#open) return;
    const nowMs = this.#now();
    const n = expandNack(buf, off, NACK_SEQS);
    const out = SCRATCH;
    for (let i = 0; i < n; i++) {
      const outSeq = NACK_SEQS[i]!;
      const src = this.#rewriter.toSourceSeq(outSeq);
      // Copy at offset 2 so an RTX header can be slid back over the gap for the original sequence number.
      const len = src < 0 ? -1 : rtx.copyTo(src, nowMs, out, 2);
      if (len < 0) {
        this.#counters.rtpRetransmitMissed++;
        continue;
      }
      const ts = this.#rewriter.mapTimestamp(rtpTimestamp(out.subarray(2)));
      if (vp8) {
        const orig = out.subarray(2, 2 + len);
        if (parseVp8Descriptor(orig, rtpHeaderLength(orig, len), rtpPayloadLength(orig, len), vp8)) this.#rewriteVp8(orig, len, vp8, false);
      }
      let pkt: Buffer;
      if (this.rtxSsrc !== 0) {
        // RFC 4588: RTX header, then the original sequence number, then the original payload.
        const hl = rtpHeaderLength(out.subarray(2), len);
        out.copyWithin(0, 2, 2 + hl);
        out[hl] = outSeq >>> 8;
        out[hl + 1] = outSeq & 0xff;
        pkt = out.subarray(0, len + 2);
        setRtpSsrc(pkt, this.rtxSsrc);
        setRtpPayloadType(pkt, this.rtxPayloadType);
        setRtpSeq(pkt, this.#rtxSeq);
        this.#rtxSeq = (this.#rtxSeq + 1) & 0xffff;
      } else {
        pkt = out.subarray(2, 2 + len);
        setRtpSsrc(pkt, this.ssrc);
        setRtpPayloadType(pkt, this.payloadType);
        setRtpSeq(pkt, outSeq);
      }
      setRtpTimestamp(pkt, ts);
      if (!this.#send(pkt)) return;
      this.#counters.rtpRetransmitted++;
      this.#retransmitted++;
    }
  }

  /**
   * libdatachannel throws when the track is no longer open, and the native side can close before JS hears of it:
   * a throw here must never escape into the producer's fan-out loop (other subscribers) or the process.
   */
  #send(buf: Buffer): boolean {
    try {
      return this.#track!.sendMessageBinary(buf);
    } catch {
      this.#open = false;
      return false;
    }
  }

  #dropped(): boolean {
    // xorshift32: deterministic, allocation-free.
    let x = this.#rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rng = x >>> 0;
    return this.#rng / 0x1_0000_0000 < this.#dropShare;
  }

  #close(reason: 'close' | 'producerclose' | 'transportclose'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.#producer._removeConsumer(this);
    this.#track = undefined;
    if (reason !== 'close') this.emit(reason);
    this.emit('close');
    this.off();
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('Consumer closed');
  }
}
