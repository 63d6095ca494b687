import { createToken } from '@convene/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, nextEvent, record, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { ConveneError, OT, type ConnectionEvent, type ExceptionEvent, type SessionConnectEvent, type SessionDisconnectEvent } from '../index.js';

let h: Harness;
let n = 0;
const name = (): string => `connect-${++n}-${Date.now()}`;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('Session.connect', () => {
  it('calls the completion handler without arguments and resolves the promise on success', async () => {
    const s = h.session(name());
    const token = await h.token(s.sessionId);
    let resolved = false;
    const args = await new Promise<unknown[]>((resolve) => {
      void s.connect(token, (...a: unknown[]) => resolve(a)).then(() => (resolved = true));
    });
    expect(args).toEqual([]);
    await Promise.resolve();
    expect(resolved).toBe(true);
    expect(s.connectionState).toBe('connected');
    await s.disconnect();
  });

  it('returns a promise that resolves once connected, with connection and capabilities set', async () => {
    const s = h.session(name());
    expect(s.connection).toBeUndefined();
    expect(s.capabilities).toBeUndefined();
    await s.connect(await h.token(s.sessionId, { role: 'moderator', data: 'uid=7' }));
    expect(s.connection?.connectionId).toMatch(/.+/);
    expect(s.connection?.id).toBe(s.connection?.connectionId);
    expect(s.connection?.data).toBe('uid=7');
    expect(s.connection?.role).toBe('moderator');
    expect(typeof s.connection?.creationTime).toBe('number');
    expect(s.capabilities?.forceDisconnect).toBe(1);
    expect(s.capabilities?.canForceDisconnect).toBe(true);
    await s.disconnect();
  });

  it('fails with OT_AUTHENTICATION_ERROR (callback and promise) for a token signed with another secret', async () => {
    const sid = name();
    const s = h.session(sid);
    const bad = await createToken({ apiKey: API_KEY, apiSecret: 'not-the-secret', sessionId: sid });
    const exceptions: ExceptionEvent[] = [];
    const onException = (e: ExceptionEvent): void => void exceptions.push(e);
    OT.on('exception', onException);
    let cbError: ConveneError | undefined;
    const err = await s.connect(bad, (e) => (cbError = e)).then(
      () => null,
      (e: unknown) => e,
    );
    OT.off('exception', onException);
    expect(err).toBeInstanceOf(ConveneError);
    expect(err).toMatchObject({ name: 'OT_AUTHENTICATION_ERROR', code: 1004 });
    expect(typeof (err as ConveneError).message).toBe('string');
    expect(cbError).toBe(err);
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]).toMatchObject({ type: 'exception', code: 1004 });
    expect(exceptions[0]?.target).toBe(s);
    expect(s.connectionState).toBe('disconnected');
    expect(s.connection).toBeUndefined();
  });

  it('fails with OT_AUTHENTICATION_ERROR for a token of another session', async () => {
    const s = h.session(name());
    const other = await h.token('some-other-session');
    await expect(s.connect(other)).rejects.toMatchObject({ name: 'OT_AUTHENTICATION_ERROR' });
  });

  it('fails with OT_CONNECT_FAILED when nothing listens at serverUrl', async () => {
    const s = h.session(name(), { serverUrl: 'http://127.0.0.1:1' });
    await expect(s.connect(await h.token(s.sessionId))).rejects.toMatchObject({ name: 'OT_CONNECT_FAILED', code: 1006 });
  });

  it('can connect again on the same Session after a failed connect', async () => {
    const sid = name();
    const s = h.session(sid);
    await expect(s.connect(await createToken({ apiKey: API_KEY, apiSecret: 'wrong', sessionId: sid }))).rejects.toMatchObject({
      name: 'OT_AUTHENTICATION_ERROR',
    });
    await s.connect(await h.token(sid));
    expect(s.connectionState).toBe('connected');
    await s.disconnect();
  });

  it('rejects a second connect() while connected, leaving the first connection intact', async () => {
    const s = await h.join(name());
    await expect(s.connect(await h.token(s.sessionId))).rejects.toMatchObject({ name: 'OT_ALREADY_CONNECTED' });
    expect(s.connectionState).toBe('connected');
    await s.disconnect();
  });
});

describe('connectionCreated and sessionConnected', () => {
  it('dispatches connectionCreated for each existing connection and for itself, then sessionConnected with all of them', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const c = h.session(sid);
    const events = record<ConnectionEvent | SessionConnectEvent>(c, 'connectionCreated sessionConnected');
    await c.connect(await h.token(sid));
    expect(events.map((e) => e.type)).toEqual(['connectionCreated', 'connectionCreated', 'connectionCreated', 'sessionConnected']);
    const created = events.slice(0, 3).map((e) => (e as ConnectionEvent).connection.connectionId);
    expect(created).toEqual([a.connection?.connectionId, b.connection?.connectionId, c.connection?.connectionId]);
    const connected = events[3] as SessionConnectEvent;
    expect(connected.connections.map((x) => x.connectionId).sort()).toEqual([...created].sort());
    expect(connected.streams).toEqual([]);
    expect(connected.target).toBe(c);
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  });

  it('dispatches connectionCreated on existing clients once for each newcomer', async () => {
    const sid = name();
    const a = await h.join(sid);
    const seen = record<ConnectionEvent>(a, 'connectionCreated');
    const b = await h.join(sid, { data: 'bee' });
    await until(() => seen.length === 1, 5000, 'connectionCreated for b');
    expect(seen[0]?.connection.connectionId).toBe(b.connection?.connectionId);
    expect(seen[0]?.connection.data).toBe('bee');
    const c = await h.join(sid);
    await until(() => seen.length === 2, 5000, 'connectionCreated for c');
    expect(seen.map((e) => e.connection.connectionId)).toEqual([b.connection?.connectionId, c.connection?.connectionId]);
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  });

  it('event objects have type, target, cancelable, preventDefault and isDefaultPrevented', async () => {
    const s = h.session(name());
    const ev = nextEvent<SessionConnectEvent>(s, 'sessionConnected');
    await s.connect(await h.token(s.sessionId));
    const e = await ev;
    expect(e.type).toBe('sessionConnected');
    expect(e.target).toBe(s);
    expect(e.cancelable).toBe(false);
    e.preventDefault();
    expect(e.isDefaultPrevented()).toBe(false);
    const gone = nextEvent<SessionDisconnectEvent>(s, 'sessionDisconnected');
    await s.disconnect();
    const d = await gone;
    expect(d.cancelable).toBe(true);
    d.preventDefault();
    expect(d.isDefaultPrevented()).toBe(true);
  });

  it('a throwing sessionConnected handler does not break the session', async () => {
    const sid = name();
    const s = h.session(sid);
    const errors: unknown[] = [];
    OT.setLogger({ error: (o) => void errors.push(o), warn: () => {}, info: () => {}, debug: () => {} });
    try {
      s.on('sessionConnected', () => {
        throw new Error('app bug');
      });
      const later = nextEvent(s, 'sessionConnected');
      await s.connect(await h.token(sid));
      await later;
      expect(s.connectionState).toBe('connected');
      const b = await h.join(sid);
      await expect(s.signal({ type: 'x', data: 'still works', to: b.connection })).resolves.toBeUndefined();
      await b.disconnect();
    } finally {
      OT.setLogger(null);
    }
    expect(errors.length).toBeGreaterThan(0);
    await s.disconnect();
  });
});

describe('disconnect and connectionDestroyed', () => {
  it('disconnect() dispatches sessionDisconnected clientDisconnected locally and connectionDestroyed clientDisconnected on others', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const bId = b.connection?.connectionId;
    const destroyed = nextEvent<ConnectionEvent>(a, 'connectionDestroyed');
    const local = nextEvent<SessionDisconnectEvent>(b, 'sessionDisconnected');
    await b.disconnect();
    expect((await local).reason).toBe('clientDisconnected');
    const d = await destroyed;
    expect(d.connection.connectionId).toBe(bId);
    expect(d.reason).toBe('clientDisconnected');
    expect(b.connectionState).toBe('disconnected');
    expect(b.capabilities).toBeUndefined();
    await a.disconnect();
  });

  it('disconnect() while not connected only logs a warning', async () => {
    const s = h.session(name());
    const warnings: unknown[] = [];
    OT.setLogger({ error: () => {}, warn: (o) => void warnings.push(o), info: () => {}, debug: () => {} });
    const events = record(s, 'sessionDisconnected');
    try {
      await s.disconnect();
    } finally {
      OT.setLogger(null);
    }
    expect(warnings).toHaveLength(1);
    expect(events).toHaveLength(0);
  });
});
