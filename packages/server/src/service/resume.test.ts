import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, join, startTestServer, TestClient, type Frame } from '../test-helpers/wsClient.js';
import type { ConveneServer } from './startServer.js';

describe('sequencing, acks and resume', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  /** Cut a client's socket abruptly (no close frame) and wait until it is closed. */
  async function cut(c: TestClient): Promise<void> {
    c.ws.terminate();
    await c.closed;
  }

  /** Open a new socket and resume `old`'s connection from `lastSeq`. */
  async function resume(old: TestClient, lastSeq = old.lastSeq, id = old.nextId): Promise<{ c: TestClient; r: Frame }> {
    const c = await TestClient.open(server);
    clients.push(c);
    c.lastSeq = lastSeq;
    c.connectionId = old.connectionId;
    c.resumeToken = old.resumeToken;
    c.nextId = id;
    const r = await c.request('resume', { connectionId: old.connectionId, resumeToken: old.resumeToken, lastSeq });
    return { c, r };
  }

  async function pair(opts: Parameters<typeof startTestServer>[0] = {}) {
    server = await startTestServer(opts);
    const a = await join(server, 'r');
    const b = await join(server, 'r');
    clients.push(a.c, b.c);
    await a.c.next('connectionCreated');
    return { a: a.c, b: b.c };
  }

  it('sequences every frame but hello and pong from 1 without gaps', async () => {
    const { a, b } = await pair();
    await b.request('signal', { data: '1' });
    await a.next('signal');
    await a.roundTrip();
    const qs = a.inbox.filter((f) => f.q !== undefined).map((f) => f.q);
    expect(qs).toEqual(qs.map((_, i) => i + 1));
    expect(a.inbox.filter((f) => f.type === 'hello' || f.type === 'pong').every((f) => f.q === undefined)).toBe(true);
  });

  it('replays frames missed while away, in order, exactly once, then answers ok with lastRequestId', async () => {
    const { a, b } = await pair();
    await a.request('signal', { data: 'before' });
    await a.next('signal');
    await cut(a);
    const lastSeq = a.lastSeq;
    for (let i = 0; i < 5; i++) await b.request('signal', { to: a.connectionId, signalType: 'dm', data: String(i) });
    await b.request('signal', { data: 'all' });
    const { c, r } = await resume(a);
    expect(r).toMatchObject({ type: 'ok', result: { lastRequestId: 2 } });
    expect((r.result as Frame).capabilities).toMatchObject({ canPublish: true });
    const replayed = c.inbox.filter((f) => f.type === 'signal');
    expect(replayed.map((f) => f.data)).toEqual(['0', '1', '2', '3', '4', 'all']);
    expect(replayed[0]?.q).toBe(lastSeq + 1);
    // new frames continue the sequence
    await b.request('signal', { to: a.connectionId, data: 'after' });
    expect(await c.waitFor((f) => f.type === 'signal' && f.data === 'after')).toMatchObject({ q: (r.q as number) + 1 });
  });

  it('does not replay frames the client already processed (lastSeq)', async () => {
    const { a, b } = await pair();
    await b.request('signal', { to: a.connectionId, data: 'seen' });
    await a.next('signal');
    await cut(a);
    await b.request('signal', { to: a.connectionId, data: 'missed' });
    const { c } = await resume(a);
    expect(c.inbox.filter((f) => f.type === 'signal').map((f) => f.data)).toEqual(['missed']);
  });

  it('keeps the resumed connection invisible to others: no connectionDestroyed or connectionCreated', async () => {
    const { a, b } = await pair();
    await cut(a);
    await resume(a);
    await b.expectNone('connectionDestroyed');
    await b.expectNone('connectionCreated');
  });

  it('answers a resent request (id <= lastRequestId) with ok without executing it again', async () => {
    const { a, b } = await pair();
    a.send({ type: 'signal', id: 7, data: 'once' });
    await b.next('signal');
    await cut(a);
    const { c, r } = await resume(a, a.lastSeq, 8);
    expect((r.result as Frame).lastRequestId).toBe(7);
    const again = await c.request('signal', { data: 'once' }, 7);
    expect(again).toMatchObject({ type: 'ok', id: 7 });
    await b.expectNone('signal');
    // a new id executes
    await c.request('signal', { data: 'twice' }, 9);
    expect((await b.next('signal')).data).toBe('twice');
  });

  it('fails resume after an ack trimmed the frames the client asks for', async () => {
    const { a, b } = await pair();
    await b.request('signal', { to: a.connectionId, data: 'x' });
    await a.next('signal');
    const acked = a.lastSeq;
    a.ack(acked);
    await a.roundTrip();
    await cut(a);
    const { c, r } = await resume(a, acked - 1);
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_RESUME_FAILED' } });
    expect((await c.closed).code).toBe(4002);
  });

  it('resumes from the acked sequence after ping.ack trims the buffer', async () => {
    const { a, b } = await pair();
    await b.request('signal', { to: a.connectionId, data: 'x' });
    await a.next('signal');
    a.send({ type: 'ping', ack: a.lastSeq });
    await a.next('pong');
    await cut(a);
    const { r } = await resume(a);
    expect(r.type).toBe('ok');
  });

  it('fails resume with a wrong resume token', async () => {
    const { a } = await pair();
    await cut(a);
    const c = await TestClient.open(server);
    clients.push(c);
    const r = await c.request('resume', { connectionId: a.connectionId, resumeToken: 'wrong', lastSeq: a.lastSeq });
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_RESUME_FAILED' } });
  });

  it('fails resume for an unknown connection', async () => {
    server = await startTestServer();
    const c = await TestClient.open(server);
    clients.push(c);
    const r = await c.request('resume', { connectionId: 'nope', resumeToken: 'x', lastSeq: 0 });
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_RESUME_FAILED' } });
  });

  it('fails resume for a connection that was force-disconnected', async () => {
    server = await startTestServer();
    const host = await join(server, 'r', { role: 'host' });
    const a = await join(server, 'r');
    clients.push(host.c, a.c);
    await host.c.request('forceDisconnect', { connectionId: a.c.connectionId });
    await a.c.closed;
    const { r } = await resume(a.c);
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_RESUME_FAILED' } });
  });

  it('closes the old socket with 4003 when a new socket resumes the connection', async () => {
    const { a, b } = await pair();
    const { r, c } = await resume(a);
    expect(r.type).toBe('ok');
    expect((await a.closed).code).toBe(4003);
    await b.request('signal', { to: a.connectionId, data: 'new socket' });
    expect((await c.next('signal')).data).toBe('new socket');
    await b.expectNone('connectionDestroyed');
  });

  it('drops a silent socket after twice the heartbeat timeout and keeps the place for the resume window', async () => {
    const { a, b } = await pair({ heartbeatTimeoutMs: 100, resumeWindowMs: 5000 });
    // b keeps pinging; a sends nothing, so the server must drop a's socket only
    const keepAlive = setInterval(() => b.send({ type: 'ping', ack: b.lastSeq }), 40);
    try {
      const started = Date.now();
      const closed = await a.closed;
      expect(closed.code).not.toBe(4002);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      await new Promise((r) => setTimeout(r, 300));
      expect(b.isClosed).toBe(false);
      await b.expectNone('connectionDestroyed');
      const { r } = await resume(a);
      expect(r.type).toBe('ok');
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('destroys a vanished connection with networkDisconnected after the resume window', async () => {
    const { a, b } = await pair({ resumeWindowMs: 200 });
    await cut(a);
    const d = await b.next('connectionDestroyed', 3000);
    expect(d.connections).toEqual([{ connectionId: a.connectionId, reason: 'networkDisconnected' }]);
    const { r } = await resume(a);
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_RESUME_FAILED' } });
  });

  it('ends the session when its last connection vanishes and the window passes', async () => {
    server = await startTestServer({ resumeWindowMs: 150 });
    const a = await join(server, 'solo');
    clients.push(a.c);
    await cut(a.c);
    const deadline = Date.now() + 3000;
    for (;;) {
      const h = (await (await fetch(server.url + '/healthz')).json()) as { sessions: number };
      if (h.sessions === 0) break;
      if (Date.now() > deadline) throw new Error('session did not end');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('destroys an away connection whose replay buffer overflows', async () => {
    const { a, b } = await pair({ replayBuffer: { maxFrames: 5 } });
    a.ack();
    await a.roundTrip();
    await cut(a);
    for (let i = 0; i < 6; i++) await b.request('signal', { to: a.connectionId, data: String(i) });
    const d = await b.next('connectionDestroyed');
    expect(d.connections).toEqual([{ connectionId: a.connectionId, reason: 'networkDisconnected' }]);
  });
});
