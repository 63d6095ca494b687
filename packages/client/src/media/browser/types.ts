import type { VideoType } from '@convene/protocol';

/** The parts of a Stream object the media objects read (the Session's `Stream` class satisfies it). */
export interface StreamLike {
  readonly streamId: string;
  readonly name: string;
  readonly hasAudio: boolean;
  readonly hasVideo: boolean;
  readonly videoType: VideoType | null;
  readonly videoDimensions: { width: number; height: number } | null;
  readonly frameRate: number | null;
}

/** Where the default UI goes: an element, its id, or nothing (a new element appended to `<body>`). */
export type TargetElement = HTMLElement | string | null | undefined;

/** How the default UI is placed relative to the target element. */
export type InsertMode = 'replace' | 'after' | 'before' | 'append';

/** How the video fills its box: cropped (`cover`) or letterboxed (`contain`). */
export type FitMode = 'cover' | 'contain';

/** Visibility of one UI control: on hover (`auto`), never, or always. */
export type DisplayMode = 'auto' | 'off' | 'on';

/** The `style` property of a Publisher or Subscriber. */
export interface WidgetStyle {
  nameDisplayMode?: DisplayMode;
  buttonDisplayMode?: DisplayMode;
  /** `auto`: shown while the video is off. */
  audioLevelDisplayMode?: DisplayMode;
  /** Subscriber only: the "video disabled for quality" indicator. */
  videoDisabledDisplayMode?: DisplayMode;
  /** Subscriber only: the "click to hear" overlay when autoplay blocks audio. */
  audioBlockedDisplayMode?: 'auto' | 'off';
  /** Publisher only; accepted for compatibility (there is no archiving indicator). */
  archiveStatusDisplayMode?: DisplayMode;
  /** Image shown while the video is off (http(s) or data: URI). */
  backgroundImageURI?: string;
}

/** Properties shared by Publisher and Subscriber displays. */
export interface DisplayProperties {
  /** Number of px, `'NNpx'` or `'NN%'` of the parent (default 264 px). */
  width?: number | string;
  /** Number of px, `'NNpx'` or `'NN%'` of the parent (default 198 px). */
  height?: number | string;
  insertMode?: InsertMode;
  /** false: no DOM is inserted; take the `<video>` from the `videoElementCreated` event. */
  insertDefaultUI?: boolean;
  fitMode?: FitMode;
  showControls?: boolean;
  style?: WidgetStyle;
}

/** A video source: a device id, a track, `'screen'`, or null/false for no video. */
export type VideoSourceOption = string | MediaStreamTrack | null | false | undefined;
/** An audio source: a device id, a track, `'screen'` (audio of a screen share), or null/false for no audio. */
export type AudioSourceOption = string | MediaStreamTrack | null | false | undefined;

/** Properties of `OT.initPublisher()`. */
export interface PublisherProperties extends DisplayProperties {
  name?: string;
  /** Mirror the self-view (default true for a camera, false for a screen). */
  mirror?: boolean;
  publishAudio?: boolean;
  publishVideo?: boolean;
  audioSource?: AudioSourceOption;
  videoSource?: VideoSourceOption | 'screen' | 'window' | 'application' | 'browser';
  /** `'WIDTHxHEIGHT'`, e.g. `'1280x720'` (default `'640x480'`). */
  resolution?: string;
  /** 30 (default), 15, 7 or 1. */
  frameRate?: number;
  /** Screen share: the largest size to capture. */
  maxResolution?: { width: number; height: number };
  /** Capture and send stereo audio (disables echo cancellation). */
  enableStereo?: boolean;
  /** Maximum audio bitrate in bits per second (6000-510000). */
  audioBitrate?: number;
  /** Turn off echo cancellation, noise suppression and gain control (default false). */
  disableAudioProcessing?: boolean;
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
  /** Accepted and ignored: audio fallback is a routed-mode server feature not implemented yet. */
  audioFallbackEnabled?: boolean;
  publisherAudioFallbackEnabled?: boolean;
  subscriberAudioFallbackEnabled?: boolean;
}

/** Properties of `session.subscribe()`. */
export interface SubscriberProperties extends DisplayProperties {
  /** 0-100 (default 50). */
  audioVolume?: number;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number };
  preferredFrameRate?: number;
  /** Subscribe to your own stream through the SFU (handled by the Session). */
  testNetwork?: boolean;
}

/** A completion handler: called with nothing on success, an error object on failure. */
export type Completion = (error?: Error) => void;
