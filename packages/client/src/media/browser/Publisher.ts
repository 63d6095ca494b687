import { TypedEmitter, type StreamDestroyedReason, type VideoType } from '@convene/protocol';
import { ConveneEvent } from '../../ConveneEvent.js';
import { EventDispatcher } from '../../EventDispatcher.js';
import { createLogger } from '../../logger.js';
import { AudioLevelMeter, analyserLevel } from './AudioLevelMeter.js';
import { audioConstraints, capture, isScreenSource, listDevices, parseResolution, videoConstraints, type Capture } from './capture.js';
import { insertModeOf, newId, resolveTarget } from './dom.js';
import {
  AccessDeniedEvent,
  AudioLevelUpdatedEvent,
  DestroyedEvent,
  MediaStoppedEvent,
  StreamEvent,
  VideoDimensionsChangedEvent,
  VideoElementCreatedEvent,
  type Dimensions,
  type PublisherEvents,
  type PublisherInternalEvents,
} from './events.js';
import { fromCaptureError, mediaError, MediaErrorName } from './mediaErrors.js';
import { MediaView } from './MediaView.js';
import { publisherStats, settle, snapshot, type PublisherStats } from './stats.js';
import type { Completion, PublisherProperties, StreamLike, TargetElement } from './types.js';

const log = createLogger('publisher');
/** Tracks whose `ended` event a Publisher already listens to. */
const watched = new WeakSet<MediaStreamTrack>();

/** What the Session announces in its `publish` request (see `PublishRequest` in @convene/protocol). */
export interface PublisherStreamSettings {
  name: string;
  hasAudio: boolean;
  hasVideo: boolean;
  videoType: VideoType | null;
  videoDimensions: Dimensions | null;
  frameRate: number | null;
}

/** The transceivers `_attach()` added to the Session's peer connection. */
export interface PublisherTransceivers {
  audio: RTCRtpTransceiver | null;
  video: RTCRtpTransceiver | null;
}

/** Options of `_attach()`. */
export interface AttachOptions {
  /**
   * The SFU accepts simulcast: send the camera as layers (rid q/h/f at 1/4, 1/2 and full size), which it selects
   * per subscriber. Only cameras whose shorter side is at least {@link SIMULCAST_MIN_HEIGHT} pixels: a screen
   * wants its full detail, and the layers of a small capture would be too small to be worth their bits.
   */
  simulcast?: boolean;
}

/** A camera whose shorter side is below this sends one encoding even when the SFU accepts simulcast. */
export const SIMULCAST_MIN_HEIGHT = 480;
/**
 * Three layers from this shorter side up; two (h, f) below it. Chromium sends at most two layers of a capture
 * under 960x540 (its simulcast layer limits) and drops the last encodings: with q/h/f a 640x480 camera would
 * send q and h only, and no subscriber would ever get the full size (measured, Chromium 156).
 */
const THREE_LAYERS_MIN_HEIGHT = 540;

/** Simulcast layers, lowest first (the order SFUs expect). */
const SIMULCAST_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

/** The video source of a Publisher, as `getVideoSource()` reports it. */
export interface VideoSourceInfo {
  deviceId: string | null;
  type: VideoType | null;
  track: MediaStreamTrack | null;
}

type State = 'capturing' | 'ready' | 'failed' | 'destroyed';

/**
 * A camera, microphone or screen capture with its on-page view: what
 * `OT.initPublisher()` returns and `session.publish()` sends.
 *
 * @example
 * const publisher = initPublisher('publisher', { name: 'Ada', width: '100%', height: '100%' }, (err) => {
 *   if (err) console.error(err.name); // OT_USER_MEDIA_ACCESS_DENIED, OT_NO_DEVICES_FOUND, ...
 * });
 * publisher.on('audioLevelUpdated', (e) => meter.value = e.audioLevel);
 * publisher.publishVideo(false);
 */
export class Publisher extends EventDispatcher<PublisherEvents> {
  /** Unique id, also the id of the default UI element. */
  readonly id = newId();
  /** The default UI's container element; undefined with `insertDefaultUI: false` or after destroy(). */
  element: HTMLElement | undefined;
  /** The published Stream, while published. */
  stream: StreamLike | undefined;
  /** The Session publishing this Publisher, while published. */
  session: unknown;
  /** SDK-internal channel to the Session (see README.md). */
  readonly _internal = new TypedEmitter<PublisherInternalEvents>();

  readonly #props: PublisherProperties;
  #view: MediaView | undefined;
  #capture: Capture | null = null;
  #state: State = 'capturing';
  #destroying = false;
  #publishAudio: boolean;
  #publishVideo: boolean;
  #pc: RTCPeerConnection | null = null;
  #transceivers: PublisherTransceivers = { audio: null, video: null };
  /** Relayed sessions: one peer connection per subscriber (by subscriberId), instead of `#pc`. */
  readonly #relays = new Map<string, { pc: RTCPeerConnection; connectionId: string; transceivers: PublisherTransceivers; off: { audio: boolean; video: boolean } }>();
  #meter: AudioLevelMeter | null = null;
  #dims: Dimensions = { width: 0, height: 0 };
  readonly #ready: Promise<void>;

  constructor(target?: TargetElement, properties: PublisherProperties = {}, completionHandler?: Completion) {
    super('publisher');
    this.#props = { ...(properties ?? {}) };
    this.#publishAudio = this.#props.publishAudio !== false;
    this.#publishVideo = this.#props.publishVideo !== false;
    this.#ready = this.#start(target);
    this.#ready.then(
      () => completionHandler?.(),
      (err: Error) => {
        if (completionHandler) completionHandler(err);
        else log.error({ err, name: err.name }, 'initPublisher failed');
      },
    );
  }

  async #start(target: TargetElement): Promise<void> {
    const p = this.#props;
    const screen = isScreenSource(p);
    let targetEl: HTMLElement | undefined;
    try {
      if (typeof p !== 'object') throw mediaError(MediaErrorName.InvalidParameter, 'properties must be an object');
      targetEl = resolveTarget(target);
      const defaultUI = p.insertDefaultUI !== false;
      if (!defaultUI && targetEl) throw mediaError(MediaErrorName.InvalidParameter, 'insertDefaultUI is false: do not pass a target element, insert the element from videoElementCreated');
      const mode = insertModeOf(p.insertMode);
      if (p.fitMode !== undefined && p.fitMode !== 'cover' && p.fitMode !== 'contain') throw mediaError(MediaErrorName.InvalidParameter, `Invalid fitMode ${JSON.stringify(p.fitMode)}`);
      if (p.audioBitrate !== undefined && !(p.audioBitrate >= 6000 && p.audioBitrate <= 510000)) throw mediaError(MediaErrorName.InvalidParameter, 'audioBitrate must be between 6000 and 510000 bps');
      parseResolution(p.resolution);
      this.#view = new MediaView({
        kind: 'publisher',
        id: this.id,
        name: p.name ?? '',
        width: p.width,
        height: p.height,
        fitMode: p.fitMode ?? (screen ? 'contain' : 'cover'),
        mirror: p.mirror ?? !screen,
        showControls: p.showControls !== false,
        style: p.style ?? {},
        defaultUI,
        muted: true,
      });
      this.#view.onMuteClick = () => this.publishAudio(!this.#publishAudio);
      this.#view.insert(targetEl, mode);
      this.element = this.#view.root;
    } catch (err) {
      this.#state = 'failed';
      throw err;
    }
    // Let the caller attach handlers before access events fire.
    await Promise.resolve();
    let c: Capture;
    try {
      c = await capture(p, {
        dialog: (open) => this.dispatch(new ConveneEvent(open ? 'accessDialogOpened' : 'accessDialogClosed')),
      });
    } catch (err) {
      const e = fromCaptureError(err, screen);
      if (this.#state !== 'destroyed') {
        this.#state = 'failed';
        if (e.name === MediaErrorName.UserMediaAccessDenied) this.dispatch(new AccessDeniedEvent(e));
        this.#teardownView();
      }
      throw e;
    }
    if (this.#state === 'destroyed') {
      for (const t of c.stream.getTracks()) t.stop();
      throw mediaError(MediaErrorName.InvalidState, 'The publisher was destroyed before access was granted');
    }
    this.#capture = c;
    this.dispatch(new ConveneEvent('accessAllowed'));
    this.#applyTracks();
    const view = this.#view!;
    view.setVideoDisabled(!this.#hasVideo());
    view.setAudioMuted(!this.#publishAudio);
    view.video.addEventListener('resize', () => this.#onResize());
    await view.play(c.stream);
    this.dispatch(new VideoElementCreatedEvent(view.video));
    if (c.video) await this.#firstFrame(view.video);
    if ((this.#state as State) === 'destroyed') throw mediaError(MediaErrorName.InvalidState, 'The publisher was destroyed');
    view.loaded();
    this.#startMeter();
    this.#state = 'ready';
  }

  /** Resolve once the video has dimensions (or after 5 s, so a stalled camera cannot hang publish). */
  #firstFrame(video: HTMLVideoElement): Promise<void> {
    if (video.videoWidth > 0) return Promise.resolve(this.#onResize());
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        video.removeEventListener('resize', done);
        video.removeEventListener('loadedmetadata', done);
        this.#onResize();
        resolve();
      };
      const timer = setTimeout(done, 5000);
      video.addEventListener('resize', done);
      video.addEventListener('loadedmetadata', done);
    });
  }

  #onResize(): void {
    const v = this.#view?.video;
    if (!v || v.videoWidth === 0) return;
    const old = this.#dims;
    const now = { width: v.videoWidth, height: v.videoHeight };
    if (old.width === now.width && old.height === now.height) return;
    this.#dims = now;
    if (old.width === 0) return;
    this.dispatch(new VideoDimensionsChangedEvent(old, now));
    this._internal.emit('propertyChanged', 'videoDimensions', old, now);
  }

  /** Enable tracks per publishAudio/publishVideo and watch for them ending. */
  #applyTracks(): void {
    const c = this.#capture;
    if (!c) return;
    if (c.audio) c.audio.enabled = this.#publishAudio;
    if (c.video) c.video.enabled = this.#publishVideo;
    for (const t of [c.audio, c.video]) {
      if (t && !watched.has(t)) {
        watched.add(t);
        t.addEventListener('ended', () => this.#onEnded(t));
      }
    }
  }

  #startMeter(): void {
    this.#meter?.stop();
    this.#meter = null;
    const track = this.#capture?.audio;
    if (!track) return;
    const source = analyserLevel(track);
    if (!source) return;
    this.#meter = new AudioLevelMeter(source, (level) => {
      this.#view?.setAudioLevel(level);
      if (this.listenerCount('audioLevelUpdated') > 0) this.dispatch(new AudioLevelUpdatedEvent(level));
    });
  }

  #onEnded(track: MediaStreamTrack): void {
    const c = this.#capture;
    if (this.#state === 'destroyed' || !c || (track !== c.audio && track !== c.video)) return;
    const e = new MediaStoppedEvent(track);
    this.dispatch(e);
    if (e.isDefaultPrevented()) return;
    // Published: the Session unpublishes (reason mediaStopped) and calls _streamDestroyed().
    if (this.stream && this._internal.emit('mediaStopped', track)) return;
    this.#teardown('mediaStopped');
  }

  #hasAudio(): boolean {
    return this.#publishAudio && !!this.#capture?.audio;
  }

  #hasVideo(): boolean {
    return this.#publishVideo && !!this.#capture?.video;
  }

  /**
   * Start or stop sending audio (the microphone stays open; silence is sent).
   * Published streams report the change as `streamPropertyChanged` (`hasAudio`).
   */
  publishAudio(value: boolean): this {
    const v = !!value;
    if (v === this.#publishAudio) return this;
    const old = this.#hasAudio();
    this.#publishAudio = v;
    if (this.#capture?.audio) this.#capture.audio.enabled = v;
    this.#view?.setAudioMuted(!v);
    const now = this.#hasAudio();
    if (old !== now) this._internal.emit('propertyChanged', 'hasAudio', old, now);
    return this;
  }

  /** Start or stop sending video; the view shows the avatar (or `backgroundImageURI`) while off. */
  publishVideo(value: boolean): this {
    const v = !!value;
    if (v === this.#publishVideo) return this;
    const old = this.#hasVideo();
    this.#publishVideo = v;
    if (this.#capture?.video) this.#capture.video.enabled = v;
    this.#view?.setVideoDisabled(!this.#hasVideo());
    const now = this.#hasVideo();
    if (old !== now) this._internal.emit('propertyChanged', 'hasVideo', old, now);
    return this;
  }

  /** The audio track being published, or null. */
  getAudioSource(): MediaStreamTrack | null {
    return this.#capture?.audio ?? null;
  }

  /** The video source: its device id (cameras), type and track. */
  getVideoSource(): VideoSourceInfo {
    const c = this.#capture;
    const track = c?.video ?? null;
    return { deviceId: c?.videoType === 'camera' ? (track?.getSettings().deviceId ?? null) : null, type: c?.videoType ?? null, track };
  }

  /** Switch the camera to another device id (or a MediaStreamTrack) without republishing. */
  async setVideoSource(source: string | MediaStreamTrack): Promise<void> {
    const c = this.#requireCapture();
    if (c.videoType === 'screen') throw mediaError(MediaErrorName.InvalidParameter, 'Cannot change the video source of a screen-sharing publisher');
    if (!c.video) throw mediaError(MediaErrorName.InvalidParameter, 'This publisher has no video to switch');
    let track: MediaStreamTrack;
    if (typeof source === 'string') {
      const constraints = videoConstraints(this.#props, source);
      if (!constraints) throw mediaError(MediaErrorName.InvalidParameter, 'Invalid video source');
      const open = async (): Promise<MediaStreamTrack> => (await navigator.mediaDevices.getUserMedia({ video: constraints })).getVideoTracks()[0]!;
      try {
        track = await open();
      } catch (err) {
        if ((err as { name?: string }).name !== 'NotReadableError') throw fromCaptureError(err, false);
        // Some cameras cannot be opened twice: free the current one and retry.
        c.video.stop();
        try {
          track = await open();
        } catch (err2) {
          throw fromCaptureError(err2, false);
        }
      }
    } else if (source instanceof MediaStreamTrack && source.kind === 'video') {
      track = source;
    } else {
      throw mediaError(MediaErrorName.InvalidParameter, 'setVideoSource() takes a device id or a video MediaStreamTrack');
    }
    await this.#replace('video', track, typeof source === 'string' ? 'camera' : 'custom');
  }

  /** Switch the microphone to another device id (or a MediaStreamTrack). */
  async setAudioSource(source: string | MediaStreamTrack): Promise<void> {
    const c = this.#requireCapture();
    if (!c.audio) throw mediaError(MediaErrorName.InvalidParameter, 'This publisher has no audio to switch');
    let track: MediaStreamTrack;
    if (typeof source === 'string') {
      const constraints = audioConstraints({ ...this.#props, audioSource: source });
      if (!constraints) throw mediaError(MediaErrorName.InvalidParameter, 'Invalid audio source');
      try {
        track = (await navigator.mediaDevices.getUserMedia({ audio: constraints })).getAudioTracks()[0]!;
      } catch (err) {
        throw fromCaptureError(err, false);
      }
    } else if (source instanceof MediaStreamTrack && source.kind === 'audio') {
      track = source;
    } else {
      throw mediaError(MediaErrorName.InvalidParameter, 'setAudioSource() takes a device id or an audio MediaStreamTrack');
    }
    await this.#replace('audio', track, c.videoType);
  }

  /** Switch to the next camera; resolves with its device id. */
  async cycleVideo(): Promise<{ deviceId: string }> {
    const c = this.#requireCapture();
    const cams = (await listDevices()).filter((d) => d.kind === 'videoInput');
    if (cams.length === 0) throw mediaError(MediaErrorName.NoDevicesFound, 'No camera found');
    const current = c.video?.getSettings().deviceId;
    const i = cams.findIndex((d) => d.deviceId === current);
    const next = cams[(i + 1) % cams.length]!;
    if (next.deviceId !== current) await this.setVideoSource(next.deviceId);
    return { deviceId: next.deviceId };
  }

  async #replace(kind: 'audio' | 'video', track: MediaStreamTrack, videoType: VideoType | null): Promise<void> {
    const c = this.#requireCapture();
    const old = c[kind];
    track.enabled = kind === 'audio' ? this.#publishAudio : this.#publishVideo;
    await this.#transceivers[kind]?.sender.replaceTrack(track);
    for (const r of this.#relays.values()) if (!r.off[kind]) await r.transceivers[kind]?.sender.replaceTrack(track);
    if (old && old !== track) old.stop();
    c[kind] = track;
    if (kind === 'video') c.videoType = videoType;
    c.stream = new MediaStream([c.audio, c.video].filter((t): t is MediaStreamTrack => t !== null));
    this.#applyTracks();
    if (kind === 'audio') this.#startMeter();
    await this.#view?.play(c.stream);
  }

  #requireCapture(): Capture {
    if ((this.#state as State) === 'destroyed') throw mediaError(MediaErrorName.InvalidState, 'The publisher was destroyed');
    if (!this.#capture) throw mediaError(MediaErrorName.InvalidState, 'The publisher has no media yet (wait for the initPublisher completion handler)');
    return this.#capture;
  }

  /** Width of the captured video in pixels (undefined before the first frame). */
  videoWidth(): number | undefined {
    return this.#view?.video.videoWidth || undefined;
  }

  /** Height of the captured video in pixels (undefined before the first frame). */
  videoHeight(): number | undefined {
    return this.#view?.video.videoHeight || undefined;
  }

  /** The current frame as a base64 PNG (no `data:` prefix). */
  getImgData(): string | null {
    return this.#view ? snapshot(this.#view.video) || null : null;
  }

  /**
   * Sent-media counters while published: one entry (routed mode: the SFU) with `stats`.
   * Takes the reference's callback `(error, statsArray)` and also returns a Promise.
   */
  getStats(
    completion?: (error: Error | undefined, stats?: Array<{ stats: PublisherStats; connectionId?: string; subscriberId?: string }>) => void,
  ): Promise<Array<{ stats: PublisherStats; connectionId?: string; subscriberId?: string }>> {
    if (!this.#pc && (this.#relays.size > 0 || this.stream)) {
      // Relayed session: one entry per subscriber (none yet: empty), as the reference describes for peer-to-peer sessions.
      const all = [...this.#relays].map(async ([subscriberId, r]) => ({ connectionId: r.connectionId, subscriberId, stats: publisherStats(await r.pc.getStats()) }));
      return settle(Promise.all(all), completion);
    }
    return settle(
      this.#report().then((r) => [{ stats: publisherStats(r) }]),
      completion,
    );
  }

  /** The raw RTCStatsReport of each peer connection (routed: the one to the SFU), in the reference's array form. */
  getRtcStatsReport(): Promise<Array<{ rtcStatsReport: RTCStatsReport; connectionId?: string; subscriberId?: string }>> {
    if (!this.#pc && (this.#relays.size > 0 || this.stream)) {
      return Promise.all([...this.#relays].map(async ([subscriberId, r]) => ({ connectionId: r.connectionId, subscriberId, rtcStatsReport: await r.pc.getStats() })));
    }
    return this.#report().then((r) => [{ rtcStatsReport: r }]);
  }

  #report(): Promise<RTCStatsReport> {
    if (!this.#pc) return Promise.reject(mediaError(MediaErrorName.NotConnected, 'The publisher is not publishing'));
    return this.#pc.getStats();
  }

  /**
   * Stop capturing and remove the view. Published: the Session unpublishes first
   * (`streamDestroyed` with reason `unpublished`). Dispatches `destroyed`.
   */
  destroy(): this {
    if (this.#state === 'destroyed' || this.#destroying) return this;
    this.#destroying = true;
    if (this.stream) this._internal.emit('destroying');
    this.#teardown();
    return this;
  }

  #teardown(reason?: string): void {
    if (this.#state === 'destroyed') return;
    this.#state = 'destroyed';
    this.#meter?.stop();
    this.#meter = null;
    for (const t of this.#capture?.stream.getTracks() ?? []) t.stop();
    this._detach();
    this.#teardownView();
    this.dispatch(new DestroyedEvent(reason));
    this._internal.off();
  }

  #teardownView(): void {
    this.#view?.remove();
    this.element = undefined;
  }

  // ---- SDK-internal glue for the Session (documented in README.md) ----

  /** Resolves when capture succeeded and the first frame is known; rejects with the initPublisher error. */
  _whenReady(): Promise<void> {
    return this.#ready;
  }

  /** What the `publish` request announces. Call after `_whenReady()`. */
  _streamSettings(): PublisherStreamSettings {
    const c = this.#capture;
    const settings = c?.video?.getSettings();
    return {
      name: this.#props.name ?? '',
      hasAudio: this.#hasAudio(),
      hasVideo: this.#hasVideo(),
      videoType: c?.video ? c.videoType : null,
      videoDimensions: this.#dims.width > 0 ? { ...this.#dims } : settings?.width ? { width: settings.width, height: settings.height ?? 0 } : null,
      frameRate: c?.video ? Math.round(settings?.frameRate ?? this.#props.frameRate ?? 30) : null,
    };
  }

  /** Which tracks the capture has (a relayed `publish` announces them). Call after `_whenReady()`. */
  _tracks(): { audio: boolean; video: boolean } {
    return { audio: !!this.#capture?.audio, video: !!this.#capture?.video };
  }

  /** Opus fmtp parameters asked for by `enableStereo`/`audioBitrate`, or null: the Session applies them to the offer and the answer. */
  _opusParams(): { stereo?: boolean; maxAverageBitrate?: number } | null {
    const { enableStereo, audioBitrate } = this.#props;
    if (!enableStereo && !audioBitrate) return null;
    return { stereo: enableStereo === true, maxAverageBitrate: audioBitrate };
  }

  /**
   * Add the captured tracks to the Session's peer connection (sendonly, audio then
   * video, one MediaStream id) before it creates its offer. `audioBitrate` caps the
   * audio encoding; `simulcast` adds three camera layers. Opus stereo needs `stereo=1` in the
   * SDP: see `setOpusParams()`.
   */
  _attach(pc: RTCPeerConnection, options: AttachOptions = {}): PublisherTransceivers {
    const c = this.#requireCapture();
    if (this.#pc && this.#pc !== pc) throw mediaError(MediaErrorName.InvalidState, 'The publisher is already attached to a peer connection');
    this.#pc = pc;
    const streams = [c.stream];
    const audioBitrate = this.#props.audioBitrate;
    const audio = c.audio
      ? pc.addTransceiver(c.audio, { direction: 'sendonly', streams, ...(audioBitrate ? { sendEncodings: [{ maxBitrate: audioBitrate }] } : {}) })
      : null;
    if (c.video && c.videoType === 'screen') c.video.contentHint = 'detail';
    const layers = options.simulcast === true ? this.#simulcastLayers() : null;
    const video = c.video ? pc.addTransceiver(c.video, { direction: 'sendonly', streams, ...(layers ? { sendEncodings: layers } : {}) }) : null;
    this.#transceivers = { audio, video };
    return this.#transceivers;
  }

  /**
   * The simulcast encodings for the capture, or null for one encoding: layers only for a camera (the rule OpenTok
   * applies: none for screens or small captures), judged by its shorter side so a portrait camera counts like a
   * landscape one; three from 540 px, two (half and full size) from 480 px.
   */
  #simulcastLayers(): RTCRtpEncodingParameters[] | null {
    const c = this.#capture;
    if (!c?.video || c.videoType !== 'camera') return null;
    const settings = c.video.getSettings();
    const shorter = Math.min(this.#dims.width || settings.width || 0, this.#dims.height || settings.height || 0);
    if (shorter >= THREE_LAYERS_MIN_HEIGHT) return SIMULCAST_LAYERS.map((e) => ({ ...e }));
    if (shorter >= SIMULCAST_MIN_HEIGHT) return SIMULCAST_LAYERS.slice(1).map((e) => ({ ...e }));
    return null;
  }

  /** Forget the peer connection(s) (the Session closes them). */
  _detach(): void {
    this.#pc = null;
    this.#transceivers = { audio: null, video: null };
    this.#relays.clear();
  }

  /**
   * Relayed sessions: add the captured tracks (sendonly) to the peer connection toward one subscriber,
   * before its offer. `wants` says which kinds that subscriber receives now. Also a routed stream's new
   * connection while it moves (see `_promoteRelay`), which simulcasts as `_attach` does.
   */
  _attachRelay(subscriberId: string, connectionId: string, pc: RTCPeerConnection, wants: { audio: boolean; video: boolean }, options: AttachOptions = {}): void {
    const c = this.#requireCapture();
    const streams = [c.stream];
    const audioBitrate = this.#props.audioBitrate;
    const audio = c.audio
      ? pc.addTransceiver(wants.audio ? c.audio : 'audio', { direction: 'sendonly', streams, ...(audioBitrate ? { sendEncodings: [{ maxBitrate: audioBitrate }] } : {}) })
      : null;
    const layers = options.simulcast === true ? this.#simulcastLayers() : null;
    const video = c.video ? pc.addTransceiver(wants.video ? c.video : 'video', { direction: 'sendonly', streams, ...(layers ? { sendEncodings: layers } : {}) }) : null;
    this.#relays.set(subscriberId, { pc, connectionId, transceivers: { audio, video }, off: { audio: !wants.audio, video: !wants.video } });
  }

  /** Relayed sessions: stop or resume sending one kind to one subscriber (its subscribeToAudio/Video). */
  async _setRelaySending(subscriberId: string, kind: 'audio' | 'video', on: boolean): Promise<void> {
    const r = this.#relays.get(subscriberId);
    if (!r) return;
    r.off[kind] = !on;
    await r.transceivers[kind]?.sender.replaceTrack(on ? (this.#capture?.[kind] ?? null) : null);
  }

  /** Relayed sessions: forget one subscriber's peer connection (the Session closes it). */
  _detachRelay(subscriberId: string): void {
    this.#relays.delete(subscriberId);
  }

  /**
   * Routed sessions, moving to a new peer connection (setIceConfig): the connection attached with
   * `_attachRelay(id, …)` becomes the publisher's one (the Session closes the old one).
   */
  _promoteRelay(id: string): void {
    const r = this.#relays.get(id);
    if (!r) return;
    this.#relays.delete(id);
    this.#pc = r.pc;
    this.#transceivers = r.transceivers;
  }

  /** The stream is published: set `stream`/`session` and dispatch `streamCreated`. */
  _streamCreated(session: unknown, stream: StreamLike): void {
    this.session = session;
    this.stream = stream;
    this.dispatch(new StreamEvent('streamCreated', stream));
  }

  /**
   * The stream ended (unpublish, forceUnpublish, mediaStopped, disconnect): dispatch the
   * cancelable `streamDestroyed`; by default the Publisher is destroyed. Returns whether the
   * application prevented that (the Publisher stays, ready to publish again).
   */
  _streamDestroyed(reason: StreamDestroyedReason): boolean {
    const stream = this.stream;
    if (!stream) return false;
    this.stream = undefined;
    this.session = undefined;
    this._detach();
    const e = new StreamEvent('streamDestroyed', stream, reason);
    this.dispatch(e);
    const prevented = e.isDefaultPrevented();
    if (!prevented && !this.#destroying) this.#teardown(reason);
    return prevented;
  }

  /** A moderator muted this stream: stop sending audio and dispatch `muteForced`. */
  _forceMute(): void {
    this.publishAudio(false);
    this.dispatch(new ConveneEvent('muteForced'));
  }
}
