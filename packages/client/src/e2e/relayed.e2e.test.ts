import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '@convene/server-sdk';
import { initSession, OT, type Session } from '../index.js';
import type { NodePublisher } from '../media/node/NodePublisher.js';
import type { NodeSubscriber } from '../media/node/NodeSubscriber.js';
import { API_KEY, API_SECRET, hasChromium, startE2E, type E2E } from './test-helpers/e2e.js';

/*
 * Relayed (peer-to-peer) sessions in real headless Chromium: the server relays signaling only, media
 * flows page to page (and between a page and a Node bot) without touching the SFU.
 */

let e2e: E2E;
const open: Page[] = [];
let n = 0;

beforeAll(async () => {
  if (!hasChromium) return;
  // A short media timeout so the unreachable-TURN case fails within the test's time.
  e2e = await startE2E();
}, 60_000);
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
});
afterAll(async () => {
  await e2e?.close();
});

async function relayed(): Promise<string> {
  const { sessionId } = await createSession({ serverUrl: e2e.url, apiKey: API_KEY, apiSecret: API_SECRET, mediaMode: 'relayed', name: `e2e-relayed-${++n}-${Date.now()}` });
  return sessionId;
}

async function joined(sid: string, sessionOptions: Record<string, unknown> = {}): Promise<Page> {
  const p = await e2e.page();
  open.push(p);
  const token = await e2e.token(sid);
  await p.evaluate(
    async ({ apiKey, sid, token, sessionOptions }) => {
      const w = window as any;
      w.session = w.OT.initSession(apiKey, sid, sessionOptions);
      await w.e2e.connect(w.session, token);
    },
    { apiKey: API_KEY, sid, token, sessionOptions },
  );
  return p;
}

async function publishCamera(p: Page): Promise<string> {
  return p.evaluate(async () => {
    const w = window as any;
    w.publisher = await w.e2e.publish(w.session, 'publisher', { name: 'p2p camera', width: 320, height: 240 });
    return w.publisher.stream.streamId as string;
  });
}

async function subscribeTo(p: Page, streamId: string): Promise<void> {
  await p.evaluate(async (streamId) => {
    const w = window as any;
    const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId), 10000, 'the stream');
    w.sub = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append' });
  }, streamId);
}

async function expectFlowing(p: Page, frames = 20, samples = 48_000): Promise<void> {
  await p.evaluate(
    async ({ frames, samples }) => {
      const w = window as any;
      const a = await w.e2e.inbound(w.sub);
      await w.e2e.waitFor(async () => {
        const s = await w.e2e.inbound(w.sub);
        return (s.video?.framesDecoded ?? 0) >= (a.video?.framesDecoded ?? 0) + frames && (s.audio?.totalSamplesReceived ?? 0) >= (a.audio?.totalSamplesReceived ?? 0) + samples;
      }, 15000, 'decoded frames and audio samples');
    },
    { frames, samples },
  );
}

async function forwarded(): Promise<number> {
  const text = await (await fetch(`${e2e.url}/metrics`)).text();
  return Number(/^convene_rtp_packets_forwarded_total (\d+)/m.exec(text)?.[1] ?? 0);
}

/** The selected candidate pair of `window.sub` as "ip:port" of each side. */
function subscriberPair(p: Page): Promise<{ local: string; remote: string; remoteType: string }> {
  return p.evaluate(async () => {
    const w = window as any;
    const [{ rtcStatsReport: r }] = await w.sub.getRtcStatsReport().then((x: any) => (Array.isArray(x) ? x : [{ rtcStatsReport: x }]));
    let pair: any;
    r.forEach((s: any) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = r.get(s.selectedCandidatePairId);
    });
    const local = r.get(pair.localCandidateId);
    const remote = r.get(pair.remoteCandidateId);
    return { local: `${local.address}:${local.port}`, remote: `${remote.address}:${remote.port}`, remoteType: remote.candidateType };
  });
}

describe.skipIf(!hasChromium)('relayed sessions in Chromium (peer to peer)', () => {
  it('page A publishes, page B subscribes: media flows page to page, the SFU forwards nothing, A reports one stats entry per subscriber', async () => {
    const sid = await relayed();
    const a = await joined(sid);
    const b = await joined(sid);
    const before = await forwarded();
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    await expectFlowing(b);
    const pair = await subscriberPair(b);
    expect(pair.remote.endsWith(`:${e2e.server.rtcPort}`)).toBe(false);
    const stats = await a.evaluate(async () => {
      const w = window as any;
      const s = await w.publisher.getStats();
      return s.map((e: any) => ({ connectionId: e.connectionId, subscriberId: typeof e.subscriberId, bytes: e.stats.video.bytesSent }));
    });
    const bId = await b.evaluate(() => (window as any).session.connection.connectionId);
    expect(stats).toEqual([{ connectionId: bId, subscriberId: 'string', bytes: expect.any(Number) }]);
    expect(stats[0].bytes).toBeGreaterThan(0);
    expect(await forwarded()).toBe(before);

    // publishVideo(false) and unpublish behave as in routed mode.
    const changed = b.evaluate(async () => {
      const w = window as any;
      const e = await w.e2e.nextEvent(w.session, 'streamPropertyChanged');
      return { property: e.changedProperty, newValue: e.newValue };
    });
    await a.evaluate(() => (window as any).publisher.publishVideo(false));
    expect(await changed).toEqual({ property: 'hasVideo', newValue: false });
    const destroyed = b.evaluate(async () => {
      const w = window as any;
      const e = await w.e2e.nextEvent(w.session, 'streamDestroyed');
      await w.e2e.waitFor(() => !document.querySelector('#subscribers video'), 5000, 'subscriber element removed');
      return e.reason;
    });
    await a.evaluate(() => (window as any).session.unpublish((window as any).publisher));
    expect(await destroyed).toBe('unpublished');
  });

  it('a Node bot and a Chromium page exchange media peer to peer both ways', async () => {
    const sid = await relayed();
    const bot: Session = initSession(API_KEY, sid, { serverUrl: e2e.url });
    try {
      await bot.connect(await e2e.token(sid));
      const publisher = OT.initPublisher(null, { name: 'bot', resolution: '640x480', peer: { bindAddress: '127.0.0.1' } }) as NodePublisher;
      await new Promise<void>((resolve, reject) => bot.publish(publisher, (err) => (err ? reject(err) : resolve())));
      const page = await joined(sid);
      await subscribeTo(page, publisher.stream!.streamId);
      await expectFlowing(page, 30, 48_000);

      const streamId = await publishCamera(page);
      const stream = await new Promise<{ streamId: string }>((resolve) => {
        const found = bot.streams.find((s) => s.streamId === streamId);
        if (found) resolve(found);
        else bot.on('streamCreated', (e) => e.stream.streamId === streamId && resolve(e.stream));
      });
      const sub = await new Promise<NodeSubscriber>((resolve, reject) => {
        const s = bot.subscribe(stream, undefined, { peer: { bindAddress: '127.0.0.1' } }, (err) => (err ? reject(err) : resolve(s as NodeSubscriber)));
      });
      const video = () => sub.getStats()?.inbound.find((t) => t.kind === 'video');
      const f0 = video()?.framesReceived ?? 0;
      const t0 = Date.now();
      while ((video()?.framesReceived ?? 0) < f0 + 20 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
      expect(video()!.framesReceived).toBeGreaterThanOrEqual(f0 + 20);
    } finally {
      await bot.disconnect();
    }
  });

  it('setIceConfig: invalid configs throw TypeErrors; relay-only through an unreachable TURN server fails the subscribe with a clear error instead of hanging', async () => {
    const sid = await relayed();
    const a = await joined(sid);
    const b = await joined(sid, { mediaConnectTimeoutMs: 4000 });
    const errors = await b.evaluate(() => {
      const s = (window as any).session;
      const bad = [
        null,
        'relay',
        { includeServers: 'some' },
        { transportPolicy: 'tcp' },
        { customServers: 'turn:x' },
        { customServers: [{ urls: 'http://turn.example.com' }] },
        { customServers: [{ urls: 'turn:turn.example.com' }] },
        { includeServers: 'custom', transportPolicy: 'relay', customServers: [] },
      ];
      return bad.map((c) => {
        try {
          s.setIceConfig(c);
          return 'accepted';
        } catch (e: any) {
          return `${e.name}: ${e.message}`;
        }
      });
    });
    expect(errors.every((e) => e.startsWith('TypeError: setIceConfig()'))).toBe(true);
    expect(errors[6]).toContain('username and credential');

    const streamId = await publishCamera(a);
    await b.evaluate(() =>
      (window as any).session.setIceConfig({
        includeServers: 'custom',
        transportPolicy: 'relay',
        // Nothing listens there: no relay candidate can ever be gathered.
        customServers: [{ urls: 'turn:127.0.0.1:9?transport=udp', username: 'u', credential: 'p' }],
      }),
    );
    const t0 = Date.now();
    const failure = await b.evaluate(async (streamId) => {
      const w = window as any;
      const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId), 10000, 'the stream');
      try {
        await w.e2e.subscribe(w.session, stream, 'subscribers', {});
        return 'subscribed';
      } catch (e: any) {
        return `${e.name}: ${e.message}`;
      }
    }, streamId);
    expect(failure).toMatch(/^OT_/);
    expect(failure).toMatch(/did not connect|failed/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // The publisher's side closed its peer connection for that subscriber (peerClosed after the unsubscribe).
    await a.evaluate(async () => {
      const w = window as any;
      await w.e2e.waitFor(async () => (await w.publisher.getStats()).length === 0, 5000, 'publisher relay closed');
    });
  });

  it('routed: setIceConfig moves a playing subscriber to a new connection; relay-only through an unreachable TURN server leaves it on the old one', async () => {
    const sid = `e2e-ice-${++n}-${Date.now()}`;
    const a = await joined(sid);
    const b = await joined(sid, { mediaConnectTimeoutMs: 4000 });
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    await expectFlowing(b, 10, 0);
    const pcId = () => b.evaluate(async () => ((await (window as any).sub.getRtcStatsReport()) as any)[0]?.rtcStatsReport ?? null).then(() => subscriberPair(b).then((p) => p.local));
    const local0 = await pcId();
    await b.evaluate(() => (window as any).session.setIceConfig({ includeServers: 'custom', customServers: [] }));
    await b.evaluate(async (local0) => {
      const w = window as any;
      await w.e2e.waitFor(async () => {
        const [{ rtcStatsReport: r }] = await w.sub.getRtcStatsReport().then((x: any) => (Array.isArray(x) ? x : [{ rtcStatsReport: x }]));
        let local = '';
        r.forEach((s: any) => {
          if (s.type === 'transport' && s.selectedCandidatePairId) {
            const c = r.get(r.get(s.selectedCandidatePairId).localCandidateId);
            local = `${c.address}:${c.port}`;
          }
        });
        return local !== '' && local !== local0;
      }, 10000, 'the subscriber on a new peer connection');
    }, local0);
    await expectFlowing(b, 10, 0);
    const local1 = await pcId();

    await b.evaluate(() =>
      (window as any).session.setIceConfig({
        includeServers: 'custom',
        transportPolicy: 'relay',
        customServers: [{ urls: 'turn:127.0.0.1:9?transport=udp', username: 'u', credential: 'p' }],
      }),
    );
    // The move cannot connect (no relay candidate): after the media timeout the subscriber still plays on its connection.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await pcId()).toBe(local1);
    await expectFlowing(b, 10, 0);
  });

  it('routed: setIceConfig on the publisher moves its stream to a new connection while the subscriber keeps decoding; an unusable config leaves it where it was', async () => {
    const sid = `e2e-ice-pub-${++n}-${Date.now()}`;
    const a = await joined(sid, { mediaConnectTimeoutMs: 4000 });
    const b = await joined(sid);
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    await expectFlowing(b, 10, 0);
    const pubLocal = () =>
      a.evaluate(async () => {
        const w = window as any;
        const out = await w.e2e.outbound(w.publisher);
        if (!out.pair) return '';
        const [{ rtcStatsReport: r }] = await w.publisher.getRtcStatsReport();
        const c = r.get(out.pair.localCandidateId);
        return `${c.address}:${c.port}`;
      });
    const local0 = await pubLocal();
    expect(local0).not.toBe('');
    await a.evaluate(() => (window as any).session.setIceConfig({ includeServers: 'custom', customServers: [] }));
    const t0 = Date.now();
    while (((await pubLocal()) === local0 || (await pubLocal()) === '') && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 200));
    const local1 = await pubLocal();
    expect(local1).not.toBe(local0);
    await expectFlowing(b, 15, 0);

    await a.evaluate(() =>
      (window as any).session.setIceConfig({
        includeServers: 'custom',
        transportPolicy: 'relay',
        customServers: [{ urls: 'turn:127.0.0.1:9?transport=udp', username: 'u', credential: 'p' }],
      }),
    );
    await new Promise((r) => setTimeout(r, 5000));
    expect(await pubLocal()).toBe(local1);
    await expectFlowing(b, 10, 0);
    expect(await a.evaluate(() => typeof (window as any).publisher.stream?.streamId)).toBe('string');
  });
});
