import {
  type IceServer,
  ErrorCode,
  ErrorName,
  type MediaEvent,
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
import { BrowserPeer, hasBrowserMedia, loadNodeMedia, NodePeer, type MediaPeer, type PeerState } from '../media/peer.js';
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

interface Published {
  publisher: AnyPublisher;
  peer: MediaPeer;
  stream: Stream;
  unwire: () => void;
}

interface Subscription {
  subscriber: AnySubscriber;
  stream: Stream;
  peer: MediaPeer | null;
  subscriberId: string | null;
  /** Updates made before the subscribe answer arrived. */
  pending: SubscriptionUpdate;
  /** The server no longer has it (stream gone, unsubscribed): send nothing more. */
  gone: boolean;
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

  constructor(host: MediaHost) {
    this.#host = host;
  }

  /** Use these STUN/TURN servers for peer connections created from now on. */
  setIceServers(servers: readonly IceServer[] | undefined): void {
    this.#iceServers = servers ? [...servers] : [];
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
      case 'muteForced':
        if (e.streamId !== undefined) this.#published.get(e.streamId)?.publisher._forceMute();
        if (e.active !== undefined) this.#host.dispatch(new MuteForcedEvent(e.active));
        return true;
      case 'candidate':
        // The server puts every candidate in its answers (media.ts); nothing to apply.
        return true;
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
      rec.peer?.close();
      rec.peer = null;
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
    closeLater(p.peer, closeAfter);
    p.publisher._streamDestroyed(reason);
  }

  /** The session ended (any reason): end every stream locally. Subscribers stay when `keepSubscribers` (sessionDisconnected prevented). */
  onDisconnected(reason: StreamDestroyedReason, keepSubscribers: boolean): void {
    for (const p of [...this.#published.values()]) this.#endPublished(p, reason);
    this.#publishing.clear();
    for (const [sub, rec] of [...this.#subscriptions]) {
      rec.gone = true;
      rec.peer?.close();
      rec.peer = null;
      if (!keepSubscribers) {
        this.#subscriptions.delete(sub);
        sub._destroy(reason);
      }
    }
    this.#streams.clear();
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
      peer = await this.#publisherPeer(publisher);
      // Stereo / audio bit rate: Opus fmtp in our offer, and in the answer we apply (Chrome encodes
      // stereo only when the answer says so; the SFU forwards whatever Opus it gets).
      const opus = publisher instanceof Publisher ? publisher._opusParams() : null;
      const munge = opus ? (sdp: string) => setOpusParams(sdp, opus) : undefined;
      const sdp = await peer.offer(munge);
      const s = publisher._streamSettings();
      let res: PublishResult;
      try {
        res = (await this.#host.request({
          type: 'publish',
          sdp,
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
      await peer.answer(munge ? munge(res.sdp) : res.sdp);
      const stream = this.#addStream(res.stream);
      const pub: Published = { publisher, peer, stream, unwire: () => {} };
      published = pub;
      this.#published.set(stream.streamId, pub);
      this.#publishing.delete(publisher);
      pub.unwire = this.#wirePublisher(pub);
      publisher._streamCreated(this.#host.session, stream);
      if (res.audioMuted) publisher._forceMute();
      await this.#connected(peer);
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

  async #publisherPeer(publisher: AnyPublisher): Promise<MediaPeer> {
    if (publisher instanceof NodePublisher) {
      const { NodePeerConnection } = await loadNodeMedia();
      const pc = new NodePeerConnection({ iceServers: this.#iceServers, ...publisher._peerOptions() });
      publisher._attach(pc);
      return new NodePeer(pc);
    }
    const pc = new RTCPeerConnection({ iceServers: this.#iceServers });
    publisher._attach(pc);
    return new BrowserPeer(pc);
  }

  /** Resolves once the peer connects; rejects (and reports exception 1013) if it fails or takes too long. */
  #connected(peer: MediaPeer): Promise<void> {
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
    // Runtime failure after publish: the reference's 1013 exception; the stream goes away.
    p.peer.onStateChange = (s) => {
      if (s === 'failed' && this.#published.get(streamId) === p) {
        reportException(PEER_CONNECTION_FAILED, 'The media connection of a published stream failed', 'Connection Failed', this.#host.session);
        this.#send({ type: 'unpublish', streamId });
        this.#endPublished(p, 'networkDisconnected');
      }
    };
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
    const rec: Subscription = { subscriber, stream, peer: null, subscriberId: null, pending: {}, gone: false };
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
          rec.peer?.close();
          rec.peer = null;
          subscriber._destroy('subscribeFailed');
        }
        done(e);
      },
    );
    return subscriber;
  }

  async #startSubscription(rec: Subscription, props: SubscriberProperties & NodeSubscriberProperties): Promise<void> {
    const sub = rec.subscriber;
    let peer: MediaPeer;
    let wants: { subscribeToAudio: boolean; subscribeToVideo: boolean };
    if (sub instanceof NodeSubscriber) {
      const { NodePeerConnection } = await loadNodeMedia();
      if (rec.gone) throw new NotConnectedError('subscribe(): the subscriber was destroyed');
      const pc = new NodePeerConnection({ iceServers: this.#iceServers, ...sub._peerOptions() });
      sub._attach(pc);
      peer = new NodePeer(pc);
      wants = sub._wants();
    } else {
      const pc = new RTCPeerConnection({ iceServers: this.#iceServers });
      sub._setPeerConnection(pc);
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      peer = new BrowserPeer(pc);
      wants = { subscribeToAudio: props.subscribeToAudio !== false, subscribeToVideo: props.subscribeToVideo !== false };
    }
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
    await peer.answer(res.sdp);
    await Promise.race([this.#connected(peer), sub._whenLoaded()]);
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

/** Longest wait for the server's answer before a peer connection is closed anyway. */
const CLOSE_GRACE_MS = 2000;

/** Close `peer` once `after` settles (at most CLOSE_GRACE_MS later), or now without it. */
function closeLater(peer: MediaPeer, after: Promise<unknown> | undefined): void {
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
