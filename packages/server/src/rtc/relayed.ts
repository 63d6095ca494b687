import type { MediaPublisher, MediaSubscriber } from './MediaPlane.js';

/*
 * Relayed (peer-to-peer) media: the Session relays descriptions and candidates between a stream's publisher
 * and each subscriber (protocol: "Relayed mode" in @convene/protocol media.ts); no media plane is involved.
 * These stand in for the media plane's transports so streams and subscriptions keep one shape in both modes.
 */

/** A relayed stream: the publisher's client holds one peer connection per subscriber. */
export class RelayedPublisher implements MediaPublisher {
  readonly answer = '';
  readonly hasAudioTrack: boolean;
  readonly hasVideoTrack: boolean;

  constructor(tracks: { audio: boolean; video: boolean }) {
    this.hasAudioTrack = tracks.audio;
    this.hasVideoTrack = tracks.video;
  }

  /** Nothing passes through the server: a force mute is carried out by the publisher's client (muteForced). */
  setAudioForwarding(): void {}

  addCandidate(): void {
    throw new TypeError('relayed session: send candidates to the other peer with peerSignal');
  }

  close(): void {}
}

/** What a relayed subscription tells its stream's publisher. */
export interface RelayedSubscriberLinks {
  /** The subscriber now wants (or no longer wants) a kind: tell the publisher (`peerUpdate`). */
  update(change: { subscribeToAudio?: boolean; subscribeToVideo?: boolean }): void;
  /** The subscription ended: tell the publisher (`peerClosed`). */
  closed(): void;
}

/** A relayed subscription: its peer connection runs between the two clients. */
export class RelayedSubscriber implements MediaSubscriber {
  readonly answer = '';
  readonly audioMid = null;
  readonly videoMid = null;
  readonly #links: RelayedSubscriberLinks;
  #closed = false;

  constructor(links: RelayedSubscriberLinks) {
    this.#links = links;
  }

  setAudio(on: boolean): void {
    if (!this.#closed) this.#links.update({ subscribeToAudio: on });
  }

  setVideo(on: boolean): void {
    if (!this.#closed) this.#links.update({ subscribeToVideo: on });
  }

  /** Peer to peer the publisher sends one encoding: preferred layers have no effect (as in the reference). */
  setPreferredLayers(): void {}

  addCandidate(): void {
    throw new TypeError('relayed session: send candidates to the other peer with peerSignal');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#links.closed();
  }
}
