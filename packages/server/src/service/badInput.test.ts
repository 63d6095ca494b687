import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, join, startTestServer, TestClient } from '../test-helpers/wsClient.js';
import type { ConveneServer } from './startServer.js';

describe('bad input on the signaling socket', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  async function pair(opts: Parameters<typeof startTestServer>[0] = {}) {
    server = await startTestServer(opts);
    const a = await join(server, 'bad');
    const b = await join(server, 'bad');
    clients.push(a.c, b.c);
    await a.c.next('connectionCreated');
    return { a: a.c, b: b.c };
  }

  /** The session still works for `a` and `b`: a signal goes round. */
  async function stillWorks(a: TestClient, b: TestClient): Promise<void> {
    expect((await b.request('signal', { to: a.connectionId, data: 'ok?' })).type).toBe('ok');
    expect((await a.waitFor((f) => f.type === 'signal' && f.data === 'ok?')).from).toBe(b.connectionId);
  }

  it('answers malformed JSON with OT_BAD_REQUEST and keeps the socket', async () => {
    const { a, b } = await pair();
    a.sendRaw('{not json');
    expect(await a.next('error')).toMatchObject({ error: { name: 'OT_BAD_REQUEST', code: 400, message: 'Malformed JSON' } });
    await stillWorks(a, b);
  });

  it('answers an unknown message type with an error carrying the request id', async () => {
    const { a, b } = await pair();
    a.send({ type: 'teleport', id: 50 });
    expect(await a.next('error')).toMatchObject({ id: 50, error: { name: 'OT_BAD_REQUEST' } });
    await stillWorks(a, b);
  });

  it('answers wrong field types with an error naming the field', async () => {
    const { a, b } = await pair();
    a.send({ type: 'signal', id: 60, data: 42 });
    const e = await a.next('error');
    expect(e).toMatchObject({ id: 60, error: { name: 'OT_BAD_REQUEST' } });
    expect((e.error as { message: string }).message).toContain('signal.data');
    await b.expectNone('signal');
    await stillWorks(a, b);
  });

  it('rejects a wrong protocol version', async () => {
    const { a } = await pair();
    a.sendRaw(JSON.stringify({ v: 2, type: 'signal', id: 70 }));
    expect(await a.next('error')).toMatchObject({ id: 70, error: { name: 'OT_BAD_REQUEST' } });
  });

  it('rejects binary frames with an error', async () => {
    const { a, b } = await pair();
    a.sendRaw(Buffer.from([1, 2, 3]));
    expect((await a.next('error')).error).toMatchObject({ name: 'OT_BAD_REQUEST', message: expect.stringContaining('Binary') });
    await stillWorks(a, b);
  });

  it('closes a socket sending an oversized frame with 1009; others and the session are unaffected', async () => {
    const { a, b } = await pair({ resumeWindowMs: 60_000 });
    a.sendRaw(JSON.stringify({ v: 1, type: 'signal', id: 80, data: 'x'.repeat(70 * 1024) }));
    expect((await a.closed).code).toBe(1009);
    await b.expectNone('connectionDestroyed');
    expect((await b.request('signal', { data: 'still here' })).type).toBe('ok');
    expect((await b.next('signal')).data).toBe('still here');
    // a keeps its place and can resume
    const c = await TestClient.open(server);
    clients.push(c);
    c.lastSeq = a.lastSeq;
    const r = await c.request('resume', { connectionId: a.connectionId, resumeToken: a.resumeToken, lastSeq: a.lastSeq }, 90);
    expect(r.type).toBe('ok');
  });

  it('answers a flood with OT_RATE_LIMITED 429, then closes it with 4029; others are unaffected', async () => {
    const { a, b } = await pair({ rateLimit: { burst: 5, perSecond: 1 } });
    for (let i = 0; i < 40; i++) a.send({ type: 'signal', id: 100 + i, to: a.connectionId, data: String(i) });
    const limited = await a.waitFor((f) => f.type === 'error' && (f.error as { code: number }).code === 429);
    expect(limited).toMatchObject({ error: { name: 'OT_RATE_LIMITED', code: 429 } });
    expect(limited.id).toBeGreaterThanOrEqual(100);
    expect((await a.closed).code).toBe(4029);
    await b.roundTrip();
    expect(b.isClosed).toBe(false);
  });

  it('rate-limits pre-auth sockets too', async () => {
    server = await startTestServer({ rateLimit: { burst: 3, perSecond: 1 } });
    const c = await TestClient.open(server);
    clients.push(c);
    for (let i = 0; i < 20; i++) c.sendRaw('garbage');
    expect((await c.closed).code).toBe(4029);
    expect(c.inbox.some((f) => f.type === 'error' && (f.error as { code: number }).code === 429)).toBe(true);
  });

  it('never lets one bad socket take the server down: a fresh client can still join', async () => {
    const { a } = await pair();
    a.sendRaw('null');
    a.sendRaw('[]');
    a.sendRaw('"str"');
    a.sendRaw(JSON.stringify({ v: 1, type: 'connect', id: 'x' }));
    a.sendRaw(JSON.stringify({ v: 1, type: 'moderate', id: 200, action: 'explode' }));
    a.sendRaw(JSON.stringify({ v: 1, type: 'ack', seq: -1 }));
    await a.roundTrip();
    expect(a.unread('error').length).toBe(6);
    const late = await join(server, 'bad');
    clients.push(late.c);
    expect(late.result.connections.length).toBe(2);
  });

  it('drops the socket of a client that stops reading once too much is queued for it; it may resume', async () => {
    const { a, b } = await pair({ rateLimit: { burst: 1e6, perSecond: 1e6 }, replayBuffer: { maxFrames: 1e6, maxBytes: 256 * 1024 * 1024 } });
    // ws's own pause: pausing only its socket can be undone by ws itself when its receiver drains (receiverOnDrain).
    a.ws.pause();
    const data = 'x'.repeat(8000);
    const sockets = async (): Promise<number> => Number(/^convene_signaling_sockets (\d+)$/m.exec(await (await fetch(server.url + '/metrics')).text())?.[1]);
    let sent = 0;
    // Queue well over the server's 8 MB limit (the kernel's loopback buffers take up to ≈36 MB first), then
    // stop and wait: the server checks once a second and drops on the second check over the limit. A fixed
    // message budget raced that check on a fast run (≈150 MB are sent in two seconds).
    const deadline = Date.now() + 20_000;
    while ((await sockets()) === 2 && Date.now() < deadline) {
      if (sent * data.length < 64 * 1024 * 1024) for (let i = 0; i < 200; i++, sent++) b.send({ type: 'signal', id: 1000 + sent, to: a.connectionId, data });
      else await new Promise((r) => setTimeout(r, 100));
      await b.roundTrip();
    }
    expect(await sockets()).toBe(1);
    a.ws.terminate();
    await b.expectNone('connectionDestroyed');
    const c = await TestClient.open(server);
    clients.push(c);
    c.lastSeq = a.lastSeq;
    const r = await c.request('resume', { connectionId: a.connectionId, resumeToken: a.resumeToken, lastSeq: a.lastSeq }, 50_000);
    expect(r.type).toBe('ok');
    expect(a.inbox.filter((f) => f.type === 'signal').length + c.inbox.filter((f) => f.type === 'signal').length).toBe(sent);
  }, 60_000);

  it('rejects an upgrade on another path', async () => {
    server = await startTestServer();
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/elsewhere');
    const err = await new Promise<Error>((resolve) => ws.on('error', resolve));
    expect(err.message).toMatch(/404/);
  });
});
