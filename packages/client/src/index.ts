/**
 * @convene/client: the Convene SDK for browsers and Node.
 *
 * Two APIs over one core: the OpenTok-style Session API (`OT`, `initSession`,
 * `Session`) and the sessions-guide lifecycle (`createClient`).
 */
export { OT, OTClass, initSession } from './ot/OT.js';
export { ExceptionEvent, OTEvent, type OTEvents } from './ot/events.js';
export {
  Session,
  SDK_VERSION,
  type CompletionHandler,
  type ConnectOptions,
  type SessionConnectionState,
  type SessionOptions,
  type SignalOptions,
} from './session/Session.js';
export { Connection } from './session/Connection.js';
export { Stream } from './session/Stream.js';
export { PEER_CONNECTION_FAILED, type AnyPublisher, type AnyPublisherProperties, type AnySubscriber } from './session/SessionMedia.js';
export {
  CapabilitiesChangedEvent,
  ConnectionEvent,
  ConnectionPropertyChangedEvent,
  MuteRequestedEvent,
  SessionConnectEvent,
  SessionDisconnectEvent,
  SessionEvent,
  SessionPropertyChangedEvent,
  SignalEvent,
  StreamEvent,
  StreamPropertyChangedEvent,
  MuteForcedEvent,
  type SessionEvents,
} from './session/events.js';
// Browser media (Publisher, Subscriber, capture helpers). Their StreamEvent is the Publisher's.
export {
  initPublisher as initBrowserPublisher,
  Publisher,
  Subscriber,
  unblockAudio,
  getDevices,
  getUserMedia,
  checkScreenSharingCapability,
  checkSystemRequirements,
  setOpusParams,
  MediaErrorName,
  PublisherEvent,
  SubscriberEvent,
  AccessDeniedEvent,
  AudioLevelUpdatedEvent,
  DestroyedEvent,
  MediaStoppedEvent,
  StreamEvent as PublisherStreamEvent,
  VideoDimensionsChangedEvent,
  VideoElementCreatedEvent,
  VideoEnabledChangedEvent,
  type AttachOptions,
  type PublisherStreamSettings,
  type PublisherTransceivers,
  type VideoSourceInfo,
  type ScreenSharingCapability,
  type Device,
  type OpusParams,
  type PublisherStats,
  type SubscriberStats,
  type Dimensions,
  type PublisherEvents,
  type SubscriberEvents,
  type SubscriptionUpdate,
  type VideoReason,
  type AudioSourceOption,
  type Completion,
  type DisplayMode,
  type DisplayProperties,
  type FitMode,
  type InsertMode,
  type PublisherProperties,
  type StreamLike,
  type SubscriberProperties,
  type TargetElement,
  type VideoSourceOption,
  type WidgetStyle,
} from './media/browser/index.js';
export { initAnyPublisher as initPublisher } from './media/initPublisher.js';
// Node media classes live in '@convene/client/node'; only their types are exported here.
export type { NodePublisher, NodePublisherProperties, NodePublisherEvents } from './media/node/NodePublisher.js';
export type { NodeSubscriber, NodeSubscriberProperties, NodeSubscriberEvents } from './media/node/NodeSubscriber.js';
export type { MediaPeer, PeerState } from './media/peer.js';
export type { IceConfig } from './media/iceConfig.js';
export { VideoClient, createClient, destroyClient, type InitOptions, type JoinOptions, type SessionInfo } from './client/VideoClient.js';
export {
  VideoClientEvent,
  type ConnectionChange,
  type ConnectionState,
  type Participant,
  type ParticipantUpdate,
  type RemovedParticipant,
  type VideoClientEvents,
} from './client/events.js';
export { ConveneEvent } from './ConveneEvent.js';
export { EventDispatcher, type EventHandler, type HandlerMap } from './EventDispatcher.js';
export {
  AuthenticationError,
  ConnectError,
  ConveneError,
  InvalidParameterError,
  InvalidStateError,
  NotConnectedError,
  PermissionDeniedError,
} from './errors.js';
export { LogLevel, type Logger, type LogLevelName } from './logger.js';
export type { SocketFactory, SocketLike } from './transport/socket.js';
export type {
  Capabilities,
  Role,
  DisconnectReason,
  ConnectionDestroyedReason,
  StreamDestroyedReason,
  StreamInfo,
  StreamProperty,
  VideoType,
} from '@convene/protocol';
