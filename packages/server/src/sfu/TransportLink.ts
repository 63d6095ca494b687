import type { PublishedMedia } from './sdp.js';

/**
 * One m-section's track as Producer and Consumer use it: received packets (decrypted RTP and RTCP), open/closed,
 * and sending (RTP toward a subscriber, RTCP toward either side). node-datachannel's `Track` has this shape,
 * and so does the native transport's {@link NativeLink} track.
 */
export interface MediaTrack {
  /** Every decrypted RTP or RTCP packet for this track. The buffer is only valid during the call. */
  onMessage(cb: (msg: Buffer) => void): void;
  /** SRTP is keyed: packets can flow. Called at once when the track is already open. */
  onOpen(cb: () => void): void;
  /** The track closed. */
  onClosed(cb: () => void): void;
  /** Sends one RTP or RTCP packet (copied before it returns). False when it could not be sent. */
  sendMessageBinary(buf: Buffer): boolean;
}

/** A track the SFU sends on (one subscriber m-section). */
export interface SendTrackSpec {
  mid: string;
  kind: 'audio' | 'video';
  payloadType: number;
  /** RTX payload type, or -1. */
  rtxPayloadType: number;
  ssrc: number;
  /** RTX SSRC, or 0. */
  rtxSsrc: number;
  cname: string;
  streamId: string;
  trackId: string;
}

/**
 * The ICE/DTLS/SRTP layer under one {@link WebRtcTransport}: answers the client's offers and carries the packets
 * of its tracks. Two implementations: {@link NativeLink} (our addon, the default) and {@link LdcLink}
 * (libdatachannel through node-datachannel, the fallback).
 */
export interface TransportLink {
  /**
   * Connection state: 'connecting', 'connected' (DTLS done and the peer's certificate matches its SDP: media may
   * flow), 'disconnected', 'failed', 'closed'.
   */
  onStateChange(cb: (state: string) => void): void;
  /** A received track for `mid` exists (may fire during or after {@link answer}). */
  onTrack(cb: (mid: string, track: MediaTrack) => void): void;
  /**
   * Applies the client's (munged) offer and resolves with our answer. `received` are the m-sections we receive on;
   * tracks we send on were added with {@link addSendTrack} before.
   */
  answer(offer: string, received: readonly PublishedMedia[]): Promise<string>;
  /** Adds a track we send on; it goes into the next answer. */
  addSendTrack(spec: SendTrackSpec): MediaTrack;
  /** A candidate the client trickled. */
  addRemoteCandidate(candidate: string, mid: string): void;
  /** Closes the link. Idempotent. */
  close(): void;
}
