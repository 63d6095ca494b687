/*
 * Media signaling. Routed mode (the default) below; relayed (peer-to-peer) mode at "Relayed mode". FINAL, accepted by parseClientMessage; see docs/protocol.md "Media".
 *
 * One RTCPeerConnection per Publisher and one per Subscriber (as OpenTok does), each to the SFU.
 * The CLIENT OFFERS in both directions (the SFU never offers): libdatachannel checks the peer's DTLS
 * certificate against the remote SDP during the handshake, so the SFU must hold the client's SDP before
 * any DTLS packet can arrive (see packages/server/src/sfu/README.md). It is also one round trip each:
 * - Publish: the client offers (sendonly audio and/or video m-sections, with a=ssrc lines), the server
 *   answers in the `publish` response. When the connect result says `simulcast: true`, a camera's video
 *   section may carry simulcast layers instead (`a=rid:<id> send`, `a=simulcast:send`, the rid header
 *   extensions, no a=ssrc): the answer accepts them (`a=rid:<id> recv`, `a=simulcast:recv`).
 * - Subscribe: the client offers recvonly m-sections (one audio and/or one video transceiver), the server
 *   answers in the `subscribe` response and says which mid carries which kind (`audioMid`/`videoMid`).
 *   An offered m-section the stream has no track for is answered inactive (its mid is null).
 * - Candidates: the server's answers carry all of its candidates (it waits for gathering; with one UDP
 *   port this is immediate), so the server never trickles. A client may put its candidates in the offer
 *   (recommended: wait for gathering, it is fast) or trickle them with `candidate`.
 * Codecs: VP8 and Opus (others are removed from the answer). transport-cc is answered on publisher
 * connections only (the SFU sends its feedback); RTX (`a=ssrc-group:FID`) is used both ways when offered.
 */

export type VideoType = 'camera' | 'screen' | 'custom';
export const VIDEO_TYPES: readonly VideoType[] = ['camera', 'screen', 'custom'];

export type StreamDestroyedReason =
  | 'clientDisconnected'
  | 'forceDisconnected'
  | 'forceUnpublished'
  | 'mediaStopped'
  | 'networkDisconnected'
  | 'unpublished'
  | 'sessionEnded';

/** What everyone sees of a published stream. */
export interface StreamInfo {
  streamId: string;
  /** connectionId of the publisher. */
  connectionId: string;
  name: string;
  hasAudio: boolean;
  hasVideo: boolean;
  videoType: VideoType | null;
  videoDimensions: { width: number; height: number } | null;
  frameRate: number | null;
  /** ms since epoch. */
  creationTime: number;
}

export type StreamProperty = 'hasAudio' | 'hasVideo' | 'videoDimensions' | 'videoType';

// ---------------------------------------------------------------------------
// Client -> server (requests carry `id` and get one `ok`/`error`)

/**
 * Publish a stream. Errors: OT_PERMISSION_DENIED 1500 (role may not publish, or screen sharing is locked
 * to the host), OT_INVALID_PARAMETER 1011 (the offer has no audio/video track we can receive: VP8/Opus with
 * a=ssrc), OT_MESSAGE_TOO_LARGE 413 (sdp over limits.sdpMaxBytes).
 */
export interface PublishRequest {
  v: 1;
  type: 'publish';
  id: number;
  /** Stream name (≤ limits.streamNameMaxLength characters), default ''. */
  name?: string;
  /** Default: whether the offer has an audio track. */
  hasAudio?: boolean;
  /** Default: whether the offer has a video track. */
  hasVideo?: boolean;
  /** Default 'camera' when the offer has video, else null. */
  videoType?: VideoType;
  videoDimensions?: { width: number; height: number };
  frameRate?: number;
  /** Routed sessions: SDP offer from the publisher's peer connection (sendonly). Relayed sessions: absent. */
  sdp?: string;
  /** Relayed sessions (required there, as there is no offer): the tracks the publisher can send. */
  tracks?: { audio: boolean; video: boolean };
  /**
   * Routed sessions: move this stream of yours to the new peer connection this offer comes from (e.g. after
   * setIceConfig) instead of publishing a new one. The result's `stream` is the existing stream; once the new
   * connection is up the SFU moves every subscriber to it without a gap, closes the old transport and sends
   * `publisherMoved`: close the old peer connection then. If the new one fails, the old one stays. The offer
   * must carry the same tracks. Errors: OT_NOT_FOUND 404 (not your stream), OT_INVALID_STATE (a move is
   * already under way, or a relayed session), OT_INVALID_PARAMETER 1011 (other tracks).
   */
  replaceStreamId?: string;
}
/** ok result of `publish`. */
export interface PublishResult {
  stream: StreamInfo;
  /** SDP answer from the SFU (all candidates included); null in a relayed session. */
  sdp: string | null;
  /**
   * Force-mute is active in the session: the stream starts with audio muted (`stream.hasAudio` false,
   * the SFU forwards no audio). The publisher mutes locally; it may unmute later with `streamUpdate`.
   */
  audioMuted: boolean;
}

/** Stop publishing. `reason: 'mediaStopped'` when the capture ended (the user stopped a screen share). */
export interface UnpublishRequest {
  v: 1;
  type: 'unpublish';
  id: number;
  streamId: string;
  reason?: 'mediaStopped';
}

/**
 * Subscribe to a stream. Errors: OT_NOT_FOUND 404 (no such stream), OT_PERMISSION_DENIED 1520 (role may not
 * subscribe), OT_INVALID_PARAMETER 1011 (the offer has no recvonly m-section for any track of the stream).
 */
export interface SubscribeRequest {
  v: 1;
  type: 'subscribe';
  id: number;
  streamId: string;
  /**
   * Routed sessions: SDP offer from the subscriber's peer connection (recvonly audio and/or video
   * m-sections). Relayed sessions: absent (the publisher offers, through `peerSignal`).
   */
  sdp?: string;
  /** Default true. False: the audio track is negotiated but nothing is forwarded until enabled. */
  subscribeToAudio?: boolean;
  /** Default true. */
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number } | null;
  preferredFrameRate?: number | null;
}
/** ok result of `subscribe`. */
export interface SubscribeResult {
  /** Id of this subscription (for `subscription`, `unsubscribe`, `candidate`). */
  subscriberId: string;
  /** SDP answer from the SFU (all candidates included); null in a relayed session. */
  sdp: string | null;
  /** mid of the offered m-section that receives the stream's audio, or null. */
  audioMid: string | null;
  /** mid of the offered m-section that receives the stream's video, or null. */
  videoMid: string | null;
}

export interface UnsubscribeRequest {
  v: 1;
  type: 'unsubscribe';
  id: number;
  subscriberId: string;
}

/** Update what a subscriber receives (subscribeToAudio/Video, preferred layers). No renegotiation. */
export interface SubscriptionUpdateRequest {
  v: 1;
  type: 'subscription';
  id: number;
  subscriberId: string;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  /**
   * Maxima for the video received (null: none). For a simulcast stream the SFU forwards the largest layer
   * within them; otherwise they have no effect. The frame rate only selects among layers of different rates.
   */
  preferredResolution?: { width: number; height: number } | null;
  preferredFrameRate?: number | null;
}

/** A trickled ICE candidate of the client's peer connection. */
export interface CandidateMessage {
  v: 1;
  type: 'candidate';
  id: number;
  /** streamId (publisher PC) or subscriberId (subscriber PC). */
  target: string;
  /** The `candidate:...` attribute value (with or without the `a=` prefix). */
  candidate: string;
  mid: string;
}

/** The publisher changed its stream (publishAudio/publishVideo, resolution): everyone gets streamPropertyChanged. */
export interface StreamUpdateRequest {
  v: 1;
  type: 'streamUpdate';
  id: number;
  streamId: string;
  hasAudio?: boolean;
  hasVideo?: boolean;
  videoDimensions?: { width: number; height: number };
  videoType?: VideoType;
}

/** Errors: OT_PERMISSION_DENIED 1530 (no canForceUnpublish), OT_NOT_FOUND 1535 (no such stream). */
export interface ForceUnpublishRequest {
  v: 1;
  type: 'forceUnpublish';
  id: number;
  streamId: string;
}
/** Errors: OT_PERMISSION_DENIED 1520 (no canForceMute), OT_NOT_FOUND 404. */
export interface ForceMuteStreamRequest {
  v: 1;
  type: 'forceMuteStream';
  id: number;
  streamId: string;
}
/** Mute every stream but the excluded ones and make new streams start muted. Errors: 1520. */
export interface ForceMuteAllRequest {
  v: 1;
  type: 'forceMuteAll';
  id: number;
  /** Default []. Unknown ids are ignored. */
  excludedStreamIds: string[];
}
/** Errors: 1520. */
export interface DisableForceMuteRequest {
  v: 1;
  type: 'disableForceMute';
  id: number;
}

// ---------------------------------------------------------------------------
// Relayed mode (`mediaMode: 'relayed'`, see JoinedResult): peer to peer, the server relays signaling only.
//
// - `publish` carries `tracks` instead of an SDP; the stream exists at once (no media until someone subscribes).
// - `subscribe` carries no SDP. The server answers with a `subscriberId` and sends the PUBLISHER a
//   `peerSubscribe` event. The publisher's client creates one peer connection for that subscriber, adds its
//   tracks (sendonly) and sends its offer with `peerSignal`; the subscriber answers with `peerSignal`.
// - Candidates trickle with `peerSignal { candidate }`. Offers and answers go out WITHOUT candidates, and
//   the offerer sends its candidates only once it holds the answer (libdatachannel, the Node SDK's WebRTC,
//   fails DTLS when checks arrive before it has the remote description; see media/peer.ts in the client).
// - `subscription` updates reach the publisher as `peerUpdate` (it stops or resumes sending that kind to
//   that subscriber); the subscription's end (unsubscribe, subscriber gone) reaches it as `peerClosed`.
// - Moderation works as in routed mode, but a force mute is carried out by the publisher's client only.

/** A relayed session description (offer from the publisher, answer from the subscriber). */
export interface PeerDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** A relayed ICE candidate: the `candidate:...` value (with or without `a=`) and its m-section mid. */
export interface PeerCandidate {
  candidate: string;
  mid: string;
}

/**
 * Relayed sessions: send a description or a candidate to the other end of subscription `subscriberId` (the
 * sender is its subscriber or the publisher of its stream). Exactly one of `description` and `candidate`.
 * Errors: OT_NOT_FOUND 404 (no such subscription of yours or of your streams), OT_INVALID_STATE (routed
 * session), OT_INVALID_PARAMETER 1011, OT_MESSAGE_TOO_LARGE 413 (sdp over limits.sdpMaxBytes).
 */
export interface PeerSignalRequest {
  v: 1;
  type: 'peerSignal';
  id: number;
  subscriberId: string;
  description?: PeerDescription;
  candidate?: PeerCandidate;
}

export type MediaRequest =
  | PeerSignalRequest
  | PublishRequest
  | UnpublishRequest
  | SubscribeRequest
  | UnsubscribeRequest
  | SubscriptionUpdateRequest
  | CandidateMessage
  | StreamUpdateRequest
  | ForceUnpublishRequest
  | ForceMuteStreamRequest
  | ForceMuteAllRequest
  | DisableForceMuteRequest;

// ---------------------------------------------------------------------------
// Server -> client events (sequenced)

/** To everyone but the publisher (it learns its stream from the `publish` response). */
export interface StreamCreatedEvent {
  v: 1;
  q: number;
  type: 'streamCreated';
  stream: StreamInfo;
}
/** To everyone, the publisher included. The stream's subscriptions are gone. */
export interface StreamDestroyedEvent {
  v: 1;
  q: number;
  type: 'streamDestroyed';
  streamId: string;
  reason: StreamDestroyedReason;
}
/** To everyone, the publisher included. */
export interface StreamPropertyChangedEvent {
  v: 1;
  q: number;
  type: 'streamPropertyChanged';
  streamId: string;
  changedProperty: StreamProperty;
  oldValue: unknown;
  newValue: unknown;
}
/**
 * Two forms. With `streamId`: to the publisher of that stream only (forceMuteStream, forceMuteAll, the
 * host's `muteAudio`): mute it locally and send `streamUpdate { hasAudio: false }` (the SFU already stopped
 * forwarding its audio). With `active`: to everyone (forceMuteAll: true, disableForceMute: false).
 */
export interface MuteForcedEvent {
  v: 1;
  q: number;
  type: 'muteForced';
  active?: boolean;
  streamId?: string;
}
/**
 * Reserved: a server-side trickle candidate. The current server puts every candidate in its SDP answers
 * and never sends this; clients should nevertheless apply one if it comes.
 */
export interface ServerCandidateEvent {
  v: 1;
  q: number;
  type: 'candidate';
  target: string;
  candidate: string;
  mid: string;
}

/** Routed sessions, to the publisher: its stream now flows from the peer connection of `publish { replaceStreamId }`. */
export interface PublisherMovedEvent {
  v: 1;
  q: number;
  type: 'publisherMoved';
  streamId: string;
  /** false: the new connection failed or did not connect in time; the old one still carries the stream. */
  moved: boolean;
}

/** Relayed sessions, to the publisher: someone subscribed to your stream; create a peer connection and offer. */
export interface PeerSubscribeEvent {
  v: 1;
  q: number;
  type: 'peerSubscribe';
  subscriberId: string;
  streamId: string;
  /** The subscriber's connectionId. */
  connectionId: string;
  subscribeToAudio: boolean;
  subscribeToVideo: boolean;
}
/** Relayed sessions: a description or candidate from the other end of a subscription. */
export interface PeerSignalEvent {
  v: 1;
  q: number;
  type: 'peerSignal';
  subscriberId: string;
  streamId: string;
  description?: PeerDescription;
  candidate?: PeerCandidate;
}
/** Relayed sessions, to the publisher: the subscriber changed what it receives. */
export interface PeerUpdateEvent {
  v: 1;
  q: number;
  type: 'peerUpdate';
  subscriberId: string;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
}
/** Relayed sessions, to the publisher: the subscription ended; close its peer connection. */
export interface PeerClosedEvent {
  v: 1;
  q: number;
  type: 'peerClosed';
  subscriberId: string;
  streamId: string;
}

export type MediaEvent =
  | PublisherMovedEvent
  | PeerSubscribeEvent
  | PeerSignalEvent
  | PeerUpdateEvent
  | PeerClosedEvent
  | StreamCreatedEvent | StreamDestroyedEvent | StreamPropertyChangedEvent | MuteForcedEvent | ServerCandidateEvent;
