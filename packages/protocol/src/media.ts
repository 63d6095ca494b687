/*
 * Media signaling (routed mode), DRAFT for the media issue: not yet accepted by parseClientMessage.
 *
 * One RTCPeerConnection per Publisher and one per Subscriber (as OpenTok does), each to the SFU.
 * - Publish: the client offers (sendonly audio/video), the server answers in the `publish` response.
 * - Subscribe: the server offers (sendonly from the SFU) in the `subscribe` response; the client
 *   answers with `answer`. One round trip for join-to-offer keeps time to first frame low.
 * - Candidates: SDPs carry gathered candidates; `candidate` trickles later ones either way.
 */

export type VideoType = 'camera' | 'screen' | 'custom';

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
  connectionId: string;
  name: string;
  hasAudio: boolean;
  hasVideo: boolean;
  videoType: VideoType | null;
  videoDimensions: { width: number; height: number } | null;
  frameRate: number | null;
  creationTime: number;
}

export type StreamProperty = 'hasAudio' | 'hasVideo' | 'videoDimensions' | 'videoType';

// Client -> server (requests carry `id` and get one `ok`/`error`)
export interface PublishRequest {
  v: 1;
  type: 'publish';
  id: number;
  name?: string;
  hasAudio: boolean;
  hasVideo: boolean;
  videoType?: VideoType;
  videoDimensions?: { width: number; height: number };
  frameRate?: number;
  /** SDP offer from the publisher's peer connection. */
  sdp: string;
}
/** ok result of `publish`. */
export interface PublishResult {
  stream: StreamInfo;
  /** SDP answer from the SFU. */
  sdp: string;
  /** Force-mute active in the session: start with audio muted. */
  audioMuted: boolean;
}

export interface UnpublishRequest {
  v: 1;
  type: 'unpublish';
  id: number;
  streamId: string;
}

export interface SubscribeRequest {
  v: 1;
  type: 'subscribe';
  id: number;
  streamId: string;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
}
/** ok result of `subscribe`. */
export interface SubscribeResult {
  subscriberId: string;
  /** SDP offer from the SFU. */
  sdp: string;
}

export interface AnswerRequest {
  v: 1;
  type: 'answer';
  id: number;
  subscriberId: string;
  sdp: string;
}

export interface UnsubscribeRequest {
  v: 1;
  type: 'unsubscribe';
  id: number;
  subscriberId: string;
}

/** Update what a subscriber receives (subscribeToAudio/Video, preferred layers). */
export interface SubscriptionUpdateRequest {
  v: 1;
  type: 'subscription';
  id: number;
  subscriberId: string;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number } | null;
  preferredFrameRate?: number | null;
}

export interface CandidateMessage {
  v: 1;
  type: 'candidate';
  id: number;
  /** streamId (publisher PC) or subscriberId (subscriber PC). */
  target: string;
  candidate: string;
  mid: string;
}

export interface StreamUpdateRequest {
  v: 1;
  type: 'streamUpdate';
  id: number;
  streamId: string;
  hasAudio?: boolean;
  hasVideo?: boolean;
  videoDimensions?: { width: number; height: number };
}

export interface ForceUnpublishRequest {
  v: 1;
  type: 'forceUnpublish';
  id: number;
  streamId: string;
}
export interface ForceMuteStreamRequest {
  v: 1;
  type: 'forceMuteStream';
  id: number;
  streamId: string;
}
export interface ForceMuteAllRequest {
  v: 1;
  type: 'forceMuteAll';
  id: number;
  excludedStreamIds: string[];
}
export interface DisableForceMuteRequest {
  v: 1;
  type: 'disableForceMute';
  id: number;
}

// Server -> client events (sequenced)
export interface StreamCreatedEvent {
  v: 1;
  q: number;
  type: 'streamCreated';
  stream: StreamInfo;
}
export interface StreamDestroyedEvent {
  v: 1;
  q: number;
  type: 'streamDestroyed';
  streamId: string;
  reason: StreamDestroyedReason;
}
export interface StreamPropertyChangedEvent {
  v: 1;
  q: number;
  type: 'streamPropertyChanged';
  streamId: string;
  changedProperty: StreamProperty;
  oldValue: unknown;
  newValue: unknown;
}
/** To the publisher of a force-muted stream, and (with `active`) to everyone on forceMuteAll/disableForceMute. */
export interface MuteForcedEvent {
  v: 1;
  q: number;
  type: 'muteForced';
  /** Set on session-wide events. */
  active?: boolean;
  /** Set when one stream was muted. */
  streamId?: string;
}
/** Server-side trickle candidate for a publisher or subscriber peer connection. */
export interface ServerCandidateEvent {
  v: 1;
  q: number;
  type: 'candidate';
  target: string;
  candidate: string;
  mid: string;
}
