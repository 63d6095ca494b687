import { TypedEmitter, type StreamDestroyedReason, type VideoType } from '@convene/protocol';
import { ConveneEvent } from '../../ConveneEvent.js';
import { InvalidParameterError, InvalidStateError } from '../../errors.js';
import { EventDispatcher } from '../../EventDispatcher.js';
import { DestroyedEvent, StreamEvent, type PublisherInternalEvents } from '../browser/events.js';
import type { PublisherStreamSettings } from '../browser/Publisher.js';
import type { StreamLike } from '../browser/types.js';
// Types only: this file must not load node-datachannel (the Session imports it in every runtime).
import type { NodePeerConnection, NodePeerConnectionOptions, NodePeerStats } from './NodePeerConnection.js';
import type { SyntheticAudioOptions } from './SyntheticAudioSource.js';
import type { SyntheticVideoOptions, SyntheticVideoSource } from './SyntheticVideoSource.js';
import type { SyntheticAudioSource } from './SyntheticAudioSource.js';

/**
 * Properties of `OT.initPublisher()` in Node: synthetic, decodable VP8 video (a moving box)
 * and Opus audio (silence) instead of a camera and microphone.
 */
export interface NodePublisherProperties {
  /** Stream name. */
  name?: string;
  /** Start with audio on (default true). */
  publishAudio?: boolean;
  /** Start with video on (default true). */
  publishVideo?: boolean;
  /** `'synthetic'` (default) or null/false for a video-less stream; `'screen'` publishes the synthetic video with `videoType: 'screen'`. */
  videoSource?: 'synthetic' | 'screen' | null | false;
  /** `'synthetic'` (default) or null/false for an audio-less stream. */
  audioSource?: 'synthetic' | null | false;
  /** `'WIDTHxHEIGHT'` (default `'640x480'`). */
  resolution?: string;
  /** Frames per second (default 30). */
  frameRate?: number;
  /** Video bit rate in bit/s (default 600 000). */
  videoBitrate?: number;
  /** Periodic key frames every this many ms (default 5000; 0 = only on PLI/FIR). */
  keyframeIntervalMs?: number;
  /** Advanced: options passed to the synthetic video source (override the above). */
  video?: SyntheticVideoOptions;
  /** Advanced: options passed to the synthetic audio source. */
  audio?: SyntheticAudioOptions;
  /** Options of the NodePeerConnection to the SFU (`bindAddress`, `iceServers`, `dropOutgoing`, ...). */
  peer?: NodePeerConnectionOptions;
}

/** Events of a NodePublisher (the browser Publisher's, minus the DOM ones). */
export type NodePublisherEvents = {
  streamCreated: StreamEvent;
  streamDestroyed: StreamEvent;
  muteForced: ConveneEvent;
  destroyed: DestroyedEvent;
};

let nextId = 0;

/**
 * What `OT.initPublisher()` returns in Node: a synthetic camera and microphone for bots, tests
 * and load generation, published with `session.publish(publisher)` like a browser Publisher.
 *
 * @example
 * const publisher = OT.initPublisher(null, { name: 'bot', resolution: '1280x720', videoBitrate: 1_200_000 });
 * await session.publish(publisher);
 * publisher.publishVideo(false);
 */
export class NodePublisher extends EventDispatcher<NodePublisherEvents> {
  /** Unique id. */
  readonly id = `node-publisher-${++nextId}`;
  /** Never a DOM element in Node. */
  readonly element: undefined = undefined;
  /** The published Stream, while published. */
  stream: StreamLike | undefined;
  /** The Session publishing this Publisher, while published. */
  session: unknown;
  /** SDK-internal channel to the Session (same contract as the browser Publisher's). */
  readonly _internal = new TypedEmitter<PublisherInternalEvents>();

  readonly #props: NodePublisherProperties;
  readonly #video: SyntheticVideoOptions | null;
  readonly #audio: SyntheticAudioOptions | null;
  readonly #videoType: VideoType | null;
  #publishAudio: boolean;
  #publishVideo: boolean;
  #pc: NodePeerConnection | null = null;
  #videoSource: SyntheticVideoSource | null = null;
  #audioSource: SyntheticAudioSource | null = null;
  /** Relayed sessions: one peer connection (with its own synthetic sources) per subscriber. */
  readonly #relays = new Map<string, { pc: NodePeerConnection; video: SyntheticVideoSource | null; audio: SyntheticAudioSource | null; wants: { audio: boolean; video: boolean } }>();
  #destroyed = false;

  constructor(properties: NodePublisherProperties = {}) {
    super('publisher');
    const p = { ...(properties ?? {}) };
    this.#props = p;
    const [width, height] = parseResolution(p.resolution ?? '640x480');
    const vs = p.videoSource === undefined ? 'synthetic' : p.videoSource;
    if (vs !== null && vs !== false && vs !== 'synthetic' && vs !== 'screen') throw new InvalidParameterError(`videoSource must be 'synthetic', 'screen' or null in Node`);
    const as = p.audioSource === undefined ? 'synthetic' : p.audioSource;
    if (as !== null && as !== false && as !== 'synthetic') throw new InvalidParameterError(`audioSource must be 'synthetic' or null in Node`);
    const fps = p.frameRate ?? 30;
    if (!(fps > 0 && fps <= 60)) throw new InvalidParameterError('frameRate must be in (0, 60]');
    this.#video = vs ? { width, height, fps, bitrate: p.videoBitrate ?? 600_000, keyframeIntervalMs: p.keyframeIntervalMs ?? 5000, ...p.video } : null;
    this.#audio = as ? { ...p.audio } : null;
    this.#videoType = vs === 'screen' ? 'screen' : vs ? 'camera' : null;
    this.#publishAudio = p.publishAudio !== false;
    this.#publishVideo = p.publishVideo !== false;
  }

  /** Turn audio on or off (everyone gets `streamPropertyChanged` for `hasAudio`). */
  publishAudio(value: boolean): this {
    const old = this.#hasAudio();
    this.#publishAudio = value !== false;
    this.#applyEnabled();
    const now = this.#hasAudio();
    if (old !== now) this._internal.emit('propertyChanged', 'hasAudio', old, now);
    return this;
  }

  /** Turn video on or off (everyone gets `streamPropertyChanged` for `hasVideo`). */
  publishVideo(value: boolean): this {
    const old = this.#hasVideo();
    this.#publishVideo = value !== false;
    this.#applyEnabled();
    if (this.#publishVideo) {
      this.#videoSource?.requestKeyframe();
      for (const r of this.#relays.values()) r.video?.requestKeyframe();
    }
    const now = this.#hasVideo();
    if (old !== now) this._internal.emit('propertyChanged', 'hasVideo', old, now);
    return this;
  }

  /** Counters of the peer connection to the SFU (null while not published; relayed: the first subscriber's). */
  getStats(): NodePeerStats | null {
    return this.#pc?.getStats() ?? this.#relays.values().next().value?.pc.getStats() ?? null;
  }

  /** Relayed sessions: counters of the peer connection toward each subscriber. */
  getRelayStats(): { subscriberId: string; stats: NodePeerStats }[] {
    // A `move-` slot is the new connection of a routed stream moving (setIceConfig), not a subscriber.
    return [...this.#relays].filter(([id]) => !id.startsWith('move-')).map(([subscriberId, r]) => ({ subscriberId, stats: r.pc.getStats() }));
  }

  /** The synthetic sources, once published. */
  get sources(): { video: SyntheticVideoSource | null; audio: SyntheticAudioSource | null } {
    return { video: this.#videoSource, audio: this.#audioSource };
  }

  /** Stop publishing (if published) and release everything. Dispatches `destroyed`. */
  destroy(): this {
    if (this.#destroyed) return this;
    if (this.stream) this._internal.emit('destroying');
    this.#teardown();
    return this;
  }

  #teardown(reason?: string): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this._detach();
    this.dispatch(new DestroyedEvent(reason));
    this._internal.off();
  }

  #hasAudio(): boolean {
    return this.#audio !== null && this.#publishAudio;
  }

  #hasVideo(): boolean {
    return this.#video !== null && this.#publishVideo;
  }

  /** Sources send only while enabled (a disabled one sends nothing, like a muted track would send silence). */
  #applyEnabled(): void {
    if (this.#pc && this.#pc.connectionState === 'connected') this.#applySources(this.#videoSource, this.#audioSource, { audio: true, video: true });
    for (const r of this.#relays.values()) if (r.pc.connectionState === 'connected') this.#applySources(r.video, r.audio, r.wants);
  }

  #applySources(video: SyntheticVideoSource | null, audio: SyntheticAudioSource | null, wants: { audio: boolean; video: boolean }): void {
    if (video) {
      if (this.#publishVideo && wants.video) video.start();
      else video.stop();
    }
    if (audio) {
      if (this.#publishAudio && wants.audio) audio.start();
      else audio.stop();
    }
  }

  // ---- SDK-internal glue for the Session (the browser Publisher's contract) ----

  /** Nothing to capture: ready at once (rejects if destroyed). */
  _whenReady(): Promise<void> {
    return this.#destroyed ? Promise.reject(new InvalidStateError('The publisher was destroyed')) : Promise.resolve();
  }

  /** Options for the Session's NodePeerConnection. */
  _peerOptions(): NodePeerConnectionOptions {
    // The offer goes out without candidates (see media/peer.ts): no need to wait for gathering.
    return { name: this.id, trickle: true, ...this.#props.peer };
  }

  /** Which tracks this publisher sends (a relayed `publish` announces them). */
  _tracks(): { audio: boolean; video: boolean } {
    return { audio: this.#audio !== null, video: this.#video !== null };
  }

  /** What the `publish` request announces. */
  _streamSettings(): PublisherStreamSettings {
    const v = this.#video;
    return {
      name: this.#props.name ?? '',
      hasAudio: this.#hasAudio(),
      hasVideo: this.#hasVideo(),
      videoType: this.#videoType,
      videoDimensions: v ? { width: v.width ?? 640, height: v.height ?? 480 } : null,
      frameRate: v ? (v.fps ?? 30) : null,
    };
  }

  /** Add the synthetic sources (audio then video) to the Session's peer connection before its offer. */
  _attach(pc: NodePeerConnection): void {
    if (this.#destroyed) throw new InvalidStateError('The publisher was destroyed');
    if (this.#pc) throw new InvalidStateError('The publisher is already attached to a peer connection');
    this.#pc = pc;
    this.#audioSource = this.#audio ? pc.addAudioSource(this.#audio) : null;
    this.#videoSource = this.#video ? pc.addVideoSource(this.#video) : null;
    // The peer starts every source when its track opens; disabled ones stop again right away.
    pc.on('connectionstatechange', (s) => {
      if (s === 'connected') queueMicrotask(() => this.#applyEnabled());
    });
  }

  /** Forget the peer connection(s) (the Session closes them). */
  _detach(): void {
    this.#pc = null;
    this.#videoSource = null;
    this.#audioSource = null;
    this.#relays.clear();
  }

  /** Relayed sessions: add synthetic sources to the peer connection toward one subscriber, before its offer. */
  _attachRelay(subscriberId: string, pc: NodePeerConnection, wants: { audio: boolean; video: boolean }): void {
    if (this.#destroyed) throw new InvalidStateError('The publisher was destroyed');
    const r = { pc, audio: this.#audio ? pc.addAudioSource(this.#audio) : null, video: this.#video ? pc.addVideoSource(this.#video) : null, wants: { ...wants } };
    this.#relays.set(subscriberId, r);
    pc.on('connectionstatechange', (s) => {
      if (s === 'connected') queueMicrotask(() => this.#applySources(r.video, r.audio, r.wants));
    });
  }

  /** Relayed sessions: stop or resume sending one kind to one subscriber. */
  _setRelaySending(subscriberId: string, kind: 'audio' | 'video', on: boolean): void {
    const r = this.#relays.get(subscriberId);
    if (!r) return;
    r.wants[kind] = on;
    if (on && kind === 'video') r.video?.requestKeyframe();
    if (r.pc.connectionState === 'connected') this.#applySources(r.video, r.audio, r.wants);
  }

  /** Relayed sessions: forget one subscriber's peer connection (the Session closes it). */
  _detachRelay(subscriberId: string): void {
    this.#relays.delete(subscriberId);
  }

  /**
   * Routed sessions, moving to a new peer connection (setIceConfig): the connection attached with
   * `_attachRelay(id, …)` and its sources become the publisher's (the Session closes the old one, which
   * stops the old sources).
   */
  _promoteRelay(id: string): void {
    const r = this.#relays.get(id);
    if (!r) return;
    this.#relays.delete(id);
    this.#pc = r.pc;
    this.#videoSource = r.video;
    this.#audioSource = r.audio;
  }

  /** The stream is published: set `stream`/`session` and dispatch `streamCreated`. */
  _streamCreated(session: unknown, stream: StreamLike): void {
    this.session = session;
    this.stream = stream;
    this.dispatch(new StreamEvent('streamCreated', stream));
  }

  /** The stream ended: dispatch the cancelable `streamDestroyed`; by default the publisher is destroyed. Returns whether that was prevented. */
  _streamDestroyed(reason: StreamDestroyedReason): boolean {
    const stream = this.stream;
    if (!stream) return false;
    this.stream = undefined;
    this.session = undefined;
    this._detach();
    const e = new StreamEvent('streamDestroyed', stream, reason);
    this.dispatch(e);
    const prevented = e.isDefaultPrevented();
    if (!prevented) this.#teardown(reason);
    return prevented;
  }

  /** A moderator muted this stream: stop sending audio and dispatch `muteForced`. */
  _forceMute(): void {
    this.publishAudio(false);
    this.dispatch(new ConveneEvent('muteForced'));
  }
}

function parseResolution(r: string): [number, number] {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(r);
  if (!m) throw new InvalidParameterError(`resolution must look like '640x480', got ${JSON.stringify(r)}`);
  const w = Number(m[1]);
  const h = Number(m[2]);
  if (w % 2 || h % 2 || w > 4096 || h > 4096) throw new InvalidParameterError(`unsupported resolution ${r}`);
  return [w, h];
}
