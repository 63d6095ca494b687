import type { StreamInfo } from '@convene/protocol';
import type { MediaPublisher, MediaSubscriber } from './MediaPlane.js';
import type { Participant } from './Participant.js';

/**
 * A published stream: what everyone sees (`info`), who owns it and its media transport. Owned by its
 * Session (by id) and its Participant; its subscriptions end with it.
 */
export class Stream {
  readonly id: string;
  readonly owner: Participant;
  readonly info: StreamInfo;
  /** Its transport (replaced when the publisher moves to a new peer connection). */
  media: MediaPublisher;
  readonly subscriptions = new Set<Subscription>();
  /** A move to a new transport is under way (`publish { replaceStreamId }`). */
  moving = false;
  /** The current transport ended while a move was under way: the stream ends if the move fails. */
  endedWhileMoving = false;
  /** The SFU stopped forwarding audio (force mute or the publisher muted) until the publisher unmutes. */
  audioPaused = false;
  closed = false;

  constructor(owner: Participant, info: StreamInfo, media: MediaPublisher) {
    this.id = info.streamId;
    this.owner = owner;
    this.info = info;
    this.media = media;
  }
}

/** One connection's subscription to one stream. */
export class Subscription {
  readonly id: string;
  readonly owner: Participant;
  readonly stream: Stream;
  readonly media: MediaSubscriber;
  audio: boolean;
  video: boolean;
  preferredResolution: { width: number; height: number } | null;
  preferredFrameRate: number | null;
  closed = false;

  constructor(init: {
    id: string;
    owner: Participant;
    stream: Stream;
    media: MediaSubscriber;
    audio: boolean;
    video: boolean;
    preferredResolution: { width: number; height: number } | null;
    preferredFrameRate: number | null;
  }) {
    this.id = init.id;
    this.owner = init.owner;
    this.stream = init.stream;
    this.media = init.media;
    this.audio = init.audio;
    this.video = init.video;
    this.preferredResolution = init.preferredResolution;
    this.preferredFrameRate = init.preferredFrameRate;
  }
}
