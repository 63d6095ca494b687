/** The media plane: transports, producers, consumers and RTP/RTCP on raw packets. Knows nothing of sessions. */
export { MediaWorker, type MediaTransportKind, type MediaWorkerOptions } from './MediaWorker.js';
export { Router } from './Router.js';
export {
  WebRtcTransport,
  type PublishResult,
  type SubscribeRequest,
  type SubscribeResult,
  type TransportNetwork,
} from './WebRtcTransport.js';
export { Producer, type ProducerStats } from './Producer.js';
export { Consumer, type ConsumerStats } from './Consumer.js';
export { MediaCounters } from './counters.js';
export { InvalidStateError } from './errors.js';
export type { ConsumerEvents, ProducerEvents, RouterEvents, WebRtcTransportEvents } from './events.js';
export { mungePublisherOffer, mungeSubscriberOffer, RtpExtensionUri, type MediaKind, type PublishedMedia } from './sdp.js';
export { nativeLoadError } from './NativeMedia.js';
