import { afterEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from '../service/startServer.js';
import { cleanup, join, startTestServer, type Frame, type TestClient } from '../test-helpers/wsClient.js';

describe('connection events in large sessions', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  async function member(): Promise<TestClient> {
    const { c } = await join(server, 'big');
    clients.push(c);
    return c;
  }

  it('sends connectionCreated immediately below the threshold', async () => {
    server = await startTestServer({ coalesceConnectionEventsAt: 10, coalesceIntervalMs: 60_000 });
    const a = await member();
    const b = await member();
    expect((await a.next('connectionCreated', 2000)).connections).toMatchObject([{ connectionId: b.connectionId }]);
  });

  it('coalesces joins into one connectionCreated per interval at or above the threshold; each newcomer gets only later ones', async () => {
    server = await startTestServer({ coalesceConnectionEventsAt: 3, coalesceIntervalMs: 400 });
    const a = await member();
    const b = await member();
    await a.next('connectionCreated');
    const c = await member();
    const d = await member();
    const e = await member();
    const ids = (f: Frame): string[] => (f.connections as { connectionId: string }[]).map((x) => x.connectionId);
    expect(ids(await a.next('connectionCreated'))).toEqual([c.connectionId, d.connectionId, e.connectionId]);
    expect(ids(await b.next('connectionCreated'))).toEqual([c.connectionId, d.connectionId, e.connectionId]);
    expect(ids(await c.next('connectionCreated'))).toEqual([d.connectionId, e.connectionId]);
    expect(ids(await d.next('connectionCreated'))).toEqual([e.connectionId]);
    await e.expectNone('connectionCreated');
    await a.expectNone('connectionCreated');
  });

  it('coalesces leaves into one connectionDestroyed', async () => {
    server = await startTestServer({ coalesceConnectionEventsAt: 3, coalesceIntervalMs: 300 });
    const a = await member();
    const b = await member();
    const c = await member();
    const d = await member();
    await a.roundTrip();
    await new Promise((r) => setTimeout(r, 400));
    await c.request('leave');
    await d.request('leave');
    const f = await a.next('connectionDestroyed');
    expect(f.connections).toEqual([
      { connectionId: c.connectionId, reason: 'clientDisconnected' },
      { connectionId: d.connectionId, reason: 'clientDisconnected' },
    ]);
    expect((await b.next('connectionDestroyed')).connections).toHaveLength(2);
  });

  it('flushes pending connection events before any other event, so a newcomer is announced before its signal', async () => {
    server = await startTestServer({ coalesceConnectionEventsAt: 2, coalesceIntervalMs: 60_000 });
    const a = await member();
    const b = await member();
    await b.request('signal', { data: 'hi' });
    const sig = await a.next('signal');
    const created = a.inbox.find((f) => f.type === 'connectionCreated');
    expect(created?.connections).toMatchObject([{ connectionId: b.connectionId }]);
    expect(created?.q).toBeLessThan(sig.q as number);
  });
});
