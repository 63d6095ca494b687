/**
 * Browser media: Publisher, Subscriber and the capture helpers of the OT object.
 * Peer connections and signaling belong to the Session (see README.md).
 */
import { Publisher } from './Publisher.js';
import type { Completion, PublisherProperties, TargetElement } from './types.js';

/**
 * Capture the camera and microphone (or a screen) and show the self-view, as `OT.initPublisher()`.
 * `target` is an element or its id (omitted: appended to `<body>`); the completion handler gets
 * an error named `OT_USER_MEDIA_ACCESS_DENIED`, `OT_NO_DEVICES_FOUND`, `OT_HARDWARE_UNAVAILABLE`,
 * `OT_INVALID_PARAMETER`, `OT_SCREEN_SHARING_NOT_SUPPORTED`, ... on failure.
 * @example
 * const publisher = initPublisher('publisher', { width: 400, height: 300, name: "Bob's stream" }, (err) => {
 *   if (!err) session.publish(publisher);
 * });
 */
export function initPublisher(target?: TargetElement | PublisherProperties, properties?: PublisherProperties | Completion, completionHandler?: Completion): Publisher {
  // The reference allows initPublisher(properties, cb) and initPublisher(target, cb).
  if (typeof properties === 'function') return initPublisher(target, undefined, properties);
  if (target !== null && typeof target === 'object' && !(typeof HTMLElement !== 'undefined' && target instanceof HTMLElement)) {
    return new Publisher(undefined, target as PublisherProperties, completionHandler);
  }
  return new Publisher(target as TargetElement, properties ?? {}, completionHandler);
}

export { Publisher, type AttachOptions, type PublisherStreamSettings, type PublisherTransceivers, type VideoSourceInfo } from './Publisher.js';
export { Subscriber, unblockAudio } from './Subscriber.js';
export { getDevices, getUserMedia, checkScreenSharingCapability, checkSystemRequirements, type ScreenSharingCapability } from './devices.js';
export type { Device } from './capture.js';
export { setOpusParams, type OpusParams } from './sdp.js';
export { MediaErrorName } from './mediaErrors.js';
export type { PublisherStats, SubscriberStats } from './stats.js';
export {
  PublisherEvent,
  SubscriberEvent,
  AccessDeniedEvent,
  AudioLevelUpdatedEvent,
  DestroyedEvent,
  MediaStoppedEvent,
  StreamEvent,
  VideoDimensionsChangedEvent,
  VideoElementCreatedEvent,
  VideoEnabledChangedEvent,
  type Dimensions,
  type PublisherEvents,
  type PublisherInternalEvents,
  type SubscriberEvents,
  type SubscriberInternalEvents,
  type SubscriptionUpdate,
  type VideoReason,
} from './events.js';
export type {
  AudioSourceOption,
  Completion,
  DisplayMode,
  DisplayProperties,
  FitMode,
  InsertMode,
  PublisherProperties,
  StreamLike,
  SubscriberProperties,
  TargetElement,
  VideoSourceOption,
  WidgetStyle,
} from './types.js';
