import { TypedEmitter, type StreamProperty } from '@convene/protocol';
import { ConveneEvent } from '../../ConveneEvent.js';
import { EventDispatcher } from '../../EventDispatcher.js';
import { AudioLevelMeter, analyserLevel, receiverLevel } from './AudioLevelMeter.js';
import { insertModeOf, newId, resolveTarget } from './dom.js';
import {
  AudioLevelUpdatedEvent,
  DestroyedEvent,
  VideoDimensionsChangedEvent,
  VideoElementCreatedEvent,
  VideoEnabledChangedEvent,
  type Dimensions,
  type SubscriberEvents,
  type SubscriberInternalEvents,
  type VideoReason,
} from './events.js';
import { mediaError, MediaErrorName } from './mediaErrors.js';
import { MediaView } from './MediaView.js';
import { settle, snapshot, subscriberStats, type SubscriberStats } from './stats.js';
import type { StreamLike, SubscriberProperties, TargetElement } from './types.js';

/** Subscribers whose audible playback the autoplay policy refused, until `unblockAudio()`. */
const blocked = new Set<Subscriber>();

/**
 * Retry audible playback of every subscriber whose audio autoplay blocked. Call it from a
 * click or key handler (a user gesture), as `OT.unblockAudio()`.
 */
export async function unblockAudio(): Promise<void> {
  await Promise.all([...blocked].map((s) => s._unblock()));
}

/**
 * A remote stream rendered on the page: what `session.subscribe()` returns.
 * The Session creates it, hands it the peer connection (`_setPeerConnection`)
 * and relays stream changes; the application controls volume, what it receives
 * and the view.
 *
 * @example
 * session.on('streamCreated', (e) => {
 *   const sub = session.subscribe(e.stream, 'subscribers', { insertMode: 'append', width: '100%', height: '100%' });
 *   sub.on('videoDisabled', (ev) => console.log('video off:', ev.reason));
 *   sub.setAudioVolume(80);
 * });
 */
export class Subscriber extends EventDispatcher<SubscriberEvents> {
  /** Unique id, also the id of the default UI element. */
  readonly id = newId();
  /** The default UI's container; undefined with `insertDefaultUI: false` or after destroy(). */
  element: HTMLElement | undefined;
  /** The stream this subscriber shows. */
  readonly stream: StreamLike;
  /** The Session that created this subscriber. */
  readonly session: unknown;
  /** SDK-internal channel to the Session (see README.md). */
  readonly _internal = new TypedEmitter<SubscriberInternalEvents>();

  readonly #view: MediaView;
  readonly #media = new MediaStream();
  #pc: RTCPeerConnection | null = null;
  #audioVolume: number;
  #lastVolume: number;
  #subscribeToAudio: boolean;
  #subscribeToVideo: boolean;
  #preferredFrameRate: number | null;
  #qualityDisabled = false;
  #videoShown: boolean;
  #audioBlocked = false;
  #loaded = false;
  #disconnected = false;
  #destroyed = false;
  #meter: AudioLevelMeter | null = null;
  #dims: Dimensions = { width: 0, height: 0 };
  #onLoaded!: () => void;
  readonly #loadedPromise = new Promise<void>((resolve) => (this.#onLoaded = resolve));

  /**
   * SDK-internal: `session.subscribe()` constructs subscribers. Throws OT_INVALID_PARAMETER
   * for a bad target or property.
   */
  constructor(stream: StreamLike, target?: TargetElement, properties: SubscriberProperties = {}, session?: unknown) {
    super('subscriber');
    const p = properties ?? {};
    this.stream = stream;
    this.session = session;
    const targetEl = resolveTarget(target);
    const defaultUI = p.insertDefaultUI !== false;
    if (!defaultUI && targetEl) throw mediaError(MediaErrorName.InvalidParameter, 'insertDefaultUI is false: do not pass a target element, insert the element from videoElementCreated');
    const mode = insertModeOf(p.insertMode);
    if (p.fitMode !== undefined && p.fitMode !== 'cover' && p.fitMode !== 'contain') throw mediaError(MediaErrorName.InvalidParameter, `Invalid fitMode ${JSON.stringify(p.fitMode)}`);
    this.#audioVolume = volumeOf(p.audioVolume ?? 50);
    this.#lastVolume = this.#audioVolume || 50;
    this.#subscribeToAudio = p.subscribeToAudio !== false;
    this.#subscribeToVideo = p.subscribeToVideo !== false;
    this.#preferredFrameRate = p.preferredFrameRate ?? null;
    this.#view = new MediaView({
      kind: 'subscriber',
      id: this.id,
      name: stream.name,
      width: p.width,
      height: p.height,
      fitMode: p.fitMode ?? (stream.videoType === 'screen' ? 'contain' : 'cover'),
      mirror: false,
      showControls: p.showControls !== false,
      style: p.style ?? {},
      defaultUI,
      muted: false,
    });
    const view = this.#view;
    view.video.volume = this.#audioVolume / 100;
    view.setAudioMuted(this.#audioVolume === 0 || !this.#subscribeToAudio);
    view.onMuteClick = () => this.setAudioVolume(this.#audioVolume === 0 ? this.#lastVolume : 0);
    view.onUnblockClick = () => void this._unblock();
    this.#videoShown = this.#wantVideo();
    view.setVideoDisabled(!this.#videoShown);
    view.video.addEventListener('resize', () => this.#onResize());
    view.video.addEventListener('playing', () => this.#markLoaded());
    view.insert(targetEl, mode);
    this.element = view.root;
    // Dispatch after subscribe() returned, so handlers registered on the result see it.
    queueMicrotask(() => {
      if (!this.#destroyed) this.dispatch(new VideoElementCreatedEvent(view.video));
    });
  }

  #wantVideo(): boolean {
    return this.stream.hasVideo && this.#subscribeToVideo && !this.#qualityDisabled;
  }

  #updateVideo(reason: VideoReason): void {
    const shown = this.#wantVideo();
    if (shown === this.#videoShown) return;
    this.#videoShown = shown;
    this.#view.setVideoDisabled(!shown);
    this.dispatch(new VideoEnabledChangedEvent(shown ? 'videoEnabled' : 'videoDisabled', reason));
  }

  #onResize(): void {
    const v = this.#view.video;
    if (v.videoWidth === 0) return;
    const old = this.#dims;
    const now = { width: v.videoWidth, height: v.videoHeight };
    if (old.width === now.width && old.height === now.height) return;
    this.#dims = now;
    if (old.width > 0) this.dispatch(new VideoDimensionsChangedEvent(old, now));
  }

  #markLoaded(): void {
    if (this.#loaded || this.#destroyed) return;
    this.#loaded = true;
    this.#view.loaded();
    this.#onLoaded();
    this.dispatch(new ConveneEvent('loaded'));
  }

  async #play(): Promise<void> {
    const ok = await this.#view.play(this.#media);
    if (ok || this.#destroyed) return;
    // Autoplay policy: play muted now, audibly after a user gesture (unblockAudio()).
    this.#view.video.muted = true;
    await this.#view.play(this.#media);
    if (!this.#audioBlocked) {
      this.#audioBlocked = true;
      blocked.add(this);
      this.#view.setAudioBlocked(true);
      this.dispatch(new ConveneEvent('audioBlocked'));
    }
  }

  /** SDK-internal (unblockAudio): try audible playback again. */
  async _unblock(): Promise<void> {
    if (!this.#audioBlocked || this.#destroyed) return;
    const v = this.#view.video;
    v.muted = false;
    try {
      await v.play();
    } catch {
      v.muted = true;
      void v.play().catch(() => {});
      return;
    }
    this.#audioBlocked = false;
    blocked.delete(this);
    this.#view.setAudioBlocked(false);
    this.dispatch(new ConveneEvent('audioUnblocked'));
  }

  /** Whether the browser's autoplay policy is keeping this subscriber's audio muted. */
  isAudioBlocked(): boolean {
    return this.#audioBlocked;
  }

  /** Set the local playback volume, 0-100 (0 mutes). */
  setAudioVolume(value: number): this {
    this.#audioVolume = volumeOf(value);
    if (this.#audioVolume > 0) this.#lastVolume = this.#audioVolume;
    this.#view.video.volume = this.#audioVolume / 100;
    this.#view.setAudioMuted(this.#audioVolume === 0 || !this.#subscribeToAudio);
    return this;
  }

  /** The local playback volume, 0-100. */
  getAudioVolume(): number {
    return this.#audioVolume;
  }

  /** Start or stop receiving audio (asks the SFU to stop forwarding it). */
  subscribeToAudio(value: boolean): this {
    const v = !!value;
    if (v === this.#subscribeToAudio) return this;
    this.#subscribeToAudio = v;
    for (const t of this.#media.getAudioTracks()) t.enabled = v;
    this.#view.setAudioMuted(this.#audioVolume === 0 || !v);
    this._internal.emit('subscriptionChanged', { subscribeToAudio: v });
    return this;
  }

  /** Start or stop receiving video; dispatches `videoDisabled`/`videoEnabled` with reason `subscribeToVideo`. */
  subscribeToVideo(value: boolean): this {
    const v = !!value;
    if (v === this.#subscribeToVideo) return this;
    this.#subscribeToVideo = v;
    for (const t of this.#media.getVideoTracks()) t.enabled = v;
    this._internal.emit('subscriptionChanged', { subscribeToVideo: v });
    this.#updateVideo('subscribeToVideo');
    return this;
  }

  /** Ask for a lower resolution of a scalable stream (null: no preference). */
  setPreferredResolution(resolution: Dimensions | null): this {
    if (resolution !== null && !(resolution && resolution.width > 0 && resolution.height > 0)) {
      throw mediaError(MediaErrorName.InvalidParameter, 'preferredResolution must be { width, height } or null');
    }
    this._internal.emit('subscriptionChanged', { preferredResolution: resolution && { width: resolution.width, height: resolution.height } });
    return this;
  }

  /** Ask for a lower frame rate of a scalable stream (null: no preference). */
  setPreferredFrameRate(frameRate: number | null): this {
    if (frameRate !== null && !(typeof frameRate === 'number' && frameRate > 0)) throw mediaError(MediaErrorName.InvalidParameter, 'preferredFrameRate must be a positive number or null');
    this.#preferredFrameRate = frameRate;
    this._internal.emit('subscriptionChanged', { preferredFrameRate: frameRate });
    return this;
  }

  /** true: receive at most 1 frame per second; false: back to the preferred frame rate. */
  restrictFrameRate(value: boolean): this {
    this._internal.emit('subscriptionChanged', { preferredFrameRate: value ? 1 : this.#preferredFrameRate });
    return this;
  }

  /** Width of the received video in pixels (undefined before the first frame). */
  videoWidth(): number | undefined {
    return this.#view.video.videoWidth || undefined;
  }

  /** Height of the received video in pixels (undefined before the first frame). */
  videoHeight(): number | undefined {
    return this.#view.video.videoHeight || undefined;
  }

  /** The current frame as a base64 PNG (no `data:` prefix). */
  getImgData(): string | null {
    return snapshot(this.#view.video) || null;
  }

  /** Received-media counters. Takes the reference's callback `(error, stats)` and also returns a Promise. */
  getStats(completion?: (error: Error | undefined, stats?: SubscriberStats) => void): Promise<SubscriberStats> {
    return settle(
      this.getRtcStatsReport().then(subscriberStats),
      completion,
    );
  }

  /** The raw RTCStatsReport of this subscriber's peer connection. */
  getRtcStatsReport(): Promise<RTCStatsReport> {
    if (!this.#pc) return Promise.reject(mediaError(MediaErrorName.NotConnected, 'The subscriber has no media connection'));
    return this.#pc.getStats();
  }

  /** Stop receiving (the Session unsubscribes), remove the view, dispatch `destroyed`. */
  destroy(): this {
    if (!this.#destroyed) this._internal.emit('destroying');
    this._destroy();
    return this;
  }

  // ---- SDK-internal glue for the Session (documented in README.md) ----

  /**
   * Use `pc` for this subscriber's media: its remote tracks are played (listens to `track`,
   * so call before setRemoteDescription), its state drives `disconnected`/`connected`, its
   * stats feed `getStats()`.
   */
  _setPeerConnection(pc: RTCPeerConnection): void {
    this.#pc = pc;
    pc.addEventListener('track', (e) => this._addTrack(e.track, e.receiver));
    pc.addEventListener('connectionstatechange', () => {
      const s = pc.connectionState;
      if ((s === 'disconnected' || s === 'failed') && !this.#disconnected) {
        this.#disconnected = true;
        this.dispatch(new ConveneEvent('disconnected'));
      } else if (s === 'connected' && this.#disconnected) {
        this.#disconnected = false;
        this.dispatch(new ConveneEvent('connected'));
      }
    });
  }

  /** Play a remote track (one audio and one video at a time; a new one of a kind replaces the old). */
  _addTrack(track: MediaStreamTrack, receiver?: RTCRtpReceiver): void {
    if (this.#destroyed) return;
    for (const t of track.kind === 'audio' ? this.#media.getAudioTracks() : this.#media.getVideoTracks()) if (t !== track) this.#media.removeTrack(t);
    if (!this.#media.getTracks().includes(track)) this.#media.addTrack(track);
    if (track.kind === 'audio') {
      track.enabled = this.#subscribeToAudio;
      this.#meter?.stop();
      const source = receiver ? receiverLevel(receiver) : analyserLevel(track);
      this.#meter = source
        ? new AudioLevelMeter(source, (level) => {
            this.#view.setAudioLevel(level);
            if (this.listenerCount('audioLevelUpdated') > 0) this.dispatch(new AudioLevelUpdatedEvent(level));
          })
        : null;
      if (!this.stream.hasVideo) queueMicrotask(() => this.#markLoaded());
    } else {
      track.enabled = this.#subscribeToVideo;
    }
    void this.#play();
  }

  /** Resolves when playback started (first frame, or audio for audio-only streams). */
  _whenLoaded(): Promise<void> {
    return this.#loadedPromise;
  }

  /** The Session updated `stream` (streamPropertyChanged): reflect `hasVideo` as videoDisabled/videoEnabled (reason publishVideo). */
  _streamPropertyChanged(property: StreamProperty): void {
    if (property === 'hasVideo') this.#updateVideo('publishVideo');
    else if (property === 'videoType') this.#view.setFitMode(this.stream.videoType === 'screen' ? 'contain' : 'cover');
  }

  /** The SFU paused (true) or resumed (false) this subscriber's video for bandwidth: reason `quality`. */
  _setVideoDisabledForQuality(disabled: boolean): void {
    this.#qualityDisabled = disabled;
    this.#view.setQualityDisabled(disabled);
    this.#updateVideo('quality');
  }

  /**
   * Tear down without notifying the Session (it calls this itself for streamDestroyed /
   * sessionDisconnected and forgets the subscriber); `reason` goes on `destroyed`.
   */
  _destroy(reason?: string): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#meter?.stop();
    this.#meter = null;
    blocked.delete(this);
    for (const t of this.#media.getTracks()) t.stop();
    this.#pc = null;
    this.#view.remove();
    this.element = undefined;
    this.dispatch(new DestroyedEvent(reason));
    this._internal.off();
  }
}

function volumeOf(v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw mediaError(MediaErrorName.InvalidParameter, 'audioVolume must be a number from 0 to 100');
  return Math.round(Math.min(100, Math.max(0, v)));
}
