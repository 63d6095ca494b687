import type { NodePeerConnection, PeerState, SyntheticAudioSource, SyntheticVideoSource } from '@convene/client/node';
import { JanusSession } from '../janus/JanusSession.js';
import type { BotPlan, MediaSettings, ReceivedTrack, SentTrack } from '../types.js';
import { Bot, BotFailure, sentTracks } from './Bot.js';

/** Options of a {@link JanusBot}. */
export interface JanusBotOptions {
  /** Janus HTTP API base, e.g. http://127.0.0.1:8088/janus. */
  url: string;
  room: number;
  media: MediaSettings;
  bindAddress: string | undefined;
  tracksExpected: number;
}

const withoutCandidates = (sdp: string): string =>
  sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');

/** Resolves when `pc` connects; rejects on failure or after `timeoutMs` (handled even if never awaited: a step before it may fail first). */
function whenConnected(pc: NodePeerConnection, timeoutMs: number): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  const p = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`media not connected after ${timeoutMs} ms (${pc.connectionState})`)), timeoutMs);
    const on = (s: PeerState): void => {
      if (s !== 'connected' && s !== 'failed' && s !== 'closed') return;
      clearTimeout(timer);
      pc.off('connectionstatechange', on);
      if (s === 'connected') resolve();
      else reject(new Error(`media ${s}`));
    };
    pc.on('connectionstatechange', on);
  });
  p.catch(() => {});
  return p;
}

/**
 * The same bot against Janus VideoRoom (for bench/vs-janus): a publisher joins the room and
 * publishes with its own offer; a subscriber joins with `streams: [{ feed }]` for every
 * publisher in the room, answers Janus's offer and starts. Same NodePeerConnection, same
 * synthetic media and counters as the Convene bot.
 */
export class JanusBot extends Bot {
  readonly #o: JanusBotOptions;
  readonly #janus: JanusSession;
  #pc: NodePeerConnection | null = null;
  #feed = '';
  #video: SyntheticVideoSource | null = null;
  #audio: SyntheticAudioSource | null = null;
  /** mid -> publisher feed id (subscriber). */
  readonly #feedByMid = new Map<string, string>();
  #leaving = false;

  constructor(plan: BotPlan, options: JanusBotOptions) {
    super(plan, plan.role === 'subscriber' ? options.tracksExpected : 0);
    this.#o = options;
    this.#janus = new JanusSession(options.url);
  }

  protected async doJoin(): Promise<void> {
    const { NodePeerConnection } = await import('@convene/client/node');
    const janus = this.#janus;
    try {
      await janus.attach('janus.plugin.videoroom');
    } catch (err) {
      const msg = `cannot reach Janus at ${this.#o.url}: ${(err as Error).message}`;
      this.error('connect', msg);
      throw new BotFailure('connect', msg);
    }
    janus.onHangup = (reason) => {
      if (this.#leaving) return;
      this.connected = false;
      this.error('disconnected', `Janus hung up (${reason})`);
    };
    const pc = new NodePeerConnection({ name: this.plan.id, bindAddress: this.#o.bindAddress });
    this.#pc = pc;
    pc.on('connectionstatechange', (s) => {
      if ((s === 'failed' || s === 'disconnected') && !this.#leaving && this.joined) {
        this.connected = false;
        this.error('media', `media ${s}`);
      }
    });
    janus.onTrickle = (c) => {
      if (c.candidate && c.sdpMid !== undefined) void pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid }).catch(() => {});
    };
    const room = this.#o.room;
    if (this.plan.role === 'publisher') {
      const m = this.#o.media;
      if (this.plan.audio) this.#audio = pc.addAudioSource();
      if (this.plan.video) this.#video = pc.addVideoSource({ width: m.width, height: m.height, fps: m.fps, bitrate: m.videoBitrate, keyframeIntervalMs: m.keyframeIntervalMs });
      const joined = await janus.message({ request: 'join', room, ptype: 'publisher', display: this.plan.id });
      this.#feed = String(joined.data.id);
      const offer = await pc.createOffer();
      // Without our candidates Janus learns our address from our checks (no early DTLS; see packages/server/src/sfu/README.md).
      const published = await janus.message({ request: 'publish', audio: this.plan.audio, video: this.plan.video, data: false }, { type: 'offer', sdp: withoutCandidates(offer.sdp) });
      if (!published.jsep) throw new Error('janus: publish answered without SDP');
      await janus.trickle({ completed: true }).catch(() => {});
      const connected = whenConnected(pc, 15_000);
      await pc.setRemoteDescription({ type: 'answer', sdp: published.jsep.sdp });
      await connected;
    } else {
      const list = await janus.request({ request: 'listparticipants', room });
      const feeds = ((list.participants as { id: number; publisher?: boolean }[] | undefined) ?? []).filter((p) => p.publisher).map((p) => p.id);
      if (feeds.length === 0) throw new Error('janus: no publisher in the room');
      const t0 = performance.now();
      const attached = await janus.message({ request: 'join', room, ptype: 'subscriber', streams: feeds.map((feed) => ({ feed })) });
      for (const s of (attached.data.streams as { mid: string; feed_id: number }[] | undefined) ?? []) this.#feedByMid.set(s.mid, String(s.feed_id));
      if (!attached.jsep) throw new Error('janus: subscriber join answered without an offer');
      const connected = whenConnected(pc, 15_000);
      await pc.setRemoteDescription({ type: 'offer', sdp: attached.jsep.sdp });
      const answer = await pc.createAnswer();
      await janus.message({ request: 'start' }, { type: 'answer', sdp: answer.sdp });
      await connected;
      this.#watchFirstFrame(t0);
    }
    janus.stopPolling();
    this.connected = true;
  }

  /** Records the time from the subscription request to the first key frame (checked every 20 ms, for 10 s at most). */
  #watchFirstFrame(t0: number): void {
    const timer = setInterval(() => {
      const video = this.#pc?.getStats().inbound.find((t) => t.kind === 'video');
      if (video && video.keyframesReceived > 0) {
        this.subscribeMs.push(performance.now() - t0);
        clearInterval(timer);
      } else if (performance.now() - t0 > 10_000 || this.#leaving) clearInterval(timer);
    }, 20);
    timer.unref();
  }

  protected doPause(): void {
    this.#video?.stop();
    this.#audio?.stop();
  }

  protected doResume(): void {
    this.#video?.start();
    this.#audio?.start();
  }

  protected sent(): SentTrack[] {
    return sentTracks(this.#feed, this.#video, this.#audio);
  }

  protected received(): ReceivedTrack[] {
    const stats = this.#pc?.getStats();
    if (!stats) return [];
    return stats.inbound.map((t) => ({
      kind: t.kind,
      streamId: this.#feedByMid.get(t.mid) ?? t.mid,
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
    }));
  }

  protected async doClose(): Promise<void> {
    this.#leaving = true;
    this.#pc?.close();
    await this.#janus.destroy();
  }
}
