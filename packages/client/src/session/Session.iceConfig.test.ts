import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodePublisher } from '../media/node/NodePublisher.js';
import type { NodeSubscriber } from '../media/node/NodeSubscriber.js';
import { nextEvent, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { OT, type Session, type StreamEvent } from '../index.js';

/*
 * session.setIceConfig() with Node bots through the SFU: it validates its argument, new peer connections
 * use it, and existing subscribers move to a new peer connection made with it (the old one closes only
 * once the new one is up). Relay-only through an unreachable TURN server is proven in Chromium
 * (e2e/relayed.e2e.test.ts): libdatachannel, under the Node adapter, announces only relay candidates with
 * 'relay' but still checks the direct paths the other side announces, so a Node bot cannot prove it.
 */

let h: Harness;
let n = 0;
const peer = { bindAddress: '127.0.0.1' };

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function pair(opts: object = {}): Promise<{ a: Session; b: Session; publisher: NodePublisher; sub: NodeSubscriber; stream: { streamId: string } }> {
  const sid = `ice-${++n}-${Date.now()}`;
  const a = await h.join(sid);
  const b = await h.join(sid, {}, opts);
  const created = nextEvent<StreamEvent>(b, 'streamCreated');
  const publisher = OT.initPublisher(null, { peer, resolution: '320x240', frameRate: 15 }) as NodePublisher;
  await new Promise<void>((resolve, reject) => a.publish(publisher, (err) => (err ? reject(err) : resolve())));
  const { stream } = await created;
  const sub = await new Promise<NodeSubscriber>((resolve, reject) => {
    const s = b.subscribe(stream, undefined, { peer }, (err) => (err ? reject(err) : resolve(s as NodeSubscriber)));
  });
  return { a, b, publisher, sub, stream };
}

const frames = (sub: NodeSubscriber) => sub.getStats()?.inbound.find((t) => t.kind === 'video')?.framesReceived ?? 0;
const localPort = (sub: NodeSubscriber) => sub.getStats()?.selectedCandidatePair?.local.split(' ')[5];

async function transports(): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  return Number(/^convene_media_transports (\d+)/m.exec(text)?.[1] ?? -1);
}

describe('session.setIceConfig()', () => {
  it('throws a TypeError naming the problem for invalid configurations, and changes nothing', async () => {
    const { b } = await pair();
    const cases: [unknown, string][] = [
      [undefined, 'pass an object'],
      [{ includeServers: 'mine' }, 'includeServers'],
      [{ transportPolicy: 'udp' }, 'transportPolicy'],
      [{ customServers: {} }, 'customServers must be an array'],
      [{ customServers: [null] }, 'customServers[0]'],
      [{ customServers: [{ urls: [] }] }, 'urls'],
      [{ customServers: [{ urls: 'turn:x.example', username: 'u' }] }, 'username and credential'],
      [{ customServers: [{ urls: 'stun:x.example', username: 7 }] }, 'username must be a string'],
      [{ includeServers: 'custom', transportPolicy: 'relay' }, 'needs at least one TURN server'],
    ];
    for (const [config, message] of cases) {
      expect(() => b.setIceConfig(config as never), JSON.stringify(config)).toThrow(TypeError);
      expect(() => b.setIceConfig(config as never)).toThrow(message);
    }
    // A valid one is accepted (on a session without subscribers: nothing to move).
    expect(() => h.session('ice-lone').setIceConfig({ customServers: [{ urls: ['stun:stun.example.com:3478'] }] })).not.toThrow();
  });

  it('moves an existing subscriber to a new peer connection made with the new configuration; media keeps flowing', async () => {
    const { b, sub } = await pair();
    await until(() => frames(sub) > 10, 5000, 'first frames');
    const port0 = localPort(sub);
    expect(await transports()).toBeGreaterThanOrEqual(2);
    const t0 = await transports();
    b.setIceConfig({ includeServers: 'custom', customServers: [] });
    await until(() => localPort(sub) !== undefined && localPort(sub) !== port0, 8000, 'a new peer connection');
    const f = frames(sub);
    await until(() => frames(sub) > f + 10, 5000, 'frames on the new connection');
    // The old subscription's SFU transport is gone: the count is back where it was.
    const deadline = Date.now() + 4000;
    while ((await transports()) !== t0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await transports()).toBe(t0);
  });

  it('an unreachable TURN server with transportPolicy all: new connections fall back to the direct path', async () => {
    const { b, stream } = await pair();
    b.setIceConfig({ customServers: [{ urls: 'turn:127.0.0.1:9?transport=udp', username: 'u', credential: 'p' }] });
    const t0 = Date.now();
    const sub2 = await new Promise<NodeSubscriber>((resolve, reject) => {
      const s = b.subscribe(stream, undefined, { peer }, (err) => (err ? reject(err) : resolve(s as NodeSubscriber)));
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const f = frames(sub2);
    await until(() => frames(sub2) > f + 10, 5000, 'frames on the direct path');
    expect(sub2.getStats()?.selectedCandidatePair?.local).not.toContain('typ relay');
  });

  it('moves a published stream to a new peer connection: the subscriber keeps receiving without a sequence gap, the old transport closes', async () => {
    const { a, publisher, sub } = await pair();
    await until(() => frames(sub) > 10, 5000, 'first frames');
    const pubPort = () => publisher.getStats()?.selectedCandidatePair?.local.split(' ')[5];
    const port0 = pubPort();
    const t0 = await transports();
    const lost0 = sub.getStats()!.inbound.find((t) => t.kind === 'video')!.packetsLost;
    a.setIceConfig({ includeServers: 'custom', customServers: [] });
    await until(() => pubPort() !== undefined && pubPort() !== port0, 8000, 'the publisher on a new peer connection');
    const f = frames(sub);
    await until(() => frames(sub) > f + 15, 5000, 'frames from the moved publisher');
    const video = sub.getStats()!.inbound.find((t) => t.kind === 'video')!;
    // The SFU continued the subscriber's sequence across the move: no jump counted as thousands of lost packets.
    expect(video.packetsLost - lost0).toBeLessThan(20);
    const deadline = Date.now() + 4000;
    while ((await transports()) !== t0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await transports()).toBe(t0);
    expect(publisher.stream).toBeDefined();
  });
});
