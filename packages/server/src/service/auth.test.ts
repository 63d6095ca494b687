import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, API_SECRET, cleanup, join, startTestServer, TestClient, token } from '../test-helpers/wsClient.js';
import type { ConveneServer } from './startServer.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

function rawToken(header: Record<string, unknown>, payload: Record<string, unknown>, secret = API_SECRET): string {
  const head = b64(header) + '.' + b64(payload);
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url');
}

describe('connect: token checks', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => cleanup(server, clients));

  /** Connect with a token and expect OT_AUTHENTICATION_ERROR whose message matches, then close 4001. */
  async function expectRejected(tok: string, message: RegExp, sessionId = 'room', extra: Record<string, unknown> = {}): Promise<void> {
    const c = await TestClient.open(server);
    clients.push(c);
    const r = await c.request('connect', { sessionId, token: tok, ...extra });
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_AUTHENTICATION_ERROR', code: 1004 } });
    expect((r.error as { message: string }).message).toMatch(message);
    expect((await c.closed).code).toBe(4001);
  }

  it('accepts a valid token and reports the connection', async () => {
    const { c, result } = await join(server, 'room', { claims: { data: 'd=1', user_identity: 'u1' } });
    clients.push(c);
    expect(result.connection).toMatchObject({ data: 'd=1', userIdentity: 'u1', role: 'publisher' });
    expect(typeof result.resumeToken).toBe('string');
  });

  it('rejects a bad signature', () => expectRejected(token('room', {}, 'wrong-secret'), /signature is invalid/));

  it('rejects alg none', () => expectRejected(b64({ alg: 'none', typ: 'JWT' }) + '.' + b64({ iss: API_KEY, tpc: 'room', exp: now() + 60 }) + '.', /algorithm "none" is not allowed/));

  it('rejects alg HS512', () => expectRejected(rawToken({ alg: 'HS512', typ: 'JWT' }, { iss: API_KEY, tpc: 'room', exp: now() + 60 }), /algorithm "HS512" is not allowed/));

  it('rejects a token without exp', () => expectRejected(rawToken({ alg: 'HS256' }, { iss: API_KEY, tpc: 'room' }), /no expiry/));

  it('rejects an expired token', () => expectRejected(token('room', { exp: now() - 1 }), /expired/));

  it('rejects a token whose nbf is in the future', () => expectRejected(token('room', { nbf: now() + 120 }), /not valid yet/));

  it('rejects an unknown API key', () => expectRejected(token('room', { iss: 'someone_else' }), /unknown API key/));

  it('accepts app_key as the issuer', async () => {
    const { c } = await join(server, 'room', { claims: { iss: undefined, app_key: API_KEY } });
    clients.push(c);
  });

  it('rejects a token for another session', () => expectRejected(token('other room'), /different session/));

  it('rejects a malformed token', () => expectRejected('not-a-jwt', /Malformed token/));

  it('rejects a token whose payload is not JSON', () => expectRejected(b64({ alg: 'HS256' }) + '.bm90IGpzb24.sig', /Malformed token/));

  it('rejects connect.apiKey that differs from the token issuer', () => expectRejected(token('room'), /API key does not match/, 'room', { apiKey: 'other_key' }));

  it('matches the token session case-insensitively', async () => {
    const c = await TestClient.open(server);
    clients.push(c);
    const r = await c.request('connect', { sessionId: 'My Room', token: token('MY ROOM') });
    expect(r.type).toBe('ok');
    expect((r.result as { session: { sessionId: string } }).session.sessionId).toBe('my room');
  });
});

describe('connect: before authentication', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  it('answers requests before connect with OT_NOT_CONNECTED and the request id', async () => {
    server = await startTestServer();
    const c = await TestClient.open(server);
    clients.push(c);
    const r = await c.request('signal', { data: 'x' });
    expect(r).toMatchObject({ type: 'error', id: r.id, error: { name: 'OT_NOT_CONNECTED', code: 1010 } });
    expect(r.q).toBeUndefined();
    // the socket stays usable
    expect((await c.request('connect', { sessionId: 'room', token: token('room') })).type).toBe('ok');
  });

  it('closes a socket that does not connect in time with 4001', async () => {
    server = await startTestServer({ authTimeoutMs: 150 });
    const c = await TestClient.open(server);
    clients.push(c);
    const closed = await c.closed;
    expect(closed.code).toBe(4001);
    expect(c.inbox.some((f) => f.type === 'error' && (f.error as { message: string }).message.includes('Timed out'))).toBe(true);
  });

  it('sends hello first, unsequenced', async () => {
    server = await startTestServer();
    const c = await TestClient.open(server);
    clients.push(c);
    expect(c.inbox[0]).toMatchObject({ v: 1, type: 'hello', maxFrameBytes: 65536 });
    expect(c.inbox[0]?.q).toBeUndefined();
  });

  it('refuses a second connect on a connected socket', async () => {
    server = await startTestServer();
    const { c } = await join(server, 'room');
    clients.push(c);
    const r = await c.request('connect', { sessionId: 'room', token: token('room') });
    expect(r).toMatchObject({ type: 'error', error: { name: 'OT_ALREADY_CONNECTED' } });
  });
});
