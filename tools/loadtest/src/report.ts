import { lossPct, percentile, round } from './stats.js';
import type { BotError, BotSnapshot, ReceivedTrack, SentTrack } from './types.js';

/** One track a publisher sent during the measurement window. */
export interface PublisherTrackReport {
  kind: 'audio' | 'video';
  packets: number;
  /** bit/s over the window (RTP bytes, headers included, retransmissions included). */
  bitrate: number;
  retransmitted: number;
  nacksReceived: number;
  plisReceived: number;
  keyframes: number;
}

/** One publisher. */
export interface PublisherReport {
  id: string;
  session: string;
  streamId: string;
  joinMs: number | null;
  tracks: PublisherTrackReport[];
  errors: BotError[];
}

/** One track a subscriber received during the measurement window. */
export interface SubscriberTrackReport {
  streamId: string;
  kind: 'audio' | 'video';
  /** First transmissions the publisher sent in the window (null when the publisher is unknown). */
  packetsSent: number | null;
  packets: number;
  lost: number;
  lossPct: number;
  /** bit/s over the window. */
  bitrate: number;
  /** End to end (publisher's clock to subscriber's), from the abs-capture-time extension, over the whole run. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  frames: number;
  keyframes: number;
  duplicates: number;
}

/** One subscriber. */
export interface SubscriberReport {
  id: string;
  session: string;
  joinMs: number | null;
  tracksExpected: number;
  tracksReceived: number;
  tracks: SubscriberTrackReport[];
  errors: BotError[];
}

/** What `convene loadtest` prints and `--json` writes. */
export interface LoadTestReport {
  /** ISO time the run started. */
  startedAt: string;
  target: string;
  config: Record<string, unknown>;
  /** Length of the measurement window, s (counters are differences over it). */
  windowSeconds: number;
  bots: { planned: number; joined: number; failed: number; disconnected: number };
  /** Connect to joined (publishers: to published with media connected), ms. */
  join: { p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  /** Stream announced to first key frame (first audio packet for audio-only streams), ms. */
  firstFrame: { p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  tracks: { expected: number; received: number };
  totals: {
    packetsSent: number;
    packetsReceived: number;
    packetsLost: number;
    lossPct: number;
    /** Sum over subscribers, bit/s. */
    receiveBitrate: number;
    /** Median of the subscribers' per-track p50 and the largest per-track p99. */
    latencyP50Ms: number | null;
    latencyP99Ms: number | null;
  };
  publishers: PublisherReport[];
  subscribers: SubscriberReport[];
  errors: (BotError & { bot: string })[];
}

const key = (streamId: string, kind: string): string => `${streamId}/${kind}`;

function delta<T extends object>(end: T, start: T | undefined, fields: (keyof T)[]): T {
  const out = { ...end };
  if (!start) return out;
  for (const f of fields) (out[f] as number) = (end[f] as number) - (start[f] as number);
  return out;
}

/**
 * Builds the report from two snapshots of every bot, taken with the publishers paused and the
 * network drained, so the window's counters match exactly: what a subscriber received plus what it
 * lost equals what its publisher sent.
 */
export function buildReport(input: {
  startedAt: Date;
  target: string;
  config: Record<string, unknown>;
  planned: number;
  start: BotSnapshot[];
  end: BotSnapshot[];
  windowSeconds: number;
}): LoadTestReport {
  const startById = new Map(input.start.map((b) => [b.id, b]));
  const w = Math.max(input.windowSeconds, 1e-3);
  const sentByTrack = new Map<string, SentTrack>();
  const publishers: PublisherReport[] = [];
  const subscribers: SubscriberReport[] = [];
  const sentFields: (keyof SentTrack)[] = ['packetsSent', 'bytesSent', 'packetsRetransmitted', 'nacksReceived', 'plisReceived', 'keyframesSent'];
  const rxFields: (keyof ReceivedTrack)[] = ['packetsReceived', 'bytesReceived', 'packetsLost', 'packetsDuplicated', 'framesReceived', 'keyframesReceived', 'nacksSent'];

  for (const b of input.end) {
    if (b.role !== 'publisher') continue;
    const s0 = startById.get(b.id);
    const tracks = b.sent.map((t) => {
      const d = delta(t, s0?.sent.find((x) => x.kind === t.kind && x.streamId === t.streamId), sentFields);
      sentByTrack.set(key(t.streamId, t.kind), d);
      return {
        kind: t.kind,
        packets: d.packetsSent,
        bitrate: Math.round((d.bytesSent * 8) / w),
        retransmitted: d.packetsRetransmitted,
        nacksReceived: d.nacksReceived,
        plisReceived: d.plisReceived,
        keyframes: d.keyframesSent,
      };
    });
    publishers.push({ id: b.id, session: b.session, streamId: b.sent[0]?.streamId ?? '', joinMs: round(b.joinMs), tracks, errors: b.errors });
  }

  let packetsReceived = 0;
  let packetsLost = 0;
  let receiveBitrate = 0;
  let tracksReceived = 0;
  let tracksExpected = 0;
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (const b of input.end) {
    if (b.role !== 'subscriber') continue;
    const s0 = startById.get(b.id);
    const tracks: SubscriberTrackReport[] = b.received.map((t) => {
      const d = delta(t, s0?.received.find((x) => x.kind === t.kind && x.streamId === t.streamId), rxFields);
      const sent = sentByTrack.get(key(t.streamId, t.kind));
      packetsReceived += d.packetsReceived;
      packetsLost += d.packetsLost;
      receiveBitrate += (d.bytesReceived * 8) / w;
      if (t.latencyP50Ms !== null) p50s.push(t.latencyP50Ms);
      if (t.latencyP99Ms !== null) p99s.push(t.latencyP99Ms);
      return {
        streamId: t.streamId,
        kind: t.kind,
        packetsSent: sent ? sent.packetsSent : null,
        packets: d.packetsReceived,
        lost: d.packetsLost,
        lossPct: round(lossPct(d.packetsReceived, d.packetsLost), 3) ?? 0,
        bitrate: Math.round((d.bytesReceived * 8) / w),
        latencyP50Ms: round(t.latencyP50Ms),
        latencyP99Ms: round(t.latencyP99Ms),
        frames: d.framesReceived,
        keyframes: d.keyframesReceived,
        duplicates: d.packetsDuplicated,
      };
    });
    const received = b.received.filter((t) => t.packetsReceived > 0).length;
    tracksReceived += received;
    tracksExpected += b.tracksExpected;
    subscribers.push({ id: b.id, session: b.session, joinMs: round(b.joinMs), tracksExpected: b.tracksExpected, tracksReceived: received, tracks, errors: b.errors });
  }

  const joins = input.end.flatMap((b) => (b.joinMs === null ? [] : [b.joinMs]));
  const firstFrames = input.end.flatMap((b) => b.subscribeMs);
  const errors = input.end.flatMap((b) => b.errors.map((e) => ({ bot: b.id, ...e }))).sort((a, b) => a.at - b.at);
  const packetsSent = [...sentByTrack.values()].reduce((a, t) => a + t.packetsSent, 0);
  return {
    startedAt: input.startedAt.toISOString(),
    target: input.target,
    config: input.config,
    windowSeconds: round(input.windowSeconds, 3) ?? 0,
    bots: {
      planned: input.planned,
      joined: input.end.filter((b) => b.joined).length,
      failed: input.planned - input.end.filter((b) => b.joined).length,
      disconnected: input.end.filter((b) => b.joined && !b.connected).length,
    },
    join: { p50Ms: round(percentile(joins, 50)), p99Ms: round(percentile(joins, 99)), maxMs: round(percentile(joins, 100)) },
    firstFrame: { p50Ms: round(percentile(firstFrames, 50)), p99Ms: round(percentile(firstFrames, 99)), maxMs: round(percentile(firstFrames, 100)) },
    tracks: { expected: tracksExpected, received: tracksReceived },
    totals: {
      packetsSent,
      packetsReceived,
      packetsLost,
      lossPct: round(lossPct(packetsReceived, packetsLost), 3) ?? 0,
      receiveBitrate: Math.round(receiveBitrate),
      latencyP50Ms: round(percentile(p50s, 50)),
      latencyP99Ms: round(percentile(p99s, 100)),
    },
    publishers,
    subscribers,
    errors,
  };
}
