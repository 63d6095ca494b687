import type { StreamInfo, StreamProperty, VideoType } from '@convene/protocol';
import type { Connection } from './Connection.js';

/** SDK-internal: apply a property change received from the server. */
export const kSet = Symbol('set');

/**
 * A published audio/video stream (the reference's Stream): what `streamCreated`
 * announces and `session.subscribe()` takes. The Session owns its state and
 * updates it on `streamPropertyChanged` before dispatching the event.
 */
export class Stream {
  /** Unique id of the stream. */
  readonly streamId: string;
  /** The Connection that publishes the stream. */
  readonly connection: Connection;
  /** Publisher-chosen name ('' if none). */
  readonly name: string;
  /** ms since epoch, when the stream was created on the server. */
  readonly creationTime: number;
  /** Maximum frame rate of the video (null for audio-only streams). */
  readonly frameRate: number | null;
  #hasAudio: boolean;
  #hasVideo: boolean;
  #videoType: VideoType | null;
  #videoDimensions: { width: number; height: number } | null;

  /** SDK-internal: the Session creates Stream objects. */
  constructor(info: StreamInfo, connection: Connection) {
    this.streamId = info.streamId;
    this.connection = connection;
    this.name = info.name;
    this.creationTime = info.creationTime;
    this.frameRate = info.frameRate;
    this.#hasAudio = info.hasAudio;
    this.#hasVideo = info.hasVideo;
    this.#videoType = info.videoType;
    this.#videoDimensions = info.videoDimensions ? { ...info.videoDimensions } : null;
  }

  /** Same as `streamId` (OpenTok.js exposes both). */
  get id(): string {
    return this.streamId;
  }
  /** Whether the publisher is sending audio. */
  get hasAudio(): boolean {
    return this.#hasAudio;
  }
  /** Whether the publisher is sending video. */
  get hasVideo(): boolean {
    return this.#hasVideo;
  }
  /** `camera`, `screen` or `custom`; null for audio-only streams. */
  get videoType(): VideoType | null {
    return this.#videoType;
  }
  /** Width and height of the video, as the publisher last reported them. */
  get videoDimensions(): { width: number; height: number } | null {
    return this.#videoDimensions ? { ...this.#videoDimensions } : null;
  }

  /** SDK-internal: set one property; returns the old value. */
  [kSet](property: StreamProperty, value: unknown): unknown {
    switch (property) {
      case 'hasAudio': {
        const old = this.#hasAudio;
        this.#hasAudio = value === true;
        return old;
      }
      case 'hasVideo': {
        const old = this.#hasVideo;
        this.#hasVideo = value === true;
        return old;
      }
      case 'videoType': {
        const old = this.#videoType;
        this.#videoType = (value as VideoType | null) ?? null;
        return old;
      }
      case 'videoDimensions': {
        const old = this.videoDimensions;
        const v = value as { width: number; height: number } | null;
        this.#videoDimensions = v ? { width: v.width, height: v.height } : null;
        return old;
      }
    }
  }

  /** Plain-object form for logs and JSON. */
  toJSON(): StreamInfo {
    return {
      streamId: this.streamId,
      connectionId: this.connection.connectionId,
      name: this.name,
      hasAudio: this.#hasAudio,
      hasVideo: this.#hasVideo,
      videoType: this.#videoType,
      videoDimensions: this.videoDimensions,
      frameRate: this.frameRate,
      creationTime: this.creationTime,
    };
  }
}
