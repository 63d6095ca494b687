import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, API_SECRET, cleanup, join, startTestServer, type TestClient } from '../test-helpers/wsClient.js';
import type { ConveneServer } from './startServer.js';

const basic = 'Basic ' + Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64');

describe('POST /v1/sessions', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  beforeEach(async () => {
    server = await startTestServer({ media: false });
  });
  afterEach(() => cleanup(server, clients));

  const post = (body: unknown, auth: string | null = basic): Promise<Response> =>
    fetch(server.url + '/v1/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify(body),
    });

  it('generates a lower-case session id, routed by default', async () => {
    const r = await post({});
    expect(r.status).toBe(200);
    const body = (await r.json()) as { sessionId: string; mediaMode: string };
    expect(body.mediaMode).toBe('routed');
    expect(body.sessionId).toMatch(/^s_[0-9a-f]{24}$/);
    expect((await (await post({})).json()) as { sessionId: string }).not.toEqual(body);
  });

  it('creates a relayed session under a given name, and joiners learn mediaMode relayed', async () => {
    const r = await post({ name: 'P2P Room', mediaMode: 'relayed' });
    expect(await r.json()).toEqual({ sessionId: 'p2p room', mediaMode: 'relayed' });
    const a = await join(server, 'p2p ROOM');
    const b = await join(server, 'other room');
    clients.push(a.c, b.c);
    expect(a.result.mediaMode).toBe('relayed');
    expect(b.result.mediaMode).toBe('routed');
  });

  it('answers 409 when a live session of that name has the other mode, and 200 when it has the same', async () => {
    const a = await join(server, 'busy');
    clients.push(a.c);
    const r = await post({ name: 'Busy', mediaMode: 'relayed' });
    expect(r.status).toBe(409);
    expect(await r.json()).toMatchObject({ error: { name: 'OT_INVALID_STATE', code: 409 } });
    expect((await post({ name: 'busy', mediaMode: 'routed' })).status).toBe(200);
  });

  it.each([
    ['an unknown mediaMode', { mediaMode: 'p2p' }, /mediaMode/],
    ['a non-string name', { name: 7 }, /name/],
    ['an empty name', { name: '' }, /name/],
  ])('answers 400 for %s', async (_n, body, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    const e = (await r.json()) as { error: { message: string } };
    expect(e.error.message).toMatch(message);
  });

  it('answers 401 without credentials and creates nothing', async () => {
    expect((await post({ name: 'x', mediaMode: 'relayed' }, null)).status).toBe(401);
    const a = await join(server, 'x');
    clients.push(a.c);
    expect(a.result.mediaMode).toBe('routed');
  });
});
