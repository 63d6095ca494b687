/** Event maps of the media-plane objects (payload tuples by event name). */

/** Events of a Router. */
export type RouterEvents = {
  /** The router closed (directly or because its worker closed). */
  close: [];
};

/** Events of a WebRtcTransport. */
export type WebRtcTransportEvents = {
  /** The peer connection's state changed ('connecting', 'connected', 'disconnected', 'failed', 'closed'). */
  connectionstatechange: [state: string];
  /** The transport closed. */
  close: [];
};

/** Events of a Producer. */
export type ProducerEvents = {
  /** The publisher's track is open (DTLS done): media can flow. */
  open: [];
  /** The producer closed because its transport closed. */
  transportclose: [];
  /** The producer closed. */
  close: [];
};

/** Events of a Consumer. */
export type ConsumerEvents = {
  /** The subscriber's track is open (DTLS done). */
  open: [];
  /** The consumer closed because its producer closed. */
  producerclose: [];
  /** The consumer closed because its transport closed. */
  transportclose: [];
  /** The consumer closed. */
  close: [];
};
