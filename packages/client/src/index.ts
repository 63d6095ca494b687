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
  type SessionEvents,
} from './session/events.js';
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
export type { Capabilities, Role, DisconnectReason, ConnectionDestroyedReason } from '@convene/protocol';
