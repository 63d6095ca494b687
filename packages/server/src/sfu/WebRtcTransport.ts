import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '@convene/protocol';
import { Consumer } from './Consumer.js';
import type { MediaCounters } from './counters.js';
import { InvalidStateError } from './errors.js';
import type { WebRtcTransportEvents } from './events.js';
import { nowMs, nowUs } from './ntp.js';
import { Producer } from './Producer.js';
import { mungePublisherOffer, mungeSubscriberOffer, type PublishedMedia, type PublisherOfferOptions } from './sdp.js';
import type { MediaTrack, TransportLink } from './TransportLink.js';
import { TwccRecorder } from './TwccRecorder.js';

/** Consumers' periodic work runs on every this many router ticks (20 ms each). */
const CONSUMER_TICK_EVERY = 5;

/** Feedback is written here and sent (copied by the link) at once: one buffer for the process. */
const TWCC_OUT = Buffer.alloc(1500);

/** Transport-cc feedback goes to the publisher this often (Chrome's own receiver uses 50–100 ms). */
const TWCC_INTERVAL_MS = 50;

/** Network settings shared by every transport of a worker. */
export interface TransportNetwork {
  /** Local address to bind (e.g. '0.0.0.0' or '127.0.0.1'). */
  listenIp: string;
  /** The one UDP port shared by all peer connections (ICE UDP mux). */
  port: number;
  /** Address written into candidates for clients (public IP behind NAT); defaults to `listenIp`. */
  announcedAddress?: string | undefined;
  /** STUN/TURN servers for the libdatachannel link (rarely needed on a server with a public address). */
  iceServers?: string[] | undefined;
  /** Port of the worker's TiebreakerProxy, offered as an extra candidate in every answer; none when undefined. */
  tiebreakerProxyPort?: number | undefined;
  /** Local ICE ufrag → password of every open transport, which the TiebreakerProxy authenticates checks with. */
  iceCredentials?: Map<string, string> | undefined;
}

/** One track a subscriber asks for in {@link WebRtcTransport.subscribe}. */
export interface SubscribeRequest {
  /** mid of the subscriber's recvonly m-section that receives this producer. */
  mid: string;
  /** The producer to forward. */
  producer: Producer;
  /** msid stream id announced to the subscriber (default: the producer's id). */
  streamId?: string;
  /** msid track id announced to the subscriber (default: `<kind>-<mid>`). */
  trackId?: string;
  /** Use RTX for retransmissions when the subscriber offers it (default true); else the media SSRC is used. */
  rtx?: boolean;
}

/** Result of {@link WebRtcTransport.subscribe}. */
export interface SubscribeResult {
  /** The SDP answer for the subscriber. */
  answer: string;
  /** One consumer per request, in order. */
  consumers: Consumer[];
}

/** Result of {@link WebRtcTransport.publish}. */
export interface PublishResult {
  /** The SDP answer for the publisher. */
  answer: string;
  /** One producer per audio/video track we accepted. */
  producers: Producer[];
}

/** @internal Context a Router gives its transports. */
export interface TransportContext {
  network: TransportNetwork;
  counters: MediaCounters;
  /** Allocates an SSRC unique within the router. */
  allocateSsrc: () => number;
  /** Creates the ICE/DTLS/SRTP link of a new transport (native addon or libdatachannel, the worker's choice). */
  createLink: (name: string) => TransportLink;
  /** Called once when the transport closes. */
  onClose: (t: WebRtcTransport) => void;
}

/**
 * One client's peer connection with the SFU. ICE, DTLS and SRTP are its {@link TransportLink}'s (our native
 * addon, or libdatachannel as the fallback); producers, consumers and RTCP are TypeScript on raw packets.
 * The client always offers: to publish ({@link publish}, sendonly m-sections) and to subscribe
 * ({@link subscribe}, recvonly m-sections); the usual setup is one transport per direction, as in mediasoup.
 * @example
 *   const send = router.createWebRtcTransport();
 *   const { answer, producers } = await send.publish(offerFromPublisher);
 *   const recv = router.createWebRtcTransport();
 *   const { answer: a2, consumers } = await recv.subscribe(offerFromSubscriber, [{ mid: '0', producer: producers[0] }]);
 */
export class WebRtcTransport extends TypedEmitter<WebRtcTransportEvents> {
  /** Unique id. */
  readonly id = randomUUID();
  #closed = false;
  readonly #link: TransportLink;
  readonly #ctx: TransportContext;
  readonly #producers = new Map<string, Producer>();
  readonly #producersByMid = new Map<string, Producer>();
  readonly #consumers = new Map<string, Consumer>();
  readonly #consumersByMid = new Map<string, Consumer>();
  /** Tracks received before their producer existed, by mid (a link may report a track before publish() created its producer). */
  readonly #orphanTracks = new Map<string, MediaTrack>();
  /** Created with the first producer: subscriber-only transports need none (it holds ≈100 KB of arrays). */
  #twcc: TwccRecorder | undefined;
  #ticks = Math.floor(Math.random() * CONSUMER_TICK_EVERY);
  readonly #rtcpSsrc: number;
  #lastTwccMs = 0;
  #state = 'new';
  #verified = false;

  /** @internal Created by {@link Router.createWebRtcTransport}. */
  constructor(ctx: TransportContext, name: string) {
    super();
    this.#ctx = ctx;
    this.#rtcpSsrc = ctx.allocateSsrc();
    this.#link = ctx.createLink(name);
    this.#link.onStateChange((state) => {
      this.#state = state;
      if (this.#closed) return;
      if (state === 'connected') this.#setVerified();
      this.emit('connectionstatechange', state);
      if (state === 'failed' || state === 'closed') this.close();
    });
    this.#link.onTrack((mid, track) => {
      const p = this.#producersByMid.get(mid);
      if (p) p._attachTrack(track);
      else this.#orphanTracks.set(mid, track);
    });
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Peer connection state ('new', 'connecting', 'connected', 'disconnected', 'failed', 'closed'). */
  get connectionState(): string {
    return this.#state;
  }

  /** Producers of this transport. */
  get producers(): ReadonlyMap<string, Producer> {
    return this.#producers;
  }

  /** Consumers of this transport. */
  get consumers(): ReadonlyMap<string, Consumer> {
    return this.#consumers;
  }

  /** Adds an ICE candidate the client trickled after its offer (`a=candidate:` line or bare `candidate:`). */
  addRemoteCandidate(candidate: string, mid: string): void {
    this.#assertOpen();
    this.#link.addRemoteCandidate(candidate, mid);
  }

  /**
   * Accepts a publisher's offer: removes what we do not serve (see {@link mungePublisherOffer}), creates one
   * Producer per audio/video track and resolves with the answer once ICE candidates are gathered. Call again
   * with a new offer to add tracks (new mids become producers; existing ones keep theirs) or to stop one
   * (its m-section no longer sending: that producer closes). `options.simulcast` accepts simulcast layers (rid):
   * only on a link that delivers SSRCs the SDP does not list (the native one; libdatachannel drops them).
   */
  async publish(offer: string, options: PublisherOfferOptions = {}): Promise<PublishResult> {
    this.#assertOpen();
    const { sdp, media } = mungePublisherOffer(offer, options);
    // A track is received when its SSRC is announced, or its simulcast layers name themselves by rid.
    const demuxable = (m: PublishedMedia): boolean => m.ssrc !== 0 || (m.rids?.length ?? 0) > 0;
    const producers: Producer[] = [];
    // Renegotiation: a track the publisher stopped sending (m-section now inactive/recvonly/disabled) ends.
    const sending = new Set(media.filter((m) => isSending(m)).map((m) => m.mid));
    for (const [mid, p] of [...this.#producersByMid]) if (!sending.has(mid)) p.close();
    for (const m of media) {
      if (!isSending(m) || this.#producersByMid.has(m.mid)) continue;
      if (!demuxable(m)) continue; // no a=ssrc and no rids: nothing tells its packets
      const p = new Producer({
        media: m,
        rtcpSsrc: this.#rtcpSsrc,
        counters: this.#ctx.counters,
        twcc: (this.#twcc ??= new TwccRecorder()),
        now: nowMs,
        nowUs,
      });
      this.#producers.set(p.id, p);
      this.#producersByMid.set(m.mid, p);
      p.on('close', () => {
        this.#producers.delete(p.id);
        this.#producersByMid.delete(m.mid);
      });
      const early = this.#orphanTracks.get(m.mid);
      if (early) {
        this.#orphanTracks.delete(m.mid);
        p._attachTrack(early);
      }
      if (this.#verified) p._setTransportReady();
      producers.push(p);
    }
    const answer = await this.#link.answer(sdp, media.filter((m) => isSending(m) && demuxable(m)));
    this.#assertOpen();
    return { answer, producers };
  }

  /**
   * Answers a subscriber's offer. The subscriber offers one recvonly m-section per track it wants and says
   * which mid carries which producer; each request becomes a Consumer sending on that mid, with the payload
   * types the subscriber chose. Call again with a new offer (same transport) to add tracks: existing mids keep
   * their consumers. Having the client offer means the SFU holds the client's fingerprint before any DTLS
   * packet can arrive, and saves half a round trip over SFU-offers.
   * @example
   *   const { answer, consumers } = await recv.subscribe(offer, [{ mid: '0', producer: camera }]);
   */
  async subscribe(offer: string, requests: readonly SubscribeRequest[]): Promise<SubscribeResult> {
    this.#assertOpen();
    const { sdp, media } = mungeSubscriberOffer(offer);
    const byMid = new Map(media.map((m) => [m.mid, m]));
    for (const r of requests) {
      const m = byMid.get(r.mid);
      if (!m) throw new TypeError(`the offer has no ${r.producer.kind} m-section with mid ${r.mid} and a codec we serve`);
      if (m.kind !== r.producer.kind) throw new TypeError(`mid ${r.mid} is ${m.kind}, producer is ${r.producer.kind}`);
      if (r.producer.closed) throw new InvalidStateError('Producer closed');
      if (this.#consumersByMid.has(r.mid)) throw new TypeError(`mid ${r.mid} is already in use`);
    }
    const consumers = requests.map((r) => this.#consume(r, byMid.get(r.mid)!));
    const answer = await this.#link.answer(sdp, []);
    this.#assertOpen();
    return { answer, consumers };
  }

  #consume(request: SubscribeRequest, offered: PublishedMedia): Consumer {
    const { producer, mid } = request;
    const ssrc = this.#ctx.allocateSsrc();
    const video = producer.kind === 'video';
    const rtx = video && offered.rtxPayloadType >= 0 && request.rtx !== false;
    const rtxSsrc = rtx ? this.#ctx.allocateSsrc() : 0;
    const cname = producer.media.cname || producer.id;
    const streamId = request.streamId ?? producer.id;
    const trackId = request.trackId ?? `${producer.kind}-${mid}`;
    const pt = offered.payloadType;
    const consumer = new Consumer({
      mid,
      producer,
      ssrc,
      rtxSsrc,
      payloadType: pt,
      rtxPayloadType: rtx ? offered.rtxPayloadType : -1,
      cname,
      counters: this.#ctx.counters,
      now: nowMs,
    });
    consumer._attachTrack(
      this.#link.addSendTrack({ mid, kind: producer.kind, payloadType: pt, rtxPayloadType: rtx ? offered.rtxPayloadType : -1, ssrc, rtxSsrc, cname, streamId, trackId }),
    );
    if (this.#verified) consumer._setTransportReady();
    producer._addConsumer(consumer);
    this.#consumers.set(consumer.id, consumer);
    this.#consumersByMid.set(mid, consumer);
    consumer.on('close', () => {
      this.#consumers.delete(consumer.id);
      this.#consumersByMid.delete(mid);
    });
    return consumer;
  }

  /** True once DTLS is done and the peer's certificate matched the fingerprint of its SDP: media flows only then. */
  get verified(): boolean {
    return this.#verified;
  }

  #setVerified(): void {
    if (this.#verified || this.#closed) return;
    this.#verified = true;
    for (const p of this.#producers.values()) p._setTransportReady();
    for (const c of this.#consumers.values()) c._setTransportReady();
  }

  /** Closes the peer connection, its producers (and their consumers) and its consumers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.#producers.values()]) p._transportClosed();
    for (const c of [...this.#consumers.values()]) c._transportClosed();
    this.#producers.clear();
    this.#producersByMid.clear();
    this.#consumers.clear();
    this.#orphanTracks.clear();
    this.#link.close();
    this.#ctx.onClose(this);
    this.emit('close');
    this.off();
  }

  /** @internal Periodic work, driven by the router's timer. */
  _tick(now: number): void {
    if (this.#closed) return;
    for (const p of this.#producers.values()) p._tick(now);
    // Consumers only send sender reports (1 s) and repeat keyframe requests (1 s): every 5th tick is enough,
    // and transports take turns (a random phase) so the work is spread over the router's ticks.
    if (this.#consumers.size > 0 && ++this.#ticks % CONSUMER_TICK_EVERY === 0) for (const c of this.#consumers.values()) c._tick(now);
    if (this.#twcc?.hasPending && now - this.#lastTwccMs >= TWCC_INTERVAL_MS) {
      this.#lastTwccMs = now;
      this.#sendTwcc();
    }
  }

  #sendTwcc(): void {
    const twcc = this.#twcc;
    if (!twcc) return;
    let via: Producer | undefined;
    for (const p of this.#producers.values()) {
      if (p.open) {
        via = p;
        break;
      }
    }
    if (!via) return;
    for (let guard = 0; guard < 16; guard++) {
      const n = twcc.buildFeedback(TWCC_OUT, 0, this.#rtcpSsrc, via.media.ssrc || (via.layers[0]?.ssrc ?? 0));
      if (n === 0) break;
      via._sendRtcp(TWCC_OUT.subarray(0, n));
      this.#ctx.counters.rtcpTwccSent++;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
  }
}

function isSending(m: PublishedMedia): boolean {
  return !m.disabled && (m.direction === 'sendonly' || m.direction === 'sendrecv');
}
