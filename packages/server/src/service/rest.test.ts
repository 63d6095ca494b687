import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, API_SECRET, cleanup, join, startTestServer, type TestClient } from '../test-helpers/wsClient.js';
import { signHs256 } from './jwt.js';
import type { ConveneServer } from './startServer.js';

const basic = 'Basic ' + Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64');
function bearer(claims: Record<string, unknown> = {}, secret = API_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return 'Bearer ' + signHs256({ iss: API_KEY, ist: 'project', iat: now, exp: now + 300, ...claims }, secret);
}

describe('REST API', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => cleanup(server, clients));

  const call = (method: string, path: string, auth: string | null = basic, body?: string): Promise<Response> =>
    fetch(server.url + path, { method, headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body });

  async function pair() {
    const host = await join(server, 'Rest Room', { role: 'host' });
    const a = await join(server, 'rest room');
    clients.push(host.c, a.c);
    return { host: host.c, a: a.c };
  }

  it('lists sessions with Basic auth', async () => {
    const { host } = await pair();
    const r = await call('GET', '/v1/sessions');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      sessions: [expect.objectContaining({ sessionId: 'rest room', connectionCount: 2, hostId: host.connectionId, hasPasscode: false, shareLocked: false })],
    });
  });

  it('lists sessions with a Bearer project token', async () => {
    await pair();
    const r = await call('GET', '/v1/sessions', bearer());
    expect(r.status).toBe(200);
    expect(((await r.json()) as { sessions: unknown[] }).sessions).toHaveLength(1);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong Basic secret', 'Basic ' + Buffer.from(`${API_KEY}:nope`).toString('base64')],
    ['a wrong Basic key', 'Basic ' + Buffer.from(`other:${API_SECRET}`).toString('base64')],
    ['a Bearer token with a bad signature', bearer({}, 'wrong')],
    ['an expired Bearer token', bearer({ exp: Math.floor(Date.now() / 1000) - 5 })],
    ['a Bearer token without ist: project', bearer({ ist: undefined })],
    ['an unknown scheme', 'Digest abc'],
  ])('answers 401 with an error body for %s', async (_name, auth) => {
    const r = await call('GET', '/v1/sessions', auth);
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: { name: 'OT_AUTHENTICATION_ERROR', code: 1004, message: expect.any(String) } });
  });

  it("lists a session's connections (name matched case-insensitively)", async () => {
    const { host, a } = await pair();
    const r = await call('GET', '/v1/sessions/REST%20ROOM/connections');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { sessionId: string; connections: { connectionId: string }[] };
    expect(body.sessionId).toBe('rest room');
    expect(body.connections.map((c) => c.connectionId)).toEqual([host.connectionId, a.connectionId]);
  });

  it('answers 404 for an unknown session', async () => {
    const r = await call('GET', '/v1/sessions/nope/connections');
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: { name: 'OT_NOT_FOUND', code: 404 } });
  });

  it('signals everyone in a session (from null) with 204', async () => {
    const { host, a } = await pair();
    const r = await call('POST', '/v1/sessions/rest%20room/signal', basic, JSON.stringify({ type: 'notice', data: 'hello all' }));
    expect(r.status).toBe(204);
    for (const c of [host, a]) expect(await c.next('signal')).toMatchObject({ from: null, signalType: 'notice', data: 'hello all' });
  });

  it('signals one connection with 204', async () => {
    const { host, a } = await pair();
    const r = await call('POST', `/v1/sessions/rest%20room/connections/${a.connectionId}/signal`, bearer(), JSON.stringify({ data: 'just you' }));
    expect(r.status).toBe(204);
    expect(await a.next('signal')).toMatchObject({ from: null, data: 'just you', signalType: '' });
    await host.expectNone('signal');
  });

  it('answers 404 when signalling an unknown connection', async () => {
    await pair();
    const r = await call('POST', '/v1/sessions/rest%20room/connections/nobody/signal', basic, '{}');
    expect(r.status).toBe(404);
  });

  it('answers 400 for an invalid signal type and for a body that is not JSON', async () => {
    await pair();
    const r1 = await call('POST', '/v1/sessions/rest%20room/signal', basic, JSON.stringify({ type: 'no spaces' }));
    expect(r1.status).toBe(400);
    expect(await r1.json()).toMatchObject({ error: { code: 400 } });
    const r2 = await call('POST', '/v1/sessions/rest%20room/signal', basic, '{oops');
    expect(r2.status).toBe(400);
    const r3 = await call('POST', '/v1/sessions/rest%20room/signal', basic, JSON.stringify({ data: 5 }));
    expect(r3.status).toBe(400);
  });

  it('answers 413 for signal data over 8 kB and for a body over the cap', async () => {
    await pair();
    const r1 = await call('POST', '/v1/sessions/rest%20room/signal', basic, JSON.stringify({ data: 'x'.repeat(8193) }));
    expect(r1.status).toBe(413);
    expect(await r1.json()).toMatchObject({ error: { code: 413 } });
    const r2 = await call('POST', '/v1/sessions/rest%20room/signal', basic, JSON.stringify({ data: 'x'.repeat(20_000) }));
    expect(r2.status).toBe(413);
  });

  it('force-disconnects a connection with 204: the target and the others see forceDisconnected', async () => {
    const { host, a } = await pair();
    const r = await call('DELETE', `/v1/sessions/rest%20room/connections/${a.connectionId}`);
    expect(r.status).toBe(204);
    expect(await a.next('disconnected')).toMatchObject({ reason: 'forceDisconnected' });
    expect((await a.closed).code).toBe(4002);
    expect((await host.next('connectionDestroyed')).connections).toEqual([{ connectionId: a.connectionId, reason: 'forceDisconnected' }]);
  });

  it('answers 404 when force-disconnecting an unknown connection', async () => {
    await pair();
    expect((await call('DELETE', '/v1/sessions/rest%20room/connections/nobody')).status).toBe(404);
  });

  it('ends a session with 204: everyone gets sessionEnded', async () => {
    const { host, a } = await pair();
    const r = await call('DELETE', '/v1/sessions/rest%20room');
    expect(r.status).toBe(204);
    for (const c of [host, a]) {
      expect(await c.next('disconnected')).toMatchObject({ reason: 'sessionEnded' });
      expect((await c.closed).code).toBe(4002);
    }
    expect(((await (await call('GET', '/v1/sessions')).json()) as { sessions: unknown[] }).sessions).toEqual([]);
  });

  it('answers 405 for a wrong method and 404 for an unknown path', async () => {
    expect((await call('PUT', '/v1/sessions')).status).toBe(405);
    expect((await call('GET', '/v1/nothing')).status).toBe(404);
  });
});

describe('HTTP endpoints', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  it('GET / returns the landing page', async () => {
    server = await startTestServer();
    const r = await fetch(server.url + '/');
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<title>Convene</title>');
  });

  it('GET /healthz reports ok', async () => {
    server = await startTestServer();
    const r = await fetch(server.url + '/healthz');
    expect(await r.json()).toMatchObject({ status: 'ok' });
  });

  it('GET /metrics exposes convene_sessions and convene_connections', async () => {
    server = await startTestServer();
    const a = await join(server, 'm1');
    const b = await join(server, 'm2');
    const c = await join(server, 'm2');
    clients.push(a.c, b.c, c.c);
    const text = await (await fetch(server.url + '/metrics')).text();
    expect(text).toMatch(/^convene_sessions 2$/m);
    expect(text).toMatch(/^convene_connections 3$/m);
  });

  it('two servers in one process keep separate metrics', async () => {
    server = await startTestServer();
    const other = await startTestServer();
    try {
      const a = await join(server, 'm1');
      clients.push(a.c);
      expect(await (await fetch(other.url + '/metrics')).text()).toMatch(/^convene_sessions 0$/m);
      expect(await (await fetch(server.url + '/metrics')).text()).toMatch(/^convene_sessions 1$/m);
    } finally {
      await other.close();
    }
  });

  it('url is http://127.0.0.1:<port> and both 127.0.0.1 and localhost answer', async () => {
    server = await startTestServer();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(`http://localhost:${server.port}/healthz`)).status).toBe(200);
  });

  it('answers on ::1 too when the machine has IPv6 loopback', async (ctx) => {
    const { networkInterfaces } = await import('node:os');
    const v6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));
    if (!v6) ctx.skip();
    server = await startTestServer();
    expect((await fetch(`http://[::1]:${server.port}/healthz`)).status).toBe(200);
  });

  it('generates a dev API key and secret without credentials', async () => {
    const { startServer } = await import('./startServer.js');
    server = await startServer({ port: 0, logLevel: 'silent' });
    expect(server.apiKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(server.apiSecret).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(server.devMode).toBe(true);
  });

  it('refuses production mode without credentials', async () => {
    const { startServer } = await import('./startServer.js');
    await expect(startServer({ port: 0, logLevel: 'silent', production: true })).rejects.toThrow(/Production/);
  });
});

describe('docs/openapi.yaml', () => {
  it('documents exactly the REST routes the server serves, with their methods', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../../docs/openapi.yaml', import.meta.url), 'utf8');
    const documented: string[] = [];
    let path = '';
    for (const line of text.split('\n')) {
      const p = /^ {2}(\/v1\/[^:]*):$/.exec(line);
      if (p) path = p[1] as string;
      else if (/^\S/.test(line)) path = '';
      const m = /^ {4}(get|post|put|patch|delete):$/.exec(line);
      if (path && m) documented.push(`${(m[1] as string).toUpperCase()} ${path}`);
    }
    expect(documented.sort()).toEqual(
      [
        'GET /v1/sessions',
        'POST /v1/sessions',
        'DELETE /v1/sessions/{sessionId}',
        'GET /v1/sessions/{sessionId}/connections',
        'POST /v1/sessions/{sessionId}/signal',
        'DELETE /v1/sessions/{sessionId}/connections/{connectionId}',
        'POST /v1/sessions/{sessionId}/connections/{connectionId}/signal',
      ].sort(),
    );
  });
});
