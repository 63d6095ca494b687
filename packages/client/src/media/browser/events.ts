import type { StreamDestroyedReason, StreamProperty } from '@convene/protocol';
import { ConveneEvent } from '../../ConveneEvent.js';
import type { StreamLike } from './types.js';

/** Names of the events a Publisher dispatches. */
export const PublisherEvent = {
  AccessAllowed: 'accessAllowed',
  AccessDenied: 'accessDenied',
  AccessDialogOpened: 'accessDialogOpened',
  AccessDialogClosed: 'accessDialogClosed',
  VideoElementCreated: 'videoElementCreated',
  StreamCreated: 'streamCreated',
  StreamDestroyed: 'streamDestroyed',
  AudioLevelUpdated: 'audioLevelUpdated',
  MediaStopped: 'mediaStopped',
  MuteForced: 'muteForced',
  VideoDimensionsChanged: 'videoDimensionsChanged',
  Destroyed: 'destroyed',
} as const;
export type PublisherEvent = (typeof PublisherEvent)[keyof typeof PublisherEvent];

/** Names of the events a Subscriber dispatches. */
export const SubscriberEvent = {
  VideoElementCreated: 'videoElementCreated',
  Loaded: 'loaded',
  Connected: 'connected',
  Disconnected: 'disconnected',
  AudioLevelUpdated: 'audioLevelUpdated',
  VideoDisabled: 'videoDisabled',
  VideoEnabled: 'videoEnabled',
  VideoDimensionsChanged: 'videoDimensionsChanged',
  AudioBlocked: 'audioBlocked',
  AudioUnblocked: 'audioUnblocked',
  Destroyed: 'destroyed',
} as const;
export type SubscriberEvent = (typeof SubscriberEvent)[keyof typeof SubscriberEvent];

/** `videoElementCreated`: the `<video>` element the SDK made (insert it yourself when `insertDefaultUI` is false). */
export class VideoElementCreatedEvent extends ConveneEvent {
  constructor(readonly element: HTMLVideoElement) {
    super('videoElementCreated');
  }
}

/** `audioLevelUpdated`: `audioLevel` from 0 (silence) to 1 (full scale), about every 60 ms. */
export class AudioLevelUpdatedEvent extends ConveneEvent {
  constructor(readonly audioLevel: number) {
    super('audioLevelUpdated');
  }
}

/** `streamCreated` / `streamDestroyed` on a Publisher. `streamDestroyed` is cancelable: the default removes the Publisher. */
export class StreamEvent extends ConveneEvent {
  constructor(
    type: 'streamCreated' | 'streamDestroyed',
    readonly stream: StreamLike,
    readonly reason?: StreamDestroyedReason,
  ) {
    super(type, type === 'streamDestroyed');
  }
}

/** `mediaStopped`: a captured track ended (the user stopped a screen share, a camera was unplugged). Cancelable. */
export class MediaStoppedEvent extends ConveneEvent {
  constructor(readonly track: MediaStreamTrack) {
    super('mediaStopped', true);
  }
}

/** Why a subscriber's video was disabled or enabled. */
export type VideoReason = 'publishVideo' | 'subscribeToVideo' | 'quality' | 'codecNotSupported';

/** `videoDisabled` / `videoEnabled` on a Subscriber, with the reason. */
export class VideoEnabledChangedEvent extends ConveneEvent {
  constructor(
    type: 'videoDisabled' | 'videoEnabled',
    readonly reason: VideoReason,
  ) {
    super(type);
  }
}

/** Width and height of a video in pixels. */
export interface Dimensions {
  width: number;
  height: number;
}

/** `videoDimensionsChanged`: the rendered video's intrinsic size changed. */
export class VideoDimensionsChangedEvent extends ConveneEvent {
  constructor(
    readonly oldValue: Dimensions,
    readonly newValue: Dimensions,
  ) {
    super('videoDimensionsChanged');
  }
}

/** `accessDenied`: the user or the browser refused camera/microphone (or screen) access. */
export class AccessDeniedEvent extends ConveneEvent {
  constructor(readonly error: Error) {
    super('accessDenied');
  }
}

/** `destroyed`, with why (`unpublished`, `mediaStopped`, ...) when the SDK destroyed the object. */
export class DestroyedEvent extends ConveneEvent {
  constructor(readonly reason?: string) {
    super('destroyed');
  }
}

/** Event objects by Publisher event name. */
export type PublisherEvents = {
  accessAllowed: ConveneEvent;
  accessDenied: AccessDeniedEvent;
  accessDialogOpened: ConveneEvent;
  accessDialogClosed: ConveneEvent;
  videoElementCreated: VideoElementCreatedEvent;
  streamCreated: StreamEvent;
  streamDestroyed: StreamEvent;
  audioLevelUpdated: AudioLevelUpdatedEvent;
  mediaStopped: MediaStoppedEvent;
  muteForced: ConveneEvent;
  videoDimensionsChanged: VideoDimensionsChangedEvent;
  destroyed: DestroyedEvent;
};

/** Event objects by Subscriber event name. */
export type SubscriberEvents = {
  videoElementCreated: VideoElementCreatedEvent;
  loaded: ConveneEvent;
  connected: ConveneEvent;
  disconnected: ConveneEvent;
  audioLevelUpdated: AudioLevelUpdatedEvent;
  videoDisabled: VideoEnabledChangedEvent;
  videoEnabled: VideoEnabledChangedEvent;
  videoDimensionsChanged: VideoDimensionsChangedEvent;
  audioBlocked: ConveneEvent;
  audioUnblocked: ConveneEvent;
  destroyed: DestroyedEvent;
};

/**
 * SDK-internal notifications from a Publisher to the Session that publishes it
 * (a `TypedEmitter` on `publisher._internal`). Never shown to applications.
 */
export type PublisherInternalEvents = {
  /** `publishAudio`/`publishVideo`/a resize changed what the stream carries: send `streamUpdate`. */
  propertyChanged: [property: StreamProperty, oldValue: unknown, newValue: unknown];
  /** A track ended and the app did not prevent the default: unpublish with reason `mediaStopped`. */
  mediaStopped: [track: MediaStreamTrack];
  /** `destroy()` was called while published: unpublish now (before the element goes). */
  destroying: [];
};

/** What a Subscriber asks of the SFU; only the fields that changed are set. */
export interface SubscriptionUpdate {
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  preferredResolution?: Dimensions | null;
  preferredFrameRate?: number | null;
}

/** SDK-internal notifications from a Subscriber to its Session (`subscriber._internal`). */
export type SubscriberInternalEvents = {
  /** Send a `subscription` update to the server. */
  subscriptionChanged: [update: SubscriptionUpdate];
  /** `destroy()` was called: send `unsubscribe` and close the peer connection. */
  destroying: [];
};
