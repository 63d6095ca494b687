import {
  AuthenticationError,
  initPublisher,
  initSession,
  type ConveneError,
  type NodePublisher,
  type NodeSubscriber,
  type Session,
  type SessionDisconnectEvent,
  type StreamEvent,
} from '@convene/client';
import type { BotErrorKind, BotPlan, MediaSettings, ReceivedTrack, SentTrack } from '../types.js';
import { Bot, BotFailure, sentTracks } from './Bot.js';

/** Options of a {@link ConveneBot}. */
export interface ConveneBotOptions {
  url: string;
  media: MediaSettings;
  joinTimeoutMs: number;
  bindAddress: string | undefined;
  tracksExpected: number;
}

/**
 * A bot on the Convene client SDK in Node: a publisher publishes one stream of synthetic VP8
 * and/or Opus; a subscriber subscribes to every stream of its session as it appears.
 */
export class ConveneBot extends Bot {
  readonly #o: ConveneBotOptions;
  #session: Session | null = null;
  #publisher: NodePublisher | null = null;
  readonly #subscribers = new Map<string, NodeSubscriber>();
  #leaving = false;

  constructor(plan: BotPlan, options: ConveneBotOptions) {
    super(plan, plan.role === 'subscriber' ? options.tracksExpected : 0);
    this.#o = options;
  }

  protected async doJoin(): Promise<void> {
    const plan = this.plan;
    const session = initSession('', plan.session, {
      serverUrl: this.#o.url,
      connectTimeoutMs: Math.min(this.#o.joinTimeoutMs, 15_000),
      mediaConnectTimeoutMs: Math.min(this.#o.joinTimeoutMs, 20_000),
    });
    this.#session = session;
    session.on('sessionReconnecting', () => {
      if (this.#leaving) return;
      this.connected = false;
      this.error('disconnected', 'signaling connection lost (the SDK is reconnecting)');
    });
    session.on('sessionReconnected', () => {
      if (!this.#leaving) this.connected = true;
    });
    session.on('sessionDisconnected', (e: SessionDisconnectEvent) => {
      if (this.#leaving) return;
      this.connected = false;
      this.error('disconnected', `disconnected by the server (${e.reason})`);
    });
    if (plan.role === 'subscriber') session.on('streamCreated', (e: StreamEvent) => this.#subscribe(e.stream));
    try {
      await session.connect(plan.token ?? '');
    } catch (err) {
      throw this.fail(err instanceof AuthenticationError ? 'auth' : 'connect', err);
    }
    this.connected = true;
    if (plan.role !== 'publisher') return;
    const m = this.#o.media;
    const publisher = initPublisher(null, {
      name: plan.id,
      videoSource: plan.video ? 'synthetic' : null,
      audioSource: plan.audio ? 'synthetic' : null,
      resolution: `${m.width}x${m.height}`,
      frameRate: m.fps,
      videoBitrate: m.videoBitrate,
      keyframeIntervalMs: m.keyframeIntervalMs,
      peer: this.#o.bindAddress ? { bindAddress: this.#o.bindAddress } : {},
    }) as NodePublisher;
    this.#publisher = publisher;
    publisher.on('streamDestroyed', (e: StreamEvent) => {
      if (this.#leaving) return;
      this.connected = false;
      this.error('media', `the published stream ended (${e.reason ?? 'unknown reason'})`);
    });
    await new Promise<void>((resolve, reject) => {
      session.publish(publisher, (err?: Error) => (err ? reject(this.fail('publish', err)) : resolve()));
    });
  }

  #subscribe(stream: StreamEvent['stream']): void {
    const session = this.#session;
    if (!session || this.#leaving || this.#subscribers.has(stream.streamId)) return;
    const t0 = performance.now();
    const sub = session.subscribe(stream, undefined, { peer: this.#o.bindAddress ? { bindAddress: this.#o.bindAddress } : {} }, (err?: Error) => {
      if (err) {
        if (!this.#leaving) this.error('subscribe', `subscribe to ${stream.streamId}: ${err.message}`);
        return;
      }
    }) as NodeSubscriber;
    this.#subscribers.set(stream.streamId, sub);
    sub.once('loaded', () => this.subscribeMs.push(performance.now() - t0));
    sub.on('disconnected', () => {
      if (!this.#leaving) this.error('media', `media of ${stream.streamId} disconnected`);
    });
  }

  protected doPause(): void {
    const s = this.#publisher?.sources;
    s?.video?.stop();
    s?.audio?.stop();
  }

  protected doResume(): void {
    const s = this.#publisher?.sources;
    s?.video?.start();
    s?.audio?.start();
  }

  protected sent(): SentTrack[] {
    const p = this.#publisher;
    return sentTracks(p?.stream?.streamId ?? '', p?.sources?.video, p?.sources?.audio);
  }

  protected received(): ReceivedTrack[] {
    const out: ReceivedTrack[] = [];
    for (const [streamId, sub] of this.#subscribers) {
      const stats = sub.getStats();
      if (!stats) continue;
      for (const t of stats.inbound) {
        if (t.ssrc === null && !sub.stream[t.kind === 'video' ? 'hasVideo' : 'hasAudio']) continue;
        out.push({
          kind: t.kind,
          streamId,
          packetsReceived: t.packetsReceived,
          bytesReceived: t.bytesReceived,
          packetsLost: t.packetsLost,
          packetsDuplicated: t.packetsDuplicated,
          framesReceived: t.framesReceived,
          keyframesReceived: t.keyframesReceived,
          latencyP50Ms: t.latencyP50Ms,
          latencyP99Ms: t.latencyP99Ms,
          jitterMs: t.jitterMs,
          nacksSent: t.nacksSent,
        });
      }
    }
    return out;
  }

  protected async doClose(): Promise<void> {
    this.#leaving = true;
    const s = this.#session;
    if (s && s.connectionState !== 'disconnected') {
      await Promise.race([s.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 3000).unref())]);
    }
    this.#publisher?.destroy();
  }

  /** Record and return a bot error of `kind` for `err`. */
  private fail(kind: BotErrorKind, err: unknown): Error {
    const e = err as Partial<ConveneError> & Error;
    const message = `${e.name && e.name !== 'Error' ? e.name + ': ' : ''}${e.message ?? String(err)}`;
    this.error(kind, message);
    return new BotFailure(kind, message);
  }

}

