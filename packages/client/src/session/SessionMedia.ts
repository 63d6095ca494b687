import {
  type IceServer,
  ErrorCode,
  ErrorName,
  type MediaEvent,
  type MediaMode,
  type PeerSignalEvent,
  type PublishResult,
  type StreamDestroyedReason,
  type StreamInfo,
  type StreamProperty,
  type SubscribeResult,
} from '@convene/protocol';
import type { ConveneEvent } from '../ConveneEvent.js';
import { ConveneError, InvalidParameterError, NotConnectedError, PermissionDeniedError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Publisher } from '../media/browser/Publisher.js';
import { Subscriber } from '../media/browser/Subscriber.js';
import { setOpusParams } from '../media/browser/sdp.js';
import type { SubscriptionUpdate } from '../media/browser/events.js';
import type { PublisherProperties, SubscriberProperties, TargetElement } from '../media/browser/types.js';
import { NodePublisher, type NodePublisherProperties } from '../media/node/NodePublisher.js';
import { NodeSubscriber, type NodeSubscriberProperties } from '../media/node/NodeSubscriber.js';
import type { NodePeerConnection, RemoteTrack } from '../media/node/NodePeerConnection.js';
import { BrowserPeer, hasBrowserMedia, loadNodeMedia, NodePeer, type MediaPeer, type PeerState } from '../media/peer.js';
import { effectiveIce, parseIceConfig, type ResolvedIceConfig } from '../media/iceConfig.js';
import { BrowserRelayPeer, NodeRelayPeer, RelayLink, type RelayPeerAdapter, type RelaySignal } from '../media/relay.js';
import { reportException } from '../ot/exceptions.js';
import type { RequestBody } from '../transport/SignalClient.js';
import { Connection } from './Connection.js';
import { MuteForcedEvent, SessionEvent, StreamEvent, StreamPropertyChangedEvent } from './events.js';
import { kSet, Stream } from './Stream.js';

/** A Publisher in either runtime: the browser's (camera/screen) or Node's (synthetic). */
export type AnyPublisher = Publisher | NodePublisher;
/** A Subscriber in either runtime. */
export type AnySubscriber = Subscriber | NodeSubscriber;

/** Exception code when a peer connection to the SFU fails (the reference's 1013). */
export const PEER_CONNECTION_FAILED = 1013;
/** How long a new peer connection may take to connect before it counts as failed (default). */
export const MEDIA_CONNECT_TIMEOUT_MS = 20_000;

/** What the media layer needs from its Session. */
export interface MediaHost {
  readonly session: unknown;
  request(body: RequestBody): Promise<unknown>;
  dispatch(event: ConveneEvent): void;
  isConnected(): boolean;
  selfId(): string | undefined;
  connection(id: string): Connection | undefined;
  /** ms a new peer connection may take to connect. */
  readonly connectTimeoutMs: number;
}

/** What the Session needs of any peer connection once negotiated: its state, and closing it. */
type PeerHandle = Pick<MediaPeer, 'state' | 'onStateChange' | 'close'>;

interface Published {
  publisher: AnyPublisher;
  /** Routed: the peer connection to the SFU. Relayed: null. */
  peer: MediaPeer | null;
  /** Relayed: one link per subscriber, by subscriberId. */
  relays: Map<string, RelayLink>;
  /** Routed: moving to a new peer connection (setIceConfig). */
  moving?: boolean;
  stream: Stream;
  unwire: () => void;
}

interface Subscription {
  subscriber: AnySubscriber;
  stream: Stream;
  peer: PeerHandle | null;
  /** Relayed: the negotiation with the publisher's client. */
  link: RelayLink | null;
  subscriberId: string | null;
  /** Updates made before the subscribe answer arrived. */
  pending: SubscriptionUpdate;
  /** The server no longer has it (stream gone, unsubscribed): send nothing more. */
  gone: boolean;
  /** The subscribe() properties (a re-subscription reuses them). */
  props?: SubscriberProperties & NodeSubscriberProperties;
  /** Being moved to a new peer connection (setIceConfig). */
  renewing?: boolean;
  /** A renewal's peer connection, not yet given to the Subscriber: call once it is connected. */
  activate?: () => void;
}

const log = createLogger('SessionMedia');

/**
 * The media half of a Session: streams, the local publishers and subscribers, their peer
 * connections to the SFU, and media moderation. Knows wire messages and the glue of the
 * Publisher/Subscriber objects (see media/browser/README.md), never the DOM.
 */
export class SessionMedia {
  readonly #host: MediaHost;
  readonly #streams = new Map<string, Stream>();
  /** Local publishers by streamId, once published. */
  readonly #published = new Map<string, Published>();
  /** Publishers with a publish in progress. */
  readonly #publishing = new Set<AnyPublisher>();
  readonly #subscriptions = new Map<AnySubscriber, Subscription>();
  /** STUN/TURN servers the server handed out at connect (fresh TURN credentials on every resume). */
  #iceServers: IceServer[] = [];
  /** How the session carries media (from the join result). */
  #mediaMode: MediaMode = 'routed';
  /** The SFU accepts simulcast (connect result): browser cameras publish layers. */
  #simulcast = false;
  /** Routed: streams moving to a new peer connection, resolved by `publisherMoved`. */
  readonly #moveWaiters = new Map<string, (moved: boolean) => void>();
  /** Relayed: our subscriptions by subscriberId, once the server answered `subscribe`. */
  readonly #relaySubs = new Map<string, Subscription>();
  /** Relayed: signals for a subscriberId we do not know yet (its `subscribe` answer is still on the way). */
  readonly #early = new Map<string, { at: number; signals: PeerSignalEvent[] }>();

  constructor(host: MediaHost) {
    this.#host = host;
  }

  /** Use these STUN/TURN servers for peer connections created from now on. */
  setIceServers(servers: readonly IceServer[] | undefined): void {
    this.#iceServers = servers ? [...servers] : [];
  }

  /** `session.setIceConfig()`: used by every peer connection created from now on (see `setIceConfig`). */
  #iceConfig: ResolvedIceConfig | null = null;

  /**
   * `session.setIceConfig()`: validate (TypeError) and apply to the session's peer connections, new ones
   * and existing ones: every routed publisher and subscriber moves to a new connection made with it (the old
   * one closes once the new one is up, and stays if the new one fails), relayed subscriptions included;
   * the publisher's side of relayed links gets the new servers and policy for its next ICE gathering.
   */
  setIceConfig(config: unknown): void {
    this.#iceConfig = parseIceConfig(config);
    const { iceServers, iceTransportPolicy } = this.#rtcConfig();
    const retune = (pc: RTCPeerConnection): void => {
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers, iceTransportPolicy });
      } catch (err) {
        log.debug({ err }, 'setConfiguration refused');
      }
    };
    for (const p of this.#published.values()) {
      for (const l of p.relays.values()) if (l.peer instanceof BrowserRelayPeer) retune(l.peer.pc);
      if (p.peer) void this.#movePublisher(p);
    }
    for (const rec of this.#subscriptions.values()) if (!rec.gone && rec.subscriberId !== null) void this.#resubscribe(rec);
  }

  #rtcConfig(): { iceServers: IceServer[]; iceTransportPolicy: 'all' | 'relay' } {
    return effectiveIce(this.#iceServers, this.#iceConfig);
  }

  #nodeIce(): { iceServers: IceServer[]; iceTransportPolicy?: 'all' | 'relay' } {
    return effectiveIce(this.#iceServers, this.#iceConfig);
  }

  /** The session's media mode and whether its SFU accepts simulcast, from the join result (routed, no simulcast when the server does not say). */
  setMediaMode(mode: MediaMode | undefined, simulcast = false): void {
    this.#mediaMode = mode === 'relayed' ? 'relayed' : 'routed';
    this.#simulcast = simulcast && this.#mediaMode === 'routed';
  }

  get mediaMode(): MediaMode {
    return this.#mediaMode;
  }

  /** Streams in the session, the local client's included. */
  streams(): Stream[] {
    return [...this.#streams.values()];
  }

  // ------------------------------------------------------------------ joined / events

  /** The join result: create the Stream objects (the caller dispatches sessionConnected, then `announce`). */
  onJoined(infos: readonly StreamInfo[] | undefined): Stream[] {
    this.#streams.clear();
    const out: Stream[] = [];
    for (const info of infos ?? []) out.push(this.#addStream(info));
    return out;
  }

  /** Dispatch `streamCreated` for the streams found at join (others' only). */
  announce(streams: readonly Stream[]): void {
    const self = this.#host.selfId();
    for (const s of streams) {
      if (s.connection.connectionId !== self && this.#streams.get(s.streamId) === s) this.#host.dispatch(new StreamEvent(SessionEvent.StreamCreated, s));
    }
  }

  /** Handle a media server event; returns false when it is not one. */
  onEvent(m: MediaEvent | { type: string }): boolean {
    const e = m as MediaEvent;
    switch (e.type) {
      case 'streamCreated': {
        if (this.#streams.has(e.stream.streamId)) return true;
        const s = this.#addStream(e.stream);
        if (s.connection.connectionId !== this.#host.selfId()) this.#host.dispatch(new StreamEvent(SessionEvent.StreamCreated, s));
        return true;
      }
      case 'streamDestroyed':
        this.#onStreamDestroyed(e.streamId, e.reason);
        return true;
      case 'streamPropertyChanged': {
        const s = this.#streams.get(e.streamId);
        if (!s) return true;
        s[kSet](e.changedProperty, e.newValue);
        this.#host.dispatch(new StreamPropertyChangedEvent(s, e.changedProperty, e.oldValue, e.newValue));
        for (const sub of this.#subscriptions.values()) if (sub.stream === s) sub.subscriber._streamPropertyChanged(e.changedProperty);
        return true;
      }
      case 'publisherMoved':
        this.#moveWaiters.get(e.streamId)?.(e.moved);
        return true;
      case 'muteForced':
        if (e.streamId !== undefined) this.#published.get(e.streamId)?.publisher._forceMute();
        if (e.active !== undefined) this.#host.dispatch(new MuteForcedEvent(e.active));
        return true;
      case 'candidate':
        // The server puts every candidate in its answers (media.ts); nothing to apply.
        return true;
      case 'peerSubscribe': {
        const p = this.#published.get(e.streamId);
        if (!p || p.peer) {
          log.debug({ subscriberId: e.subscriberId, streamId: e.streamId }, 'peerSubscribe for a stream we do not publish relayed');
          return true;
        }
        void this.#offerToSubscriber(p, e.subscriberId, e.connectionId, { audio: e.subscribeToAudio, video: e.subscribeToVideo }).catch((err: unknown) => {
          log.warn({ err, subscriberId: e.subscriberId }, 'relayed offer failed');
          this.#closeRelay(p, e.subscriberId);
        });
        return true;
      }
      case 'peerSignal':
        this.#onPeerSignal(e);
        return true;
      case 'peerUpdate': {
        for (const p of this.#published.values()) {
          if (!p.relays.has(e.subscriberId)) continue;
          if (e.subscribeToAudio !== undefined) void p.publisher._setRelaySending(e.subscriberId, 'audio', e.subscribeToAudio);
          if (e.subscribeToVideo !== undefined) void p.publisher._setRelaySending(e.subscriberId, 'video', e.subscribeToVideo);
        }
        return true;
      }
      case 'peerClosed': {
        const p = this.#published.get(e.streamId);
        if (p) this.#closeRelay(p, e.subscriberId);
        return true;
      }
      default:
        return false;
    }
  }

  #addStream(info: StreamInfo): Stream {
    const conn =
      this.#host.connection(info.connectionId) ??
      new Connection({ connectionId: info.connectionId, creationTime: 0, data: '', userName: '', userIdentity: '', role: 'publisher', isHost: false, isManager: false });
    const s = new Stream(info, conn);
    this.#streams.set(s.streamId, s);
    return s;
  }

  #onStreamDestroyed(streamId: string, reason: StreamDestroyedReason): void {
    const stream = this.#streams.get(streamId);
    const own = this.#published.get(streamId);
    if (!stream) return;
    this.#streams.delete(streamId);
    // The publisher's own client hears of its stream from the Publisher, except when forced (the reference).
    const event = new StreamEvent(SessionEvent.StreamDestroyed, stream, reason);
    if (!own || reason === 'forceUnpublished') this.#host.dispatch(event);
    this.#endSubscriptions(stream, event.isDefaultPrevented(), reason);
    if (own) this.#endPublished(own, reason);
  }

  /** Close the peer connections of a stream's subscribers; destroy them unless the app prevented it. */
  #endSubscriptions(stream: Stream, prevented: boolean, reason: string): void {
    for (const [sub, rec] of this.#subscriptions) {
      if (rec.stream !== stream) continue;
      rec.gone = true;
      this.#closePeer(rec);
      if (!prevented) {
        this.#subscriptions.delete(sub);
        sub._destroy(reason);
      }
    }
  }

  /**
   * End a local publication. `closeAfter`: the `unpublish` request just sent; the peer connection
   * is closed once the server answered it, so the SFU never sees the connection go first and ends
   * the stream as `networkDisconnected` instead of the reason we asked for.
   */
  #endPublished(p: Published, reason: StreamDestroyedReason, closeAfter?: Promise<unknown>): void {
    if (this.#published.get(p.stream.streamId) !== p) return;
    this.#published.delete(p.stream.streamId);
    this.#streams.delete(p.stream.streamId);
    p.unwire();
    if (p.peer) closeLater(p.peer, closeAfter);
    for (const link of p.relays.values()) link.close();
    p.relays.clear();
    p.publisher._streamDestroyed(reason);
  }

  /** The session ended (any reason): end every stream locally. Subscribers stay when `keepSubscribers` (sessionDisconnected prevented). */
  onDisconnected(reason: StreamDestroyedReason, keepSubscribers: boolean): void {
    for (const p of [...this.#published.values()]) this.#endPublished(p, reason);
    this.#publishing.clear();
    for (const [sub, rec] of [...this.#subscriptions]) {
      rec.gone = true;
      this.#closePeer(rec);
      if (!keepSubscribers) {
        this.#subscriptions.delete(sub);
        sub._destroy(reason);
      }
    }
    this.#streams.clear();
    this.#relaySubs.clear();
    this.#early.clear();
  }

  /** Close a subscription's peer connection (and relayed negotiation) now. */
  #closePeer(rec: Subscription): void {
    rec.link?.close();
    rec.link = null;
    rec.peer?.close();
    rec.peer = null;
    if (rec.subscriberId !== null && this.#relaySubs.get(rec.subscriberId) === rec) this.#relaySubs.delete(rec.subscriberId);
  }

  // ------------------------------------------------------------------ publish

  /** `session.publish(publisher)`: resolves when the stream is created and its media connected. */
  async publish(publisher: AnyPublisher): Promise<void> {
    if (!(publisher instanceof Publisher) && !(publisher instanceof NodePublisher)) throw new InvalidParameterError('publish(): pass a Publisher from initPublisher()');
    if (!this.#host.isConnected()) throw new NotConnectedError('publish(): not connected to the session');
    if (publisher.stream || this.#publishing.has(publisher)) throw new ConveneError(ErrorName.InvalidState, ErrorCode.InvalidParameter, 'publish(): this publisher is already publishing');
    this.#publishing.add(publisher);
    let peer: MediaPeer | null = null;
    let published: Published | null = null;
    try {
      await publisher._whenReady();
      if (!this.#publishing.has(publisher)) throw aborted();
      const relayed = this.#mediaMode === 'relayed';
      // Stereo / audio bit rate: Opus fmtp in our offer, and in the answer we apply (Chrome encodes
      // stereo only when the answer says so; the SFU forwards whatever Opus it gets).
      const opus = publisher instanceof Publisher ? publisher._opusParams() : null;
      const munge = opus ? (sdp: string) => setOpusParams(sdp, opus) : undefined;
      let sdp: string | undefined;
      if (!relayed) {
        peer = await this.#publisherPeer(publisher);
        sdp = await peer.offer(munge);
      }
      const s = publisher._streamSettings();
      let res: PublishResult;
      try {
        res = (await this.#host.request({
          type: 'publish',
          ...(relayed ? { tracks: publisher._tracks() } : { sdp }),
          name: s.name || undefined,
          hasAudio: s.hasAudio,
          hasVideo: s.hasVideo,
          videoType: s.videoType ?? undefined,
          videoDimensions: s.videoDimensions ?? undefined,
          frameRate: s.frameRate ?? undefined,
        })) as PublishResult;
      } catch (err) {
        if (err instanceof ConveneError && err.name === ErrorName.PermissionDenied) {
          reportException(ErrorCode.PublishPermissionDenied, err.message, 'Unable to Publish', this.#host.session);
          throw new PermissionDeniedError(err.message, ErrorCode.PublishPermissionDenied);
        }
        throw err;
      }
      if (!this.#publishing.has(publisher) || !this.#host.isConnected()) {
        // Unpublished or disconnected while waiting for the answer.
        if (this.#host.isConnected()) this.#send({ type: 'unpublish', streamId: res.stream.streamId });
        throw aborted();
      }
      if (peer) {
        if (typeof res.sdp !== 'string') throw new ConveneError(ErrorName.UnexpectedServerResponse, ErrorCode.InternalError, 'publish: the server sent no SDP answer');
        await peer.answer(munge ? munge(res.sdp) : res.sdp);
      }
      const stream = this.#addStream(res.stream);
      const pub: Published = { publisher, peer, relays: new Map(), stream, unwire: () => {} };
      published = pub;
      this.#published.set(stream.streamId, pub);
      this.#publishing.delete(publisher);
      pub.unwire = this.#wirePublisher(pub);
      publisher._streamCreated(this.#host.session, stream);
      if (res.audioMuted) publisher._forceMute();
      // Relayed: published now; each subscriber's peer connection comes with its peerSubscribe.
      if (peer) await this.#connected(peer);
    } catch (err) {
      this.#publishing.delete(publisher);
      if (published) {
        // Media never connected: take the stream down everywhere.
        if (this.#published.get(published.stream.streamId) === published) {
          this.#send({ type: 'unpublish', streamId: published.stream.streamId });
          this.#endPublished(published, 'networkDisconnected');
        }
      } else {
        peer?.close();
        publisher._detach();
      }
      throw err;
    }
  }

  /**
   * One more peer connection for a published stream, with its tracks attached in the publisher's slot `slot`
   * (`_attachRelay`): a relayed subscriber's, or a routed stream's new connection while it moves. `munge` is
   * the Opus fmtp rewrite to apply to the offer and the answer (browser only). Null when the stream ended
   * while Node media loaded.
   */
  async #extraPublisherPeer(
    p: Published,
    slot: string,
    connectionId: string,
    wants: { audio: boolean; video: boolean },
  ): Promise<{ node: NodePeerConnection } | { browser: RTCPeerConnection; munge: ((sdp: string) => string) | undefined } | null> {
    const publisher = p.publisher;
    if (publisher instanceof NodePublisher) {
      const { NodePeerConnection } = await loadNodeMedia();
      if (this.#published.get(p.stream.streamId) !== p) return null;
      // Trickle whatever the bot's options say: a relayed link sends its candidates only as they come.
      const pc = new NodePeerConnection({ ...this.#nodeIce(), ...publisher._peerOptions(), trickle: true });
      publisher._attachRelay(slot, pc, wants);
      return { node: pc };
    }
    const pc = new RTCPeerConnection(this.#rtcConfig());
    // A routed stream's new connection (a move) simulcasts as the first one did; a relayed link never does.
    publisher._attachRelay(slot, connectionId, pc, wants, { simulcast: this.#mediaMode === 'routed' && this.#simulcast });
    const opus = publisher._opusParams();
    return { browser: pc, munge: opus ? (sdp: string) => setOpusParams(sdp, opus) : undefined };
  }

  /** Relayed: a peer connection toward one subscriber, with our tracks, and our offer sent through the server. */
  async #offerToSubscriber(p: Published, subscriberId: string, connectionId: string, wants: { audio: boolean; video: boolean }): Promise<void> {
    const extra = await this.#extraPublisherPeer(p, subscriberId, connectionId, wants);
    if (!extra) return;
    const adapter: RelayPeerAdapter = 'node' in extra ? new NodeRelayPeer(extra.node) : new BrowserRelayPeer(extra.browser, extra.munge);
    const link = new RelayLink(adapter, 'offerer', (sig) => this.#peerSignal(subscriberId, sig));
    p.relays.set(subscriberId, link);
    adapter.onStateChange = (st) => {
      if (st === 'failed') {
        log.warn({ subscriberId }, 'relayed peer connection to a subscriber failed');
        this.#closeRelay(p, subscriberId);
      }
    };
    await link.start();
  }

  /** Relayed, publisher side: close the peer connection toward one subscriber. */
  #closeRelay(p: Published, subscriberId: string): void {
    const link = p.relays.get(subscriberId);
    if (!link) return;
    p.relays.delete(subscriberId);
    link.close();
    p.publisher._detachRelay(subscriberId);
  }

  /** Relayed: a description or candidate from the other end of one of our links. */
  #onPeerSignal(e: PeerSignalEvent): void {
    const link = this.#published.get(e.streamId)?.relays.get(e.subscriberId) ?? this.#relaySubs.get(e.subscriberId)?.link;
    if (link) {
      link.receive(e).catch((err: unknown) => log.warn({ err, subscriberId: e.subscriberId }, 'relayed signal could not be applied'));
      return;
    }
    // Our subscribe answer may still be on its way: keep the signal for a little while.
    const now = Date.now();
    for (const [id, v] of this.#early) if (now - v.at > EARLY_SIGNAL_MS) this.#early.delete(id);
    const entry = this.#early.get(e.subscriberId) ?? { at: now, signals: [] };
    if (entry.signals.length < EARLY_SIGNAL_MAX) entry.signals.push(e);
    this.#early.set(e.subscriberId, entry);
  }

  #peerSignal(subscriberId: string, sig: RelaySignal): void {
    this.#send({ type: 'peerSignal', subscriberId, ...sig });
  }

  async #publisherPeer(publisher: AnyPublisher): Promise<MediaPeer> {
    if (publisher instanceof NodePublisher) {
      const { NodePeerConnection } = await loadNodeMedia();
      const pc = new NodePeerConnection({ ...this.#nodeIce(), ...publisher._peerOptions() });
      publisher._attach(pc);
      return new NodePeer(pc);
    }
    const pc = new RTCPeerConnection(this.#rtcConfig());
    publisher._attach(pc, { simulcast: this.#simulcast });
    return new BrowserPeer(pc);
  }

  /** Resolves once the peer connects; rejects (and reports exception 1013) if it fails or takes too long. */
  #connected(peer: PeerHandle): Promise<void> {
    if (peer.state === 'connected') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const prev = peer.onStateChange;
      const fail = (why: string): void => {
        clearTimeout(timer);
        peer.onStateChange = prev;
        reportException(PEER_CONNECTION_FAILED, why, 'Connection Failed', this.#host.session);
        reject(new ConveneError(ErrorName.ConnectFailed, PEER_CONNECTION_FAILED, why));
      };
      const ms = this.#host.connectTimeoutMs;
      const timer = setTimeout(() => fail(`The media connection did not connect within ${ms} ms`), ms);
      peer.onStateChange = (s: PeerState) => {
        prev?.(s);
        if (s === 'connected') {
          clearTimeout(timer);
          peer.onStateChange = prev;
          resolve();
        } else if (s === 'failed') fail('The media connection to the server failed (ICE/DTLS)');
        else if (s === 'closed') {
          clearTimeout(timer);
          peer.onStateChange = prev;
          reject(new NotConnectedError('The media connection was closed'));
        }
      };
    });
  }

  #wirePublisher(p: Published): () => void {
    const { publisher, stream } = p;
    const streamId = stream.streamId;
    const onProperty = (property: StreamProperty, _old: unknown, now: unknown): void => {
      if (this.#published.get(streamId) !== p) return;
      if (property === 'hasAudio' || property === 'hasVideo') this.#send({ type: 'streamUpdate', streamId, [property]: now === true });
      else if (property === 'videoDimensions' && now && typeof now === 'object') {
        const d = now as { width: number; height: number };
        if (d.width > 0 && d.height > 0) this.#send({ type: 'streamUpdate', streamId, videoDimensions: { width: d.width, height: d.height } });
      } else if (property === 'videoType' && typeof now === 'string') this.#send({ type: 'streamUpdate', streamId, videoType: now as 'camera' | 'screen' | 'custom' });
    };
    const onMediaStopped = (): void => {
      if (this.#published.get(streamId) !== p) return;
      this.#endPublished(p, 'mediaStopped', this.#send({ type: 'unpublish', streamId, reason: 'mediaStopped' }));
    };
    const onDestroying = (): void => {
      if (this.#published.get(streamId) !== p) return;
      this.#endPublished(p, 'unpublished', this.#send({ type: 'unpublish', streamId }));
    };
    if (p.peer) this.#watchPublisherPeer(p, p.peer);
    const internal = publisher._internal;
    internal.on('propertyChanged', onProperty);
    internal.on('mediaStopped', onMediaStopped);
    internal.on('destroying', onDestroying);
    return () => {
      internal.off('propertyChanged', onProperty);
      internal.off('mediaStopped', onMediaStopped);
      internal.off('destroying', onDestroying);
    };
  }

  /** Runtime failure of a published stream's peer connection: the reference's 1013 exception; the stream goes away (unless it is moving). */
  #watchPublisherPeer(p: Published, peer: MediaPeer): void {
    const streamId = p.stream.streamId;
    peer.onStateChange = (s) => {
      if (s === 'failed' && this.#published.get(streamId) === p && p.peer === peer && !p.moving) {
        reportException(PEER_CONNECTION_FAILED, 'The media connection of a published stream failed', 'Connection Failed', this.#host.session);
        this.#send({ type: 'unpublish', streamId });
        this.#endPublished(p, 'networkDisconnected');
      }
    };
  }

  /**
   * Routed: move a published stream to a new peer connection made with the current ICE configuration
   * (setIceConfig), make-before-break: the server moves its subscribers once the new connection is up
   * (`publisherMoved`), then the old one is closed. If the new one fails, the old one stays.
   */
  async #movePublisher(p: Published): Promise<void> {
    if (p.moving || !p.peer) return;
    p.moving = true;
    const publisher = p.publisher;
    const streamId = p.stream.streamId;
    const id = `move-${++moves}`;
    let peer: MediaPeer | null = null;
    let munge: ((sdp: string) => string) | undefined;
    try {
      const extra = await this.#extraPublisherPeer(p, id, '', { audio: true, video: true });
      if (!extra) throw new NotConnectedError('the stream ended while moving');
      if ('node' in extra) peer = new NodePeer(extra.node);
      else {
        peer = new BrowserPeer(extra.browser);
        munge = extra.munge;
      }
      const sdp = await peer.offer(munge);
      const outcome = new Promise<boolean>((resolve) => this.#moveWaiters.set(streamId, resolve));
      const res = (await this.#host.request({ type: 'publish', sdp, replaceStreamId: streamId })) as PublishResult;
      if (typeof res.sdp !== 'string') throw new ConveneError(ErrorName.UnexpectedServerResponse, ErrorCode.InternalError, 'publish: the server sent no SDP answer');
      await peer.answer(munge ? munge(res.sdp) : res.sdp);
      const moved = await Promise.race([outcome, new Promise<boolean>((r) => setTimeout(() => r(false), MOVE_WAIT_MS))]);
      if (!moved) throw new ConveneError(ErrorName.ConnectFailed, PEER_CONNECTION_FAILED, 'the new peer connection did not connect');
      if (this.#published.get(streamId) !== p) throw new NotConnectedError('the stream ended while moving');
      const old = p.peer;
      publisher._promoteRelay(id);
      p.peer = peer;
      this.#watchPublisherPeer(p, peer);
      old?.close();
      log.debug({ streamId }, 'published stream moved to a new peer connection');
    } catch (err) {
      log.warn({ err, streamId }, 'could not move a published stream to the new ICE configuration; keeping the old connection');
      publisher._detachRelay(id);
      peer?.close();
    } finally {
      this.#moveWaiters.delete(streamId);
      p.moving = false;
    }
  }

  /** `session.unpublish(publisher)`: the stream ends everywhere; the Publisher dispatches `streamDestroyed` (reason `unpublished`). */
  unpublish(publisher: AnyPublisher): void {
    if (this.#publishing.delete(publisher)) return; // the publish in flight sees it and aborts
    const p = publisher.stream ? this.#published.get(publisher.stream.streamId) : undefined;
    if (!p || p.publisher !== publisher) {
      log.warn({ publisherId: publisher?.id }, 'unpublish(): this publisher is not publishing in this session');
      return;
    }
    this.#endPublished(p, 'unpublished', this.#send({ type: 'unpublish', streamId: p.stream.streamId }));
  }

  /** The local Publisher of a stream, or null. */
  getPublisherForStream(stream: { streamId: string } | null | undefined): AnyPublisher | null {
    if (!stream || typeof stream.streamId !== 'string') throw new InvalidParameterError('getPublisherForStream(): pass a Stream');
    return this.#published.get(stream.streamId)?.publisher ?? null;
  }

  // ------------------------------------------------------------------ subscribe

  /** `session.subscribe()`: returns the Subscriber at once; `done` is called when it plays (or fails). */
  subscribe(
    streamArg: { streamId: string },
    target: TargetElement,
    properties: (SubscriberProperties & NodeSubscriberProperties) | undefined,
    done: (err?: ConveneError) => void,
  ): AnySubscriber {
    if (!this.#host.isConnected()) throw new NotConnectedError('subscribe(): not connected to the session');
    const id = (streamArg as { streamId?: unknown } | null)?.streamId;
    if (typeof id !== 'string') throw new InvalidParameterError('subscribe(): pass a Stream from streamCreated or sessionConnected');
    const stream = this.#streams.get(id);
    if (!stream) throw new ConveneError(ErrorName.NotFound, ErrorCode.NotFound, `subscribe(): stream ${id} is not in this session`);
    const props = properties ?? {};
    const browser = hasBrowserMedia();
    const subscriber: AnySubscriber = browser ? new Subscriber(stream, target, props, this.#host.session) : new NodeSubscriber(stream, props, this.#host.session);
    const rec: Subscription = { subscriber, stream, peer: null, link: null, subscriberId: null, pending: {}, gone: false, props };
    this.#subscriptions.set(subscriber, rec);
    subscriber._internal.on('subscriptionChanged', (u) => this.#onSubscriptionChanged(rec, u));
    subscriber._internal.on('destroying', () => this.#unsubscribe(rec));

    const own = this.#published.get(stream.streamId);
    if (own && props.testNetwork !== true && subscriber instanceof Subscriber && own.publisher instanceof Publisher) {
      // Your own stream without testNetwork: show the local capture, no round trip through the SFU.
      rec.gone = true;
      const audio = own.publisher.getAudioSource();
      const video = own.publisher.getVideoSource().track;
      if (audio) subscriber._addTrack(audio);
      if (video) subscriber._addTrack(video);
      subscriber._whenLoaded().then(() => done(), () => {});
      return subscriber;
    }
    void this.#startSubscription(rec, props).then(
      () => done(),
      (err: unknown) => {
        const e = err instanceof ConveneError ? err : new ConveneError(ErrorName.UnexpectedServerResponse, ErrorCode.InternalError, String(err), { cause: err });
        if (this.#subscriptions.get(subscriber) === rec) {
          this.#subscriptions.delete(subscriber);
          if (!rec.gone && rec.subscriberId) this.#send({ type: 'unsubscribe', subscriberId: rec.subscriberId });
          rec.gone = true;
          this.#closePeer(rec);
          subscriber._destroy('subscribeFailed');
        }
        done(e);
      },
    );
    return subscriber;
  }

  async #startSubscription(rec: Subscription, props: SubscriberProperties & NodeSubscriberProperties): Promise<void> {
    if (this.#mediaMode === 'relayed') return this.#startRelayedSubscription(rec, props);
    const sub = rec.subscriber;
    let peer: MediaPeer;
    let wants: { subscribeToAudio: boolean; subscribeToVideo: boolean };
    let activate: () => void;
    if (sub instanceof NodeSubscriber) {
      const { NodePeerConnection } = await loadNodeMedia();
      if (rec.gone) throw new NotConnectedError('subscribe(): the subscriber was destroyed');
      const pc = new NodePeerConnection({ ...this.#nodeIce(), ...sub._peerOptions() });
      const tracks = sub._prepare(pc);
      activate = () => sub._use(pc, tracks);
      peer = new NodePeer(pc);
      wants = sub._wants();
    } else {
      const pc = new RTCPeerConnection(this.#rtcConfig());
      activate = browserActivation(sub, pc);
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      peer = new BrowserPeer(pc);
      wants = { subscribeToAudio: props.subscribeToAudio !== false, subscribeToVideo: props.subscribeToVideo !== false };
    }
    if (rec.renewing) rec.activate = activate;
    else activate();
    rec.peer = peer;
    const sdp = await peer.offer();
    if (rec.gone) throw new NotConnectedError('subscribe(): the subscriber was destroyed');
    const pending = rec.pending;
    rec.pending = {};
    const res = (await this.#host.request({
      type: 'subscribe',
      streamId: rec.stream.streamId,
      sdp,
      subscribeToAudio: pending.subscribeToAudio ?? wants.subscribeToAudio,
      subscribeToVideo: pending.subscribeToVideo ?? wants.subscribeToVideo,
      preferredResolution: pending.preferredResolution ?? props.preferredResolution ?? undefined,
      preferredFrameRate: pending.preferredFrameRate ?? props.preferredFrameRate ?? undefined,
    })) as SubscribeResult;
    rec.subscriberId = res.subscriberId;
    if (rec.gone) {
      // Destroyed (or its stream ended) while the request was in flight.
      this.#send({ type: 'unsubscribe', subscriberId: res.subscriberId });
      throw new NotConnectedError('subscribe(): the subscriber was destroyed');
    }
    if (Object.keys(rec.pending).length > 0) this.#onSubscriptionChanged(rec, {});
    if (typeof res.sdp !== 'string') throw new ConveneError(ErrorName.UnexpectedServerResponse, ErrorCode.InternalError, 'subscribe: the server sent no SDP answer');
    await peer.answer(res.sdp);
    await Promise.race([this.#connected(peer), sub._whenLoaded()]);
    await sub._whenLoaded();
  }

  /**
   * Move a live subscription to a new peer connection (setIceConfig): subscribe again, wait until the new
   * connection is up, then end the old subscription. If the new one fails, the old one stays.
   */
  async #resubscribe(rec: Subscription): Promise<void> {
    if (rec.renewing) return;
    rec.renewing = true;
    const next: Subscription = { subscriber: rec.subscriber, stream: rec.stream, peer: null, link: null, subscriberId: null, pending: {}, gone: false, renewing: true };
    try {
      await this.#startSubscription(next, rec.props ?? {});
      if (next.peer) await this.#connected(next.peer);
      if (rec.gone || this.#subscriptions.get(rec.subscriber) !== rec) throw new NotConnectedError('the subscriber went away');
      next.activate?.();
      const oldId = rec.subscriberId;
      const ack = oldId !== null ? this.#send({ type: 'unsubscribe', subscriberId: oldId }) : undefined;
      if (oldId !== null && this.#relaySubs.get(oldId) === rec) this.#relaySubs.delete(oldId);
      rec.link?.close();
      if (rec.peer) closeLater(rec.peer, ack);
      rec.peer = next.peer;
      rec.link = next.link;
      rec.subscriberId = next.subscriberId;
      if (rec.subscriberId !== null && this.#relaySubs.get(rec.subscriberId) === next) this.#relaySubs.set(rec.subscriberId, rec);
      log.debug({ from: oldId, to: rec.subscriberId }, 'subscription moved to a new peer connection');
    } catch (err) {
      log.warn({ err, streamId: rec.stream.streamId }, 'could not move a subscription to the new ICE configuration; keeping the old connection');
      if (next.subscriberId !== null) {
        this.#send({ type: 'unsubscribe', subscriberId: next.subscriberId });
        if (this.#relaySubs.get(next.subscriberId) === next) this.#relaySubs.delete(next.subscriberId);
      }
      next.gone = true;
      next.link?.close();
      next.peer?.close();
    } finally {
      rec.renewing = false;
    }
  }

  /** Relayed: the publisher's client offers (after our `subscribe`), we answer; candidates trickle both ways. */
  async #startRelayedSubscription(rec: Subscription, props: SubscriberProperties & NodeSubscriberProperties): Promise<void> {
    const sub = rec.subscriber;
    let adapter: RelayPeerAdapter;
    let wants: { subscribeToAudio: boolean; subscribeToVideo: boolean };
    let activate: () => void;
    if (sub instanceof NodeSubscriber) {
      const { NodePeerConnection } = await loadNodeMedia();
      if (rec.gone) throw new NotConnectedError('subscribe(): the subscriber was destroyed');
      const pc = new NodePeerConnection({ ...this.#nodeIce(), ...sub._peerOptions(), trickle: true });
      const tracks: RemoteTrack[] = [];
      pc.on('track', (t) => tracks.push(t));
      activate = () => sub._use(pc, tracks);
      adapter = new NodeRelayPeer(pc);
      wants = sub._wants();
    } else {
      const pc = new RTCPeerConnection(this.#rtcConfig());
      activate = browserActivation(sub, pc);
      adapter = new BrowserRelayPeer(pc);
      wants = { subscribeToAudio: props.subscribeToAudio !== false, subscribeToVideo: props.subscribeToVideo !== false };
    }
    if (rec.renewing) rec.activate = activate;
    else activate();
    rec.peer = adapter;
    const pending = rec.pending;
    rec.pending = {};
    const res = (await this.#host.request({
      type: 'subscribe',
      streamId: rec.stream.streamId,
      subscribeToAudio: pending.subscribeToAudio ?? wants.subscribeToAudio,
      subscribeToVideo: pending.subscribeToVideo ?? wants.subscribeToVideo,
      preferredResolution: pending.preferredResolution ?? props.preferredResolution ?? undefined,
      preferredFrameRate: pending.preferredFrameRate ?? props.preferredFrameRate ?? undefined,
    })) as SubscribeResult;
    const subscriberId = res.subscriberId;
    rec.subscriberId = subscriberId;
    if (rec.gone) {
      this.#send({ type: 'unsubscribe', subscriberId });
      throw new NotConnectedError('subscribe(): the subscriber was destroyed');
    }
    const link = new RelayLink(adapter, 'answerer', (sig) => this.#peerSignal(subscriberId, sig));
    rec.link = link;
    this.#relaySubs.set(subscriberId, rec);
    for (const e of this.#early.get(subscriberId)?.signals ?? []) this.#onPeerSignal(e);
    this.#early.delete(subscriberId);
    if (Object.keys(rec.pending).length > 0) this.#onSubscriptionChanged(rec, {});
    await Promise.race([this.#connected(adapter), sub._whenLoaded()]);
    await sub._whenLoaded();
  }

  #onSubscriptionChanged(rec: Subscription, update: SubscriptionUpdate): void {
    if (rec.gone) return;
    if (rec.subscriberId === null) {
      Object.assign(rec.pending, update);
      return;
    }
    const all = { ...rec.pending, ...update };
    rec.pending = {};
    this.#send({ type: 'subscription', subscriberId: rec.subscriberId, ...all });
  }

  #unsubscribe(rec: Subscription): void {
    if (this.#subscriptions.get(rec.subscriber) !== rec) return;
    this.#subscriptions.delete(rec.subscriber);
    const id = rec.subscriberId;
    const wasGone = rec.gone;
    rec.gone = true;
    const ack = !wasGone && id ? this.#send({ type: 'unsubscribe', subscriberId: id }) : undefined;
    if (id !== null && this.#relaySubs.get(id) === rec) this.#relaySubs.delete(id);
    rec.link = null;
    if (rec.peer) closeLater(rec.peer, ack);
    rec.peer = null;
  }

  /** `session.unsubscribe(subscriber)`: stop receiving and remove it from the page. */
  unsubscribe(subscriber: AnySubscriber): void {
    const rec = this.#subscriptions.get(subscriber);
    if (!rec) {
      log.warn({ subscriberId: (subscriber as { id?: string } | null)?.id }, 'unsubscribe(): not a subscriber of this session');
      return;
    }
    this.#unsubscribe(rec);
    subscriber._destroy('unsubscribed');
  }

  /** The local Subscribers of a stream. */
  getSubscribersForStream(stream: { streamId: string } | null | undefined): AnySubscriber[] {
    if (!stream || typeof stream.streamId !== 'string') throw new InvalidParameterError('getSubscribersForStream(): pass a Stream');
    const out: AnySubscriber[] = [];
    for (const rec of this.#subscriptions.values()) if (rec.stream.streamId === stream.streamId) out.push(rec.subscriber);
    return out;
  }

  // ------------------------------------------------------------------ moderation

  /** forceUnpublish: moderators (and hosts) only. */
  async forceUnpublish(stream: { streamId: string } | null | undefined): Promise<void> {
    const id = streamIdOf(stream, 'forceUnpublish');
    if (!this.#host.isConnected()) throw new NotConnectedError();
    try {
      await this.#host.request({ type: 'forceUnpublish', streamId: id });
    } catch (err) {
      if (err instanceof ConveneError && err.name === ErrorName.PermissionDenied) {
        reportException(err.code || ErrorCode.ForceDisconnectDenied, err.message, 'Force Unpublish Denied', this.#host.session);
      }
      throw err;
    }
  }

  /** forceMuteStream: mute one stream's audio. */
  async forceMuteStream(stream: { streamId: string } | null | undefined): Promise<void> {
    const id = streamIdOf(stream, 'forceMuteStream');
    if (!this.#host.isConnected()) throw new NotConnectedError();
    await this.#moderationRequest({ type: 'forceMuteStream', streamId: id });
  }

  /** forceMuteAll: mute every stream but the excluded ones; new streams start muted. */
  async forceMuteAll(excludedStreams?: readonly { streamId: string }[] | null): Promise<void> {
    if (excludedStreams !== undefined && excludedStreams !== null && !Array.isArray(excludedStreams)) {
      throw new InvalidParameterError('forceMuteAll(): excludedStreams must be an array of Streams');
    }
    const ids = (excludedStreams ?? []).map((s) => streamIdOf(s, 'forceMuteAll'));
    if (!this.#host.isConnected()) throw new NotConnectedError();
    await this.#moderationRequest({ type: 'forceMuteAll', excludedStreamIds: ids });
  }

  /** disableForceMute: new streams no longer start muted. */
  async disableForceMute(): Promise<void> {
    if (!this.#host.isConnected()) throw new NotConnectedError();
    await this.#moderationRequest({ type: 'disableForceMute' });
  }

  /** The reference's promise errors: the server's names where it has them, OT_UNEXPECTED_SERVER_RESPONSE otherwise. */
  async #moderationRequest(body: RequestBody): Promise<void> {
    try {
      await this.#host.request(body);
    } catch (err) {
      if (err instanceof ConveneError && KNOWN_MODERATION_ERRORS.has(err.name)) throw err;
      throw new ConveneError(ErrorName.UnexpectedServerResponse, ErrorCode.InternalError, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** Fire-and-forget request: never rejects (a failure is only logged); settles when answered. */
  #send(body: RequestBody): Promise<void> | undefined {
    if (!this.#host.isConnected()) return undefined;
    return this.#host.request(body).then(
      () => undefined,
      (err: unknown) => log.debug({ err, type: body.type }, 'media request failed'),
    );
  }
}

/**
 * Give a browser Subscriber its peer connection, replaying the tracks that arrived before (a renewal
 * negotiates first and hands the connection over only once it is up).
 */
function browserActivation(sub: Subscriber, pc: RTCPeerConnection): () => void {
  const seen: RTCTrackEvent[] = [];
  const onTrack = (e: RTCTrackEvent): void => void seen.push(e);
  pc.addEventListener('track', onTrack);
  return () => {
    pc.removeEventListener('track', onTrack);
    sub._setPeerConnection(pc);
    for (const e of seen) sub._addTrack(e.track, e.receiver);
  };
}

/** Moves of published streams so far (ids of their temporary peer-connection slots). */
let moves = 0;
/** Longest wait for `publisherMoved` after the new connection's answer (the server gives up after 20 s). */
const MOVE_WAIT_MS = 25_000;

/** How long relayed signals for a subscription we do not know yet are kept, and how many. */
const EARLY_SIGNAL_MS = 10_000;
const EARLY_SIGNAL_MAX = 64;

/** Longest wait for the server's answer before a peer connection is closed anyway. */
const CLOSE_GRACE_MS = 2000;

/** Close `peer` once `after` settles (at most CLOSE_GRACE_MS later), or now without it. */
function closeLater(peer: PeerHandle, after: Promise<unknown> | undefined): void {
  if (!after) {
    peer.close();
    return;
  }
  const timer = setTimeout(() => peer.close(), CLOSE_GRACE_MS);
  void after.finally(() => {
    clearTimeout(timer);
    peer.close();
  });
}

/** publish() was overtaken by unpublish() or a disconnect. */
function aborted(): ConveneError {
  return new NotConnectedError('publish(): cancelled by unpublish() or the session disconnecting');
}

const KNOWN_MODERATION_ERRORS = new Set<string>([ErrorName.NotConnected, ErrorName.PermissionDenied, ErrorName.InvalidParameter, ErrorName.NotFound]);

function streamIdOf(stream: { streamId: string } | null | undefined, method: string): string {
  const id = (stream as { streamId?: unknown } | null | undefined)?.streamId;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidParameterError(`${method}(): pass a Stream`);
  return id;
}

/** Properties accepted by `initPublisher()`: the browser's, or Node's synthetic ones. */
export type AnyPublisherProperties = PublisherProperties | NodePublisherProperties;
