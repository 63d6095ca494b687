/**
 * What the session domain needs from the media plane: one room per session, one publisher transport per
 * published stream and one subscriber transport per subscription. The service layer injects the
 * implementation (on sfu/ in production, see service/SfuMediaPlane.ts), so rtc/ never touches RTP.
 */

/** The media plane of the whole server. */
export interface MediaPlane {
  /**
   * Publishers may send simulcast layers (rid), which subscribers receive by their preferred resolution and
   * frame rate: only where the transport carries streams the SDP does not announce (the native one).
   */
  readonly simulcast: boolean;
  /** A room for one session's media; closed when the session ends. */
  createRoom(sessionId: string): MediaRoom;
}

/** Why a transport ended on its own (not by close()). */
export type MediaEndReason = 'failed' | 'closed';

/** One session's media. */
export interface MediaRoom {
  /**
   * Accept a publisher's SDP offer. `onEnded` is called once if the transport ends by itself (ICE/DTLS
   * failure, peer closed), never after close(). Rejects with TypeError on an offer it cannot use.
   */
  publish(offer: string, onEnded: (why: MediaEndReason) => void): Promise<MediaPublisher>;
  /**
   * Accept a subscriber's SDP offer (recvonly m-sections) for `publisher`'s tracks: the first audio and the
   * first video section receive its audio and video. Rejects with TypeError when no section fits.
   */
  subscribe(
    offer: string,
    publisher: MediaPublisher,
    options: SubscriberMediaOptions,
    onEnded: (why: MediaEndReason) => void,
  ): Promise<MediaSubscriber>;
  /**
   * Move a published stream to a new transport (the publisher's new peer connection, e.g. after
   * setIceConfig): answers `offer` at once; once the new transport is connected, every subscriber of
   * `current` is moved to it without a sequence gap, `current` is closed (no `onEnded` for it) and `events.moved`
   * is called. If the new transport fails, closes or does not connect within `timeoutMs` first, it is closed,
   * `current` stays, and `events.failed` is called. After the move, `events.ended` reports the new transport's end
   * as `onEnded` did for the old one. Rejects with TypeError on an offer it cannot use or whose tracks differ.
   */
  replacePublisher(
    offer: string,
    current: MediaPublisher,
    events: { moved(): void; failed(): void; ended(why: MediaEndReason): void },
    timeoutMs: number,
  ): Promise<MediaPublisher>;
  /** Close every transport of the room. Idempotent. */
  close(): void;
}

/** Initial state of a subscription's forwarding. */
export interface SubscriberMediaOptions {
  audio: boolean;
  video: boolean;
  /** connectionId of the subscriber and the stream, for test hooks and logs. */
  subscriberConnectionId: string;
  streamId: string;
  subscriberId: string;
  /** The subscriber's preferred resolution and frame rate (maxima; null: none). They pick a simulcast layer. */
  preferredResolution: { width: number; height: number } | null;
  preferredFrameRate: number | null;
}

/** A published stream's transport. */
export interface MediaPublisher {
  /** SDP answer for the publisher. */
  readonly answer: string;
  readonly hasAudioTrack: boolean;
  readonly hasVideoTrack: boolean;
  /** Forward the audio track to subscribers or not (force mute, publishAudio(false)). */
  setAudioForwarding(on: boolean): void;
  /** A candidate the client trickled. Throws TypeError on a malformed candidate. */
  addCandidate(candidate: string, mid: string): void;
  /** Close the transport (and every subscriber transport's consumers of it). Idempotent. */
  close(): void;
}

/** A subscription's transport. */
export interface MediaSubscriber {
  /** SDP answer for the subscriber. */
  readonly answer: string;
  /** mid receiving the audio / video, or null. */
  readonly audioMid: string | null;
  readonly videoMid: string | null;
  setAudio(on: boolean): void;
  setVideo(on: boolean): void;
  /** New preferred resolution and frame rate (both given, null: none): a simulcast stream switches layer. */
  setPreferredLayers(resolution: { width: number; height: number } | null, frameRate: number | null): void;
  addCandidate(candidate: string, mid: string): void;
  close(): void;
}
