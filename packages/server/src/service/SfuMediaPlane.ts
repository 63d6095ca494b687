import type { Consumer, MediaWorker, Producer, Router, WebRtcTransport } from '../sfu/index.js';
import { InvalidStateError, mungePublisherOffer, mungeSubscriberOffer } from '../sfu/index.js';
import type {
  MediaEndReason,
  MediaPlane,
  MediaPublisher,
  MediaRoom,
  MediaSubscriber,
  SubscriberMediaOptions,
} from '../rtc/MediaPlane.js';
import type { Logger } from '../util/log.js';

/** Who a subscription is, for test hooks. */
export interface SubscriberRef {
  sessionId: string;
  streamId: string;
  subscriberId: string;
  /** connectionId of the subscriber. */
  connectionId: string;
}

/** Test-only hooks of the media plane (startServer's `testHooks`). Never set in production. */
export interface MediaTestHooks {
  /**
   * Called once per new subscription: the share (0–1) of first video transmissions the SFU drops toward
   * that subscriber (retransmissions are never dropped), to exercise NACK/RTX without netem. 0 = none.
   */
  dropToSubscriber?: (s: SubscriberRef) => number;
}

/**
 * The rtc layer's MediaPlane on our SFU: one sfu Router per session, one WebRtcTransport per publisher
 * and per subscriber (the client offers both ways).
 */
export class SfuMediaPlane implements MediaPlane {
  readonly #worker: MediaWorker;
  readonly #log: Logger;
  readonly #hooks: MediaTestHooks;
  readonly #routers = new Set<Router>();

  constructor(worker: MediaWorker, log: Logger, hooks: MediaTestHooks = {}) {
    this.#worker = worker;
    this.#log = log;
    this.#hooks = hooks;
  }

  /** Simulcast needs a transport that routes the SSRCs browsers do not announce for layers: the native one. */
  get simulcast(): boolean {
    return this.#worker.transport === 'native';
  }

  /** Open rooms (sfu Routers). */
  get roomCount(): number {
    return this.#routers.size;
  }

  /** Open WebRTC transports (peer connections) in every room. */
  get transportCount(): number {
    let n = 0;
    for (const r of this.#routers) n += r.transports.size;
    return n;
  }

  createRoom(sessionId: string): MediaRoom {
    const router = this.#worker.createRouter();
    this.#routers.add(router);
    router.once('close', () => this.#routers.delete(router));
    return new SfuRoom(sessionId, router, this.#log, this.#hooks, this.simulcast);
  }
}

/** Calls `onEnded` once when the transport closes by itself (failed, or the peer closed), never after `close()`. */
function watch(t: WebRtcTransport, onEnded: (why: MediaEndReason) => void): { close(): void } {
  let ours = false;
  let failed = false;
  t.on('connectionstatechange', (s) => {
    if (s === 'failed') failed = true;
  });
  t.once('close', () => {
    if (!ours) onEnded(failed ? 'failed' : 'closed');
  });
  return {
    close(): void {
      ours = true;
      t.close();
    },
  };
}

class SfuRoom implements MediaRoom {
  readonly #sessionId: string;
  readonly #router: Router;
  readonly #log: Logger;
  readonly #hooks: MediaTestHooks;
  readonly #simulcast: boolean;

  constructor(sessionId: string, router: Router, log: Logger, hooks: MediaTestHooks, simulcast: boolean) {
    this.#sessionId = sessionId;
    this.#router = router;
    this.#log = log;
    this.#hooks = hooks;
    this.#simulcast = simulcast;
  }

  async publish(offer: string, onEnded: (why: MediaEndReason) => void): Promise<MediaPublisher> {
    if (!mungePublisherOffer(offer, { simulcast: this.#simulcast }).media.some((m) => m.ssrc !== 0 || (m.rids?.length ?? 0) > 0))
      throw new TypeError('the offer has no sendonly audio (Opus) or video (VP8) m-section with a=ssrc (or simulcast rids)');
    const t = this.#router.createWebRtcTransport();
    const handle = watch(t, onEnded);
    try {
      const { answer, producers } = await t.publish(offer, { simulcast: this.#simulcast });
      return new SfuPublisher(t, handle, answer, producers);
    } catch (err) {
      handle.close();
      throw refused(err);
    }
  }

  async replacePublisher(
    offer: string,
    current: MediaPublisher,
    events: { moved(): void; failed(): void; ended(why: MediaEndReason): void },
    timeoutMs: number,
  ): Promise<MediaPublisher> {
    if (!(current instanceof SfuPublisher)) throw new TypeError('publisher of another media plane');
    let moved = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let next: SfuPublisher | undefined;
    const fail = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      next?.close();
      events.failed();
    };
    const t = this.#router.createWebRtcTransport();
    const handle = watch(t, (why) => {
      if (moved) events.ended(why);
      else fail();
    });
    try {
      const { answer, producers } = await t.publish(offer, { simulcast: this.#simulcast });
      next = new SfuPublisher(t, handle, answer, producers);
    } catch (err) {
      handle.close();
      throw refused(err);
    }
    if (next.hasAudioTrack !== current.hasAudioTrack || next.hasVideoTrack !== current.hasVideoTrack) {
      next.close();
      throw new TypeError('the new offer must carry the same tracks (audio/video) as the stream');
    }
    const n = next;
    timer = setTimeout(fail, timeoutMs);
    t.on('connectionstatechange', (state) => {
      if (state !== 'connected' || settled || current.closed) return;
      settled = true;
      moved = true;
      clearTimeout(timer);
      for (const [from, to] of [[current.audio, n.audio], [current.video, n.video]] as const) {
        if (from && to) for (const c of from.consumerList()) if (!c.closed) c.moveTo(to);
      }
      current.close();
      this.#log.debug({ sessionId: this.#sessionId }, 'publisher moved to a new transport');
      events.moved();
    });
    return n;
  }

  async subscribe(
    offer: string,
    publisher: MediaPublisher,
    options: SubscriberMediaOptions,
    onEnded: (why: MediaEndReason) => void,
  ): Promise<MediaSubscriber> {
    if (!(publisher instanceof SfuPublisher)) throw new TypeError('publisher of another media plane');
    const offered = mungeSubscriberOffer(offer).media;
    const audioSection = publisher.audio ? offered.find((m) => m.kind === 'audio') : undefined;
    const videoSection = publisher.video ? offered.find((m) => m.kind === 'video') : undefined;
    const requests: { mid: string; producer: Producer; streamId: string }[] = [];
    if (audioSection && publisher.audio) requests.push({ mid: audioSection.mid, producer: publisher.audio, streamId: options.streamId });
    if (videoSection && publisher.video) requests.push({ mid: videoSection.mid, producer: publisher.video, streamId: options.streamId });
    if (requests.length === 0) throw new TypeError('the offer has no recvonly audio (Opus) or video (VP8) m-section for a track of this stream');
    const t = this.#router.createWebRtcTransport();
    const handle = watch(t, onEnded);
    try {
      const { answer, consumers } = await t.subscribe(offer, requests);
      const audio = consumers.find((c) => c.kind === 'audio');
      const video = consumers.find((c) => c.kind === 'video');
      if (audio && !options.audio) audio.pause();
      if (video && !options.video) video.pause();
      if (video && (options.preferredResolution || options.preferredFrameRate !== null))
        video.setPreferredLayers({ resolution: options.preferredResolution, frameRate: options.preferredFrameRate });
      const drop = this.#hooks.dropToSubscriber?.({
        sessionId: this.#sessionId,
        streamId: options.streamId,
        subscriberId: options.subscriberId,
        connectionId: options.subscriberConnectionId,
      });
      if (video && drop !== undefined && drop > 0) {
        this.#log.warn({ subscriberId: options.subscriberId, drop }, 'test hook: dropping video packets toward this subscriber');
        video.setTestLoss(drop);
      }
      return new SfuSubscriber(t, handle, answer, audio, video);
    } catch (err) {
      handle.close();
      throw refused(err);
    }
  }

  close(): void {
    this.#router.close();
  }
}

class SfuPublisher implements MediaPublisher {
  readonly answer: string;
  readonly audio: Producer | undefined;
  readonly video: Producer | undefined;
  readonly #transport: WebRtcTransport;
  readonly #handle: { close(): void };
  #closed = false;

  constructor(t: WebRtcTransport, handle: { close(): void }, answer: string, producers: Producer[]) {
    this.#transport = t;
    this.#handle = handle;
    this.answer = answer;
    this.audio = producers.find((p) => p.kind === 'audio');
    this.video = producers.find((p) => p.kind === 'video');
  }

  get hasAudioTrack(): boolean {
    return this.audio !== undefined;
  }

  get hasVideoTrack(): boolean {
    return this.video !== undefined;
  }

  setAudioForwarding(on: boolean): void {
    const a = this.audio;
    if (!a || a.closed) return;
    if (on) a.resume();
    else a.pause();
  }

  addCandidate(candidate: string, mid: string): void {
    addCandidate(this.#transport, candidate, mid);
  }

  get closed(): boolean {
    return this.#closed || this.#transport.closed;
  }

  close(): void {
    this.#closed = true;
    this.#handle.close();
  }
}

class SfuSubscriber implements MediaSubscriber {
  readonly answer: string;
  readonly audioMid: string | null;
  readonly videoMid: string | null;
  readonly #transport: WebRtcTransport;
  readonly #handle: { close(): void };
  readonly #audio: Consumer | undefined;
  readonly #video: Consumer | undefined;

  constructor(t: WebRtcTransport, handle: { close(): void }, answer: string, audio: Consumer | undefined, video: Consumer | undefined) {
    this.#transport = t;
    this.#handle = handle;
    this.answer = answer;
    this.#audio = audio;
    this.#video = video;
    this.audioMid = audio?.mid ?? null;
    this.videoMid = video?.mid ?? null;
  }

  setAudio(on: boolean): void {
    toggle(this.#audio, on);
  }

  setVideo(on: boolean): void {
    toggle(this.#video, on);
  }

  setPreferredLayers(resolution: { width: number; height: number } | null, frameRate: number | null): void {
    const v = this.#video;
    if (v && !v.closed) v.setPreferredLayers({ resolution, frameRate });
  }

  addCandidate(candidate: string, mid: string): void {
    addCandidate(this.#transport, candidate, mid);
  }

  close(): void {
    this.#handle.close();
  }
}

/** libdatachannel throws plain Errors on SDP it cannot parse: the offer's fault, reported as TypeError. */
function refused(err: unknown): unknown {
  if (err instanceof TypeError || err instanceof InvalidStateError || !(err instanceof Error)) return err;
  return new TypeError(`the offer was refused: ${err.message}`, { cause: err });
}

function toggle(c: Consumer | undefined, on: boolean): void {
  if (!c || c.closed) return;
  if (on) c.resume();
  else c.pause();
}

function addCandidate(t: WebRtcTransport, candidate: string, mid: string): void {
  if (t.closed) return;
  const line = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
  if (!line.startsWith('candidate:')) throw new TypeError('a candidate must start with "candidate:"');
  try {
    t.addRemoteCandidate(line, mid);
  } catch (err) {
    throw new TypeError(`invalid ICE candidate: ${err instanceof Error ? err.message : String(err)}`);
  }
}
