// The Node side of the SDK's media layer: a peer connection on node-datachannel's native
// track API with synthetic, decodable VP8/Opus sources and receive-side counters. Node only
// (native addon): keep it out of the browser bundle and expose it from a Node entry point.

export {
  NodePeerConnection,
  RemoteTrack,
  type IceCandidate,
  type IceServerConfig,
  type NodePeerConnectionEvents,
  type NodePeerConnectionOptions,
  type NodePeerStats,
  type PeerState,
  type SessionDescription,
} from './NodePeerConnection.js';
export { SyntheticVideoSource, type SyntheticVideoOptions, type SyntheticSourceEvents } from './SyntheticVideoSource.js';
export { SyntheticAudioSource, type SyntheticAudioOptions, type SyntheticAudioEvents } from './SyntheticAudioSource.js';
export { InboundRtpCounter, type InboundRtpStats } from './InboundRtpCounter.js';
export { RtpStreamSender, type OutboundRtpStats, type PacketSink, type RtpStreamOptions } from './RtpStreamSender.js';
export { Vp8SyntheticEncoder, type Vp8Frame, type Vp8SyntheticEncoderOptions } from './Vp8SyntheticEncoder.js';
export { Vp8GopCache, type Vp8GopSettings } from './Vp8GopCache.js';
export { ABS_CAPTURE_TIME_URI, DEFAULT_ABS_CAPTURE_TIME_ID, decodeAbsCaptureTime, encodeAbsCaptureTime, wallClockMs } from './rtp.js';
export { OPUS_SILENCE_20MS } from './opus.js';
export { NodePublisher, type NodePublisherProperties, type NodePublisherEvents } from './NodePublisher.js';
export { NodeSubscriber, type NodeSubscriberProperties, type NodeSubscriberEvents } from './NodeSubscriber.js';
