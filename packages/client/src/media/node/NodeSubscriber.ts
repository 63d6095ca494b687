import { TypedEmitter, type StreamProperty } from '@convene/protocol';
import { ConveneEvent } from '../../ConveneEvent.js';
import { EventDispatcher } from '../../EventDispatcher.js';
import { DestroyedEvent, VideoEnabledChangedEvent, type SubscriberInternalEvents } from '../browser/events.js';
import type { StreamLike } from '../browser/types.js';
// Types only: this file must not load node-datachannel (the Session imports it in every runtime).
import type { NodePeerConnection, NodePeerConnectionOptions, NodePeerStats, RemoteTrack } from './NodePeerConnection.js';

/** Properties of `session.subscribe()` in Node. */
export interface NodeSubscriberProperties {
  /** Receive audio (default true). */
  subscribeToAudio?: boolean;
  /** Receive video (default true). */
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number };
  preferredFrameRate?: number;
  /** Options of the NodePeerConnection to the SFU (`bindAddress`, `nack`, `receiveBitrate`, ...). */
  peer?: NodePeerConnectionOptions;
}

/** Events of a NodeSubscriber. */
export type NodeSubscriberEvents = {
  /** First video key frame (or first audio packet of an audio-only stream) received. */
  loaded: ConveneEvent;
  connected: ConveneEvent;
  disconnected: ConveneEvent;
  videoDisabled: VideoEnabledChangedEvent;
  videoEnabled: VideoEnabledChangedEvent;
  destroyed: DestroyedEvent;
};

let nextId = 0;

/**
 * What `session.subscribe()` returns in Node: receives the stream through the SFU and counts
 * packets, frames, key frames, loss, jitter and latency (`getStats()`); nothing is decoded.
 *
 * @example
 * session.on('streamCreated', (e) => {
 *   const sub = session.subscribe(e.stream);
 *   setInterval(() => console.log(sub.getStats()?.inbound), 1000);
 * });
 */
export class NodeSubscriber extends EventDispatcher<NodeSubscriberEvents> {
  /** Unique id. */
  readonly id = `node-subscriber-${++nextId}`;
  /** Never a DOM element in Node. */
  readonly element: undefined = undefined;
  /** The stream this subscriber receives. */
  readonly stream: StreamLike;
  /** The Session that created this subscriber. */
  readonly session: unknown;
  /** SDK-internal channel to the Session (same contract as the browser Subscriber's). */
  readonly _internal = new TypedEmitter<SubscriberInternalEvents>();

  readonly #props: NodeSubscriberProperties;
  #subscribeToAudio: boolean;
  #subscribeToVideo: boolean;
  #pc: NodePeerConnection | null = null;
  #tracks: RemoteTrack[] = [];
  #isLoaded = false;
  #destroyed = false;
  #disconnected = false;
  #loadTimer: ReturnType<typeof setInterval> | undefined;
  #onLoaded!: () => void;
  readonly #loaded = new Promise<void>((resolve) => (this.#onLoaded = resolve));

  /** SDK-internal: `session.subscribe()` constructs subscribers. */
  constructor(stream: StreamLike, properties: NodeSubscriberProperties = {}, session?: unknown) {
    super('subscriber');
    this.stream = stream;
    this.session = session;
    this.#props = { ...(properties ?? {}) };
    this.#subscribeToAudio = this.#props.subscribeToAudio !== false;
    this.#subscribeToVideo = this.#props.subscribeToVideo !== false;
  }

  /** Receive audio or not (the SFU stops forwarding it). */
  subscribeToAudio(value: boolean): this {
    const v = value !== false;
    if (v === this.#subscribeToAudio) return this;
    this.#subscribeToAudio = v;
    this._internal.emit('subscriptionChanged', { subscribeToAudio: v });
    return this;
  }

  /** Receive video or not (the SFU stops forwarding it). */
  subscribeToVideo(value: boolean): this {
    const v = value !== false;
    if (v === this.#subscribeToVideo) return this;
    this.#subscribeToVideo = v;
    this._internal.emit('subscriptionChanged', { subscribeToVideo: v });
    this.dispatch(new VideoEnabledChangedEvent(v ? 'videoEnabled' : 'videoDisabled', 'subscribeToVideo'));
    return this;
  }

  /** Counters of the peer connection (null before it exists or after destroy). */
  getStats(): NodePeerStats | null {
    return this.#pc?.getStats() ?? null;
  }

  /** Ask the publisher for a key frame (PLI through the SFU). */
  requestKeyframe(): boolean {
    return this.#tracks.find((t) => t.kind === 'video')?.requestKeyframe() ?? false;
  }

  /** Stop receiving (the Session unsubscribes) and dispatch `destroyed`. */
  destroy(): this {
    if (!this.#destroyed) this._internal.emit('destroying');
    this._destroy();
    return this;
  }

  // ---- SDK-internal glue for the Session ----

  /** Options for the Session's NodePeerConnection. */
  _peerOptions(): NodePeerConnectionOptions {
    // The offer goes out without candidates (see media/peer.ts): no need to wait for gathering.
    return { name: this.id, trickle: true, ...this.#props.peer };
  }

  /** Whether each kind is initially wanted (for the `subscribe` request). */
  _wants(): { subscribeToAudio: boolean; subscribeToVideo: boolean } {
    return { subscribeToAudio: this.#subscribeToAudio, subscribeToVideo: this.#subscribeToVideo };
  }

  /** Add recvonly m-sections (audio then video) to the Session's peer connection before its offer. */
  _attach(pc: NodePeerConnection): void {
    this._use(pc, this._prepare(pc));
  }

  /** Add the recvonly m-sections to `pc` without using it yet (see `_use`). */
  _prepare(pc: NodePeerConnection): RemoteTrack[] {
    return [pc.addReceiver('audio'), pc.addReceiver('video')];
  }

  /**
   * Receive from `pc` (with its `tracks`) from now on: stats, loading and connection events follow it.
   * A later call replaces the peer connection (a subscription moved to a new one by setIceConfig).
   * `tracks` is used live: an answering peer connection's tracks may be pushed into it later.
   */
  _use(pc: NodePeerConnection, tracks: RemoteTrack[]): void {
    if (this.#destroyed) return;
    this.#tracks = tracks;
    this.#watch(pc);
  }

  #watch(pc: NodePeerConnection): void {
    this.#pc = pc;
    pc.on('connectionstatechange', (s) => {
      if (this.#pc !== pc) return;
      if ((s === 'disconnected' || s === 'failed') && !this.#disconnected) {
        this.#disconnected = true;
        this.dispatch(new ConveneEvent('disconnected'));
      } else if (s === 'connected' && this.#disconnected) {
        this.#disconnected = false;
        this.dispatch(new ConveneEvent('connected'));
      }
    });
    if (!this.#isLoaded) this.#loadTimer ??= setInterval(() => this.#checkLoaded(), 20);
  }

  #checkLoaded(): void {
    const video = this.#tracks.find((t) => t.kind === 'video')?.stats();
    const audio = this.#tracks.find((t) => t.kind === 'audio')?.stats();
    const loaded = this.stream.hasVideo && this.#subscribeToVideo ? (video?.keyframesReceived ?? 0) > 0 : (audio?.packetsReceived ?? 0) > 0 || (video?.keyframesReceived ?? 0) > 0;
    if (!loaded) return;
    this.#isLoaded = true;
    clearInterval(this.#loadTimer);
    this.#loadTimer = undefined;
    this.#onLoaded();
    this.dispatch(new ConveneEvent('loaded'));
  }

  /** Resolves on the first key frame (or first audio packet of an audio-only stream). */
  _whenLoaded(): Promise<void> {
    return this.#loaded;
  }

  /** The Session updated `stream`: reflect `hasVideo` as videoDisabled/videoEnabled (reason publishVideo). */
  _streamPropertyChanged(property: StreamProperty): void {
    if (property === 'hasVideo' && this.#subscribeToVideo) {
      this.dispatch(new VideoEnabledChangedEvent(this.stream.hasVideo ? 'videoEnabled' : 'videoDisabled', 'publishVideo'));
    }
  }

  /** The SFU paused or resumed video for bandwidth. */
  _setVideoDisabledForQuality(disabled: boolean): void {
    this.dispatch(new VideoEnabledChangedEvent(disabled ? 'videoDisabled' : 'videoEnabled', 'quality'));
  }

  /** Tear down without notifying the Session (it closes the peer connection itself). */
  _destroy(reason?: string): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#loadTimer) clearInterval(this.#loadTimer);
    this.#loadTimer = undefined;
    this.#pc = null;
    this.#tracks = [];
    this.dispatch(new DestroyedEvent(reason));
    this._internal.off();
  }
}
