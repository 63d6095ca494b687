import { startServer } from '@convene/server';
import type { Role } from '@convene/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken, ConveneApi, ConveneApiError, createToken } from './index.js';
import { RawConnection } from './test-helpers/RawConnection.js';

/*
 * The REST client against a real Convene server on port 0, with live
 * connections opened over real WebSockets speaking the wire protocol.
 */

const apiKey = 'sdk_it_key';
const apiSecret = 'sdk_it_secret_0123456789';

let server: Awaited<ReturnType<typeof startServer>>;
let api: ConveneApi;
const open: RawConnection[] = [];
let seq = 0;

beforeAll(async () => {
  server = await startServer({ port: 0, apiKey, apiSecret, logLevel: 'silent' });
  api = new ConveneApi({ serverUrl: server.url, apiKey, apiSecret });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await server?.close();
});

/** A session name no other test uses. */
const uniqueSession = (label: string): string => `${label} ${++seq}-${Date.now()}`;

/** Join `sessionId` over a raw WebSocket with a fresh token. */
async function join(sessionId: string, opts: { role?: Role; userName?: string; data?: string } = {}): Promise<RawConnection> {
  const token = await createToken({ apiKey, apiSecret, sessionId, role: opts.role ?? 'publisher', userName: opts.userName, data: opts.data });
  const c = await RawConnection.join(server.url, sessionId, token);
  open.push(c);
  return c;
}

/** The rejection of `p` as a ConveneApiError, failing the test otherwise. */
async function apiError(p: Promise<unknown>): Promise<ConveneApiError> {
  const err = await p.then(
    () => expect.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConveneApiError);
  return err as ConveneApiError;
}

describe('ConveneApi against a real server: reading', () => {
  it('listSessions() lists each live session with its connection count', async () => {
    const a = uniqueSession('List A');
    const b = uniqueSession('List B');
    await join(a);
    await join(a);
    await join(b);
    const sessions = await api.listSessions();
    const byId = new Map(sessions.map((s) => [s.sessionId, s]));
    expect(byId.get(a.toLowerCase())).toMatchObject({ sessionId: a.toLowerCase(), connectionCount: 2, hasPasscode: false });
    expect(byId.get(b.toLowerCase())).toMatchObject({ connectionCount: 1 });
    expect(typeof byId.get(a.toLowerCase())?.createdAt).toBe('number');
  });

  it('listConnections() returns every connection with its token data, name and role', async () => {
    const name = uniqueSession('Conns');
    const alice = await join(name, { role: 'moderator', userName: 'Alice', data: 'team=red' });
    const bob = await join(name, { role: 'subscriber', userName: 'Bob' });
    const conns = await api.listConnections(name);
    expect(conns.map((c) => c.connectionId).sort()).toEqual([alice.connectionId, bob.connectionId].sort());
    expect(conns.find((c) => c.connectionId === alice.connectionId)).toMatchObject({
      userName: 'Alice',
      data: 'team=red',
      role: 'moderator',
    });
    expect(conns.find((c) => c.connectionId === bob.connectionId)).toMatchObject({ userName: 'Bob', data: '', role: 'subscriber' });
  });

  it('listConnections() finds a session whose name has spaces, slashes and URL symbols, in any case', async () => {
    const name = `Q&A / Team #${++seq} ?x=1 100% ünï`;
    const c = await join(name);
    const conns = await api.listConnections(name.toUpperCase());
    expect(conns.map((x) => x.connectionId)).toEqual([c.connectionId]);
  });

  it('listConnections() rejects with 404 for a session that does not exist', async () => {
    const err = await apiError(api.listConnections(uniqueSession('Nobody here')));
    expect(err.status).toBe(404);
    expect(err.name).toBe('OT_NOT_FOUND');
    expect(err.message.length).toBeGreaterThan(0);
  });

  it('Basic auth (apiKey:apiSecret) works as well as bearer tokens', async () => {
    const name = uniqueSession('Basic');
    await join(name);
    const basic = new ConveneApi({ serverUrl: `${server.url}/`, apiKey, apiSecret, auth: 'basic' });
    expect((await basic.listSessions()).some((s) => s.sessionId === name.toLowerCase())).toBe(true);
  });
});

describe('tokens from this SDK against a real server', () => {
  it('an AccessToken joins with its identity, name, data and role', async () => {
    const name = uniqueSession('Builder');
    const at = new AccessToken(apiKey, apiSecret, { identity: 'user-42', name: 'Grace', data: 'team=blue', ttl: '10m' });
    const c = await RawConnection.join(server.url, name, await at.addGrant({ session: name, role: 'moderator' }).toJwt());
    open.push(c);
    expect(c.joined.connection).toMatchObject({ userIdentity: 'user-42', userName: 'Grace', data: 'team=blue', role: 'moderator' });
    expect(c.joined.capabilities).toMatchObject({ canForceDisconnect: true, forceDisconnect: 1 });
  });

  it('a roleType 1 token joins as the host', async () => {
    const name = uniqueSession('Role type');
    const token = await createToken({ apiKey, apiSecret, sessionId: name, roleType: 1 });
    const c = await RawConnection.join(server.url, name, token);
    open.push(c);
    expect(c.joined.connection).toMatchObject({ role: 'host', isHost: true });
  });

  it('a token for the session name in another case opens it', async () => {
    const name = uniqueSession('MiXeD Case');
    const token = await createToken({ apiKey, apiSecret, sessionId: name.toUpperCase(), role: 'publisher' });
    const c = await RawConnection.join(server.url, name.toLowerCase(), token);
    open.push(c);
    expect(c.joined.session.sessionId).toBe(name.toLowerCase());
  });

  it('a token signed with another secret is refused at connect', async () => {
    const name = uniqueSession('Forged');
    const token = await createToken({ apiKey, apiSecret: 'not-the-secret', sessionId: name, role: 'host' });
    await expect(RawConnection.join(server.url, name, token)).rejects.toThrow(/OT_AUTHENTICATION_ERROR/);
  });
});

describe('ConveneApi against a real server: authentication', () => {
  it('a wrong API secret is refused with 401 OT_AUTHENTICATION_ERROR (bearer)', async () => {
    const bad = new ConveneApi({ serverUrl: server.url, apiKey, apiSecret: 'wrong-secret' });
    const err = await apiError(bad.listSessions());
    expect(err).toMatchObject({ status: 401, name: 'OT_AUTHENTICATION_ERROR' });
  });

  it('a wrong API secret is refused with 401 (basic)', async () => {
    const bad = new ConveneApi({ serverUrl: server.url, apiKey, apiSecret: 'wrong-secret', auth: 'basic' });
    expect((await apiError(bad.listSessions())).status).toBe(401);
  });

  it('an unknown API key is refused with 401', async () => {
    const bad = new ConveneApi({ serverUrl: server.url, apiKey: 'not-a-key', apiSecret });
    expect((await apiError(bad.listSessions())).status).toBe(401);
  });

  it('a refused call changes nothing: endSession with a wrong secret leaves the session up', async () => {
    const name = uniqueSession('Untouched');
    const c = await join(name);
    const bad = new ConveneApi({ serverUrl: server.url, apiKey, apiSecret: 'wrong-secret' });
    expect((await apiError(bad.endSession(name))).status).toBe(401);
    expect((await api.listConnections(name)).map((x) => x.connectionId)).toEqual([c.connectionId]);
  });
});

describe('ConveneApi against a real server: signals', () => {
  it('signal() reaches every connection in the session with from null', async () => {
    const name = uniqueSession('Signal all');
    const a = await join(name);
    const b = await join(name);
    await api.signal(name, { type: 'notice', data: 'hello from the server' });
    for (const c of [a, b]) {
      const s = await c.nextOf('signal');
      expect(s).toMatchObject({ from: null, signalType: 'notice', data: 'hello from the server' });
    }
  });

  it('signal() with no type or data delivers an empty signal', async () => {
    const name = uniqueSession('Signal empty');
    const a = await join(name);
    await api.signal(name);
    expect(await a.nextOf('signal')).toMatchObject({ from: null, signalType: '', data: '' });
  });

  it('signalConnection() reaches only the target connection', async () => {
    const name = uniqueSession('Signal one');
    const target = await join(name);
    const other = await join(name);
    await api.signalConnection(name, target.connectionId, { type: 'private', data: 'just you' });
    await api.signal(name, { type: 'after', data: 'everyone' });
    expect(await target.nextOf('signal')).toMatchObject({ from: null, signalType: 'private', data: 'just you' });
    // Signals arrive in order, so if `other` had been sent the first one it would come before this.
    expect(await other.nextOf('signal')).toMatchObject({ signalType: 'after' });
  });

  it('signals sent one after another arrive in the order sent', async () => {
    const name = uniqueSession('Signal order');
    const a = await join(name);
    for (let i = 0; i < 20; i++) await api.signal(name, { type: 'seq', data: String(i) });
    const got: string[] = [];
    for (let i = 0; i < 20; i++) got.push((await a.nextOf('signal')).data);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('signal() accepts data of exactly 8192 UTF-8 bytes, multi-byte characters included', async () => {
    const name = uniqueSession('Signal max');
    const a = await join(name);
    const data = 'é'.repeat(4096); // 2 bytes each
    await api.signal(name, { type: 'big', data });
    expect((await a.nextOf('signal')).data).toBe(data);
  });

  it('signal() rejects with 413 when data exceeds 8 kB', async () => {
    const name = uniqueSession('Signal big');
    await join(name);
    const err = await apiError(api.signal(name, { type: 't', data: 'x'.repeat(8193) }));
    expect(err).toMatchObject({ status: 413, code: 413 });
  });

  it('signal() rejects with 400 when the type has characters outside A-Za-z0-9-_~', async () => {
    const name = uniqueSession('Signal bad type');
    await join(name);
    const err = await apiError(api.signal(name, { type: 'not allowed!', data: 'x' }));
    expect(err).toMatchObject({ status: 400, code: 400 });
  });

  it('signal() rejects with 404 for a session that does not exist', async () => {
    expect((await apiError(api.signal(uniqueSession('Ghost'), { data: 'x' }))).status).toBe(404);
  });

  it('signalConnection() rejects with 404 for a connection that is not in the session', async () => {
    const name = uniqueSession('Signal ghost conn');
    await join(name);
    expect((await apiError(api.signalConnection(name, 'no-such-connection', { data: 'x' }))).status).toBe(404);
  });
});

describe('ConveneApi against a real server: moderation', () => {
  it('forceDisconnect() ends the connection with reason forceDisconnected and tells the others', async () => {
    const name = uniqueSession('Kick');
    const victim = await join(name);
    const witness = await join(name);
    await api.forceDisconnect(name, victim.connectionId);
    expect(await victim.nextOf('disconnected')).toMatchObject({ reason: 'forceDisconnected' });
    const destroyed = await witness.nextOf('connectionDestroyed', (f) => f.connections.some((c) => c.connectionId === victim.connectionId));
    expect(destroyed.connections.find((c) => c.connectionId === victim.connectionId)?.reason).toBe('forceDisconnected');
    await victim.closed;
    expect((await api.listConnections(name)).map((c) => c.connectionId)).toEqual([witness.connectionId]);
  });

  it('forceDisconnect() rejects with 404 for an unknown connection', async () => {
    const name = uniqueSession('Kick ghost');
    await join(name);
    expect((await apiError(api.forceDisconnect(name, 'no-such-connection'))).status).toBe(404);
  });

  it('endSession() disconnects everyone with reason sessionEnded and the session disappears', async () => {
    const name = uniqueSession('End');
    const a = await join(name, { role: 'host' });
    const b = await join(name);
    await api.endSession(name);
    for (const c of [a, b]) expect(await c.nextOf('disconnected')).toMatchObject({ reason: 'sessionEnded' });
    await Promise.all([a.closed, b.closed]);
    expect((await api.listSessions()).some((s) => s.sessionId === name.toLowerCase())).toBe(false);
    expect((await apiError(api.listConnections(name))).status).toBe(404);
  });

  it('after endSession() the same name opens a new session', async () => {
    const name = uniqueSession('Reopen');
    const first = await join(name);
    const before = (await api.listSessions()).find((s) => s.sessionId === name.toLowerCase());
    await api.endSession(name);
    await first.closed;
    const again = await join(name);
    expect((await api.listConnections(name)).map((c) => c.connectionId)).toEqual([again.connectionId]);
    const after = (await api.listSessions()).find((s) => s.sessionId === name.toLowerCase());
    expect(after?.createdAt).toBeGreaterThanOrEqual(before?.createdAt ?? Number.POSITIVE_INFINITY);
  });

  it('endSession() rejects with 404 for a session that does not exist', async () => {
    expect((await apiError(api.endSession(uniqueSession('Never was')))).status).toBe(404);
  });
});
