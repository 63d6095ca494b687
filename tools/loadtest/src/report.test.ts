import { describe, expect, it } from 'vitest';
import { parseBitrate, verdict } from './cli.js';
import { buildReport } from './report.js';
import { percentile } from './stats.js';
import type { BotSnapshot, ReceivedTrack, SentTrack } from './types.js';

const sent = (kind: 'audio' | 'video', packetsSent: number, bytesSent: number): SentTrack => ({
  kind,
  streamId: 'st1',
  packetsSent,
  bytesSent,
  packetsRetransmitted: 0,
  nacksReceived: 0,
  plisReceived: 0,
  keyframesSent: 0,
});
const rx = (kind: 'audio' | 'video', packetsReceived: number, packetsLost: number, bytesReceived: number): ReceivedTrack => ({
  kind,
  streamId: 'st1',
  packetsReceived,
  bytesReceived,
  packetsLost,
  packetsDuplicated: 0,
  framesReceived: 0,
  keyframesReceived: 0,
  latencyP50Ms: 1,
  latencyP99Ms: 3,
  jitterMs: 0,
  nacksSent: 0,
});
const bot = (id: string, role: 'publisher' | 'subscriber', over: Partial<BotSnapshot>): BotSnapshot => ({
  id,
  role,
  session: 's',
  joined: true,
  joinMs: 10,
  subscribeMs: [],
  sent: [],
  received: [],
  tracksExpected: role === 'subscriber' ? 2 : 0,
  errors: [],
  connected: true,
  ...over,
});

describe('buildReport', () => {
  const start = [bot('p', 'publisher', { sent: [sent('video', 100, 100_000), sent('audio', 50, 5_000)] }), bot('s', 'subscriber', { received: [rx('video', 90, 0, 90_000), rx('audio', 50, 0, 5_000)] })];
  const end = [bot('p', 'publisher', { sent: [sent('video', 400, 400_000), sent('audio', 150, 15_000)] }), bot('s', 'subscriber', { received: [rx('video', 388, 2, 388_000), rx('audio', 150, 0, 15_000)] })];
  const r = buildReport({ startedAt: new Date(0), target: 't', config: {}, planned: 2, start, end, windowSeconds: 2 });

  it('counts only what happened between the two snapshots', () => {
    const v = r.subscribers[0]!.tracks.find((t) => t.kind === 'video')!;
    expect(v).toMatchObject({ packetsSent: 300, packets: 298, lost: 2 });
    expect(v.bitrate).toBe((298_000 * 8) / 2);
    expect(r.publishers[0]!.tracks.find((t) => t.kind === 'video')!.packets).toBe(300);
  });

  it('sums totals and loss over subscribers', () => {
    expect(r.totals).toMatchObject({ packetsSent: 400, packetsReceived: 398, packetsLost: 2 });
    expect(r.totals.lossPct).toBeCloseTo(0.5, 3);
    expect(r.tracks).toEqual({ expected: 2, received: 2 });
  });

  it('a bot that never joined counts as failed and fails the verdict', () => {
    const r2 = buildReport({ startedAt: new Date(0), target: 't', config: {}, planned: 3, start, end: [...end, bot('x', 'subscriber', { joined: false, joinMs: null })], windowSeconds: 2 });
    expect(r2.bots).toEqual({ planned: 3, joined: 2, failed: 1, disconnected: 0 });
    expect(verdict(r2)).toContain('1 of 3 bots failed to join');
    expect(verdict(r)).toEqual([]);
  });

  it('a bot that lost its connection counts as dropped by the server', () => {
    const r3 = buildReport({ startedAt: new Date(0), target: 't', config: {}, planned: 2, start, end: [end[0]!, { ...end[1]!, connected: false }], windowSeconds: 2 });
    expect(r3.bots.disconnected).toBe(1);
    expect(verdict(r3)).toContain('1 bots were dropped by the server during the run');
  });
});

describe('helpers', () => {
  it('parseBitrate accepts 600000, 600k and 1.2M', () => {
    expect(parseBitrate('600000')).toBe(600_000);
    expect(parseBitrate('600k')).toBe(600_000);
    expect(parseBitrate('1.2M')).toBe(1_200_000);
    expect(() => parseBitrate('fast')).toThrow(/--bitrate/);
  });

  it('percentile uses the nearest rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });
});
