import type { WireError } from './errors.js';
import type { MediaEvent, MediaRequest, StreamInfo } from './media.js';
import type { Capabilities, Role } from './roles.js';

/*
 * Signaling wire format: JSON text frames over one WebSocket per client.
 *
 * Client -> server: `{ v: 1, type, id?, ... }`. Requests carry a positive
 * integer `id`, strictly increasing per connection (across resumes), and get
 * exactly one response (`ok` or `error` with the same `id`). `ack` and `ping`
 * carry no id and get no response (`ping` gets an unsequenced `pong`).
 *
 * Server -> client: every frame except `pong` and `hello` carries `q`, a
 * per-connection sequence number starting at 1. Responses are sequenced too,
 * so a resumed client gets responses it missed. The client acknowledges the
 * highest `q` it has processed (`ack`, or the `ack` field of `ping`); the
 * server keeps unacknowledged frames for replay on resume.
 */

/** Everything the server knows about a connection that others may see. */
export interface ConnectionInfo {
  connectionId: string;
  /** ms since epoch */
  creationTime: number;
  /** `data` from the token (connection data), '' if none. */
  data: string;
  /** Display name. */
  userName: string;
  /** `user_identity` from the token, '' if none. */
  userIdentity: string;
  role: Role;
  isHost: boolean;
  isManager: boolean;
}

/** Session-wide state shown to every client. */
export interface SessionState {
  /** Session name, lower-cased. */
  sessionId: string;
  /** connectionId of the host, or null while nobody holds it. */
  hostId: string | null;
  /** Screen sharing locked to the host. */
  shareLocked: boolean;
  /** forceMuteAll active: new streams start muted. */
  forceMuteActive: boolean;
  /** Whether a passcode is set (never the passcode itself). */
  hasPasscode: boolean;
  createdAt: number;
}

export type DisconnectReason =
  | 'clientDisconnected'
  | 'forceDisconnected'
  | 'networkDisconnected'
  | 'sessionEnded'
  | 'idleTimeout';

export type ConnectionDestroyedReason = 'clientDisconnected' | 'forceDisconnected' | 'networkDisconnected' | 'sessionEnded';

// ---------------------------------------------------------------------------
// Client -> server

export interface ConnectRequest {
  v: 1;
  type: 'connect';
  id: number;
  /** Session name the client is joining (matched case-insensitively with the token's `tpc`). */
  sessionId: string;
  token: string;
  /** API key the client was initialised with; must match the token's issuer when given. */
  apiKey?: string;
  passcode?: string;
  userName?: string;
  /** Minutes a session whose host is alone stays up. */
  idleTimeoutMins?: number;
  /** SDK name/version, for logs. */
  sdk?: string;
}

export interface ResumeRequest {
  v: 1;
  type: 'resume';
  id: number;
  connectionId: string;
  resumeToken: string;
  /** Highest `q` the client has processed. */
  lastSeq: number;
}

export interface SignalRequest {
  v: 1;
  type: 'signal';
  id: number;
  /** Target connectionId; omitted = everyone. */
  to?: string;
  signalType?: string;
  data?: string;
}

export interface ForceDisconnectRequest {
  v: 1;
  type: 'forceDisconnect';
  id: number;
  connectionId: string;
}

/** Host / manager actions from the sessions guide. */
export type ModerationAction =
  | 'rename'
  | 'makeHost'
  | 'makeManager'
  | 'revokeManager'
  | 'lockShare'
  | 'unlockShare'
  | 'muteAudio'
  | 'requestUnmute';

export const MODERATION_ACTIONS: readonly ModerationAction[] = [
  'rename',
  'makeHost',
  'makeManager',
  'revokeManager',
  'lockShare',
  'unlockShare',
  'muteAudio',
  'requestUnmute',
];

export interface ModerateRequest {
  v: 1;
  type: 'moderate';
  id: number;
  action: ModerationAction;
  /** Target connectionId (all actions but lock/unlock). */
  target?: string;
  /** New display name for `rename`. */
  userName?: string;
}

export interface LeaveRequest {
  v: 1;
  type: 'leave';
  id: number;
  /** End the session for everyone (host only). */
  end?: boolean;
}

export interface AckMessage {
  v: 1;
  type: 'ack';
  seq: number;
}

export interface PingMessage {
  v: 1;
  type: 'ping';
  /** Optional piggybacked ack. */
  ack?: number;
}

export type ClientRequest =
  | ConnectRequest
  | ResumeRequest
  | SignalRequest
  | ForceDisconnectRequest
  | ModerateRequest
  | LeaveRequest
  | MediaRequest;
export type ClientMessage = ClientRequest | AckMessage | PingMessage;
export type ClientMessageType = ClientMessage['type'];

// ---------------------------------------------------------------------------
// Server -> client

/** Result of a successful `connect`. */
export interface JoinedResult {
  connection: ConnectionInfo;
  /** Everyone already in the session (self excluded). */
  connections: ConnectionInfo[];
  /** Streams published in the session now (the reference's sessionConnected `streams`). */
  streams: StreamInfo[];
  session: SessionState;
  capabilities: Capabilities;
  /** Secret presented with `resume`. */
  resumeToken: string;
  /** Server heartbeat parameters, ms. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  resumeWindowMs: number;
  /**
   * STUN/TURN servers for this connection's peer connections (W3C `RTCIceServer` shape), from the
   * server's configuration; TURN credentials may be short-lived ones minted for this connection.
   * Absent when the server has none configured.
   */
  iceServers?: IceServer[];
  /** How the session carries media: `routed` through the SFU (default) or `relayed` peer to peer. */
  mediaMode?: MediaMode;
  /**
   * Routed sessions: the SFU accepts simulcast (`a=rid` layers, RFC 8853) and forwards each subscriber the
   * layer its preferred resolution and frame rate pick. Absent or false: publish one encoding.
   */
  simulcast?: boolean;
}

/** A STUN or TURN server (the W3C `RTCIceServer` shape). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** `routed`: media goes through the server's SFU; `relayed`: clients connect peer to peer. */
export type MediaMode = 'routed' | 'relayed';

/** Result of a successful `resume`. */
export interface ResumedResult {
  /** Highest request id the server had processed before this resume; the client resends later ones. */
  lastRequestId: number;
  capabilities: Capabilities;
  /** Fresh ICE servers (short-lived TURN credentials are re-minted on resume). Absent when none are configured. */
  iceServers?: IceServer[];
}

export interface OkResponse {
  v: 1;
  q: number;
  type: 'ok';
  id: number;
  result?: JoinedResult | ResumedResult | Record<string, unknown>;
}

export interface ErrorResponse {
  v: 1;
  q?: number;
  type: 'error';
  /** Absent when the error is not tied to a request (e.g. unparsable frame). */
  id?: number;
  error: WireError;
}

/** First frame after the socket opens (unsequenced). */
export interface HelloEvent {
  v: 1;
  type: 'hello';
  serverVersion: string;
  maxFrameBytes: number;
}

export interface PongEvent {
  v: 1;
  type: 'pong';
}

export interface ConnectionCreatedEvent {
  v: 1;
  q: number;
  type: 'connectionCreated';
  /** One or more (coalesced in large sessions), in join order. */
  connections: ConnectionInfo[];
}

export interface ConnectionDestroyedEvent {
  v: 1;
  q: number;
  type: 'connectionDestroyed';
  connections: { connectionId: string; reason: ConnectionDestroyedReason }[];
}

/** A connection's name, host or manager standing changed. */
export interface ConnectionUpdatedEvent {
  v: 1;
  q: number;
  type: 'connectionUpdated';
  connection: ConnectionInfo;
  /** Which fields changed. */
  changed: ('userName' | 'isHost' | 'isManager')[];
  /** connectionId of who made the change, if anyone. */
  by?: string;
}

/** Sent only to the connection whose capabilities changed. */
export interface CapabilitiesEvent {
  v: 1;
  q: number;
  type: 'capabilities';
  capabilities: Capabilities;
}

export interface SessionUpdatedEvent {
  v: 1;
  q: number;
  type: 'sessionUpdated';
  session: SessionState;
  changed: (keyof SessionState)[];
  by?: string;
}

export interface SignalEvent {
  v: 1;
  q: number;
  type: 'signal';
  /** Sender connectionId, or null when sent by the server (REST). */
  from: string | null;
  signalType: string;
  data: string;
}

/** Host/manager asked this connection to mute or unmute its audio. */
export interface MuteRequestEvent {
  v: 1;
  q: number;
  type: 'muteRequest';
  action: 'muteAudio' | 'requestUnmute';
  by: string;
}

/** The server is ending this connection; it will not accept a resume. */
export interface DisconnectedEvent {
  v: 1;
  q: number;
  type: 'disconnected';
  reason: DisconnectReason;
  message?: string;
}

export type ServerEvent =
  | ConnectionCreatedEvent
  | ConnectionDestroyedEvent
  | ConnectionUpdatedEvent
  | CapabilitiesEvent
  | SessionUpdatedEvent
  | SignalEvent
  | MuteRequestEvent
  | DisconnectedEvent
  | MediaEvent;

export type ServerMessage = OkResponse | ErrorResponse | HelloEvent | PongEvent | ServerEvent;
export type ServerMessageType = ServerMessage['type'];
