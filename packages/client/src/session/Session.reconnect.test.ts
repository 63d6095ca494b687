import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, record, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { TcpProxy } from '../test-helpers/TcpProxy.js';
import type { ConnectionEvent, ConveneError, Session, SessionDisconnectEvent, SignalEvent } from '../index.js';

// Short heartbeat and resume window so drops are detected and given up on quickly.
const HEARTBEAT_MS = 200;
const HEARTBEAT_TIMEOUT_MS = 800;
const RESUME_WINDOW_MS = 2500;
const RETRY_MS = 150;

let h: Harness;
let proxy: TcpProxy;
let n = 0;
const name = (): string => `reconnect-${++n}-${Date.now()}`;

beforeAll(async () => {
  h = await startHarness({ heartbeatIntervalMs: HEARTBEAT_MS, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, resumeWindowMs: RESUME_WINDOW_MS });
});
afterAll(async () => {
  await h.close();
});
afterEach(async () => {
  await proxy?.close();
});

/** `a` connects directly; `b` connects through a fresh TCP proxy we can break. */
async function pair(): Promise<{ a: Session; b: Session }> {
  proxy = await TcpProxy.start(h.url);
  const sid = name();
  const a = await h.join(sid);
  const b = h.session(sid, { serverUrl: proxy.url, reconnectRetryMs: RETRY_MS });
  await b.connect(await h.token(sid));
  return { a, b };
}

const errorOf = async (p: Promise<void>): Promise<ConveneError | null> =>
  p.then(
    () => null,
    (e: ConveneError) => e,
  );

describe('reconnection', () => {
  it('a cut TCP connection gives sessionReconnecting then sessionReconnected, with the same connection', async () => {
    const { a, b } = await pair();
    const id = b.connection?.connectionId;
    const events = record(b, 'sessionReconnecting sessionReconnected sessionDisconnected');
    const destroyedOnA = record(a, 'connectionDestroyed');
    const back = nextEvent(b, 'sessionReconnected');
    proxy.cut();
    await back;
    expect(events.map((e) => e.type)).toEqual(['sessionReconnecting', 'sessionReconnected']);
    expect(b.connection?.connectionId).toBe(id);
    expect(b.connectionState).toBe('connected');
    // Still reachable under the same connectionId.
    const got = nextEvent<SignalEvent>(b, 'signal:ping');
    await a.signal({ type: 'ping', data: 'after', to: { connectionId: id! } });
    expect((await got).data).toBe('after');
    expect(destroyedOnA).toHaveLength(0);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('a silent drop (no close, no data) is detected by heartbeat and resumed', async () => {
    const { a, b } = await pair();
    const reconnecting = nextEvent(b, 'sessionReconnecting', () => true, 10_000);
    const back = nextEvent(b, 'sessionReconnected', () => true, 10_000);
    const droppedAt = Date.now();
    proxy.blackhole();
    await reconnecting;
    const detectedIn = Date.now() - droppedAt;
    expect(detectedIn).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS - 50);
    expect(detectedIn).toBeLessThan(10_000);
    await back;
    expect(b.connectionState).toBe('connected');
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('signals sent to a client while it is away arrive exactly once and in order after it resumes', async () => {
    const { a, b } = await pair();
    const got = record<SignalEvent>(b, 'signal:m');
    const bId = b.connection!.connectionId;
    // A few before the drop, some while the old socket is silently dead, more while it cannot reconnect.
    for (let i = 0; i < 5; i++) await a.signal({ type: 'm', data: String(i), to: { connectionId: bId } });
    await until(() => got.length === 5, 5000, 'first five');
    proxy.blackhole();
    for (let i = 5; i < 10; i++) await a.signal({ type: 'm', data: String(i), to: { connectionId: bId } });
    proxy.refuse(true);
    await nextEvent(b, 'sessionReconnecting', () => true, 10_000);
    for (let i = 10; i < 20; i++) await a.signal({ type: 'm', data: String(i), to: { connectionId: bId } });
    const back = nextEvent(b, 'sessionReconnected', () => true, 10_000);
    proxy.refuse(false);
    await back;
    await until(() => got.length >= 20, 5000, 'twenty signals');
    // One more round trip proves nothing further (a duplicate) is on its way.
    const marker = nextEvent<SignalEvent>(b, 'signal:end');
    await a.signal({ type: 'end', to: { connectionId: bId } });
    await marker;
    expect(got.map((e) => Number(e.data))).toEqual([...Array(20).keys()]);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it("the client's own signals made while away are sent once it is back, exactly once and in order", async () => {
    const { a, b } = await pair();
    const got = record<SignalEvent>(a, 'signal:mine');
    proxy.refuse(true);
    const reconnecting = nextEvent(b, 'sessionReconnecting');
    proxy.cut();
    await reconnecting;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) sends.push(b.signal({ type: 'mine', data: String(i) }));
    const settled = Promise.allSettled(sends);
    proxy.refuse(false);
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    await until(() => got.length >= 5, 5000, 'five signals at a');
    const marker = nextEvent<SignalEvent>(a, 'signal:end');
    await b.signal({ type: 'end' });
    await marker;
    expect(got.map((e) => e.data)).toEqual(['0', '1', '2', '3', '4']);
    expect(got.every((e) => e.from?.connectionId === b.connection?.connectionId)).toBe(true);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('with retryAfterReconnect: false a signal made while away fails with 500 and is never sent', async () => {
    const { a, b } = await pair();
    const got = record<SignalEvent>(a, 'signal');
    proxy.refuse(true);
    const reconnecting = nextEvent(b, 'sessionReconnecting');
    proxy.cut();
    await reconnecting;
    let cbErr: ConveneError | undefined;
    const err = await errorOf(b.signal({ type: 'lost', data: 'x', retryAfterReconnect: false }, (e) => (cbErr = e)));
    expect(err).toMatchObject({ code: 500, name: 'OT_NOT_CONNECTED' });
    expect(cbErr).toBe(err);
    const back = nextEvent(b, 'sessionReconnected', () => true, 10_000);
    proxy.refuse(false);
    await back;
    const marker = nextEvent<SignalEvent>(a, 'signal:end');
    await b.signal({ type: 'end' });
    await marker;
    expect(got.map((e) => e.type)).toEqual(['signal:end']);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('a signal written to a silently dead socket is resent after resume and delivered once', async () => {
    const { a, b } = await pair();
    const got = record<SignalEvent>(a, 'signal:lost-in-transit');
    proxy.blackhole();
    const sent = b.signal({ type: 'lost-in-transit', data: 'once' });
    await nextEvent(b, 'sessionReconnected', () => true, 10_000);
    await sent;
    const marker = nextEvent<SignalEvent>(a, 'signal:end');
    await b.signal({ type: 'end' });
    await marker;
    expect(got.map((e) => e.data)).toEqual(['once']);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('a signal the server processed but whose answer was lost is not sent twice', async () => {
    const { a, b } = await pair();
    const got = record<SignalEvent>(a, 'signal:answer-lost');
    // Client-to-server still flows; nothing comes back, so the answer is lost and the client resumes.
    proxy.blackhole('down');
    const sent = b.signal({ type: 'answer-lost', data: 'once' });
    await until(() => got.length === 1, 5000, 'signal processed by the server');
    await nextEvent(b, 'sessionReconnected', () => true, 10_000);
    await sent;
    const marker = nextEvent<SignalEvent>(a, 'signal:end');
    await b.signal({ type: 'end' });
    await marker;
    expect(got.map((e) => e.data)).toEqual(['once']);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('a client that cannot come back gets sessionDisconnected networkDisconnected; the others get connectionDestroyed networkDisconnected', async () => {
    const { a, b } = await pair();
    const bId = b.connection?.connectionId;
    const destroyed = nextEvent<ConnectionEvent>(a, 'connectionDestroyed', () => true, RESUME_WINDOW_MS + 5000);
    const gone = nextEvent<SessionDisconnectEvent>(b, 'sessionDisconnected', () => true, RESUME_WINDOW_MS + 5000);
    const events = record(b, 'sessionReconnecting sessionReconnected sessionDisconnected');
    proxy.refuse(true);
    proxy.cut();
    const startedAt = Date.now();
    expect((await gone).reason).toBe('networkDisconnected');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(RESUME_WINDOW_MS - 100);
    expect(events.map((e) => e.type)).toEqual(['sessionReconnecting', 'sessionDisconnected']);
    expect(b.connectionState).toBe('disconnected');
    const d = await destroyed;
    expect(d.connection.connectionId).toBe(bId);
    expect(d.reason).toBe('networkDisconnected');
    // Signals made after giving up fail as not connected.
    expect(await errorOf(b.signal({ data: 'x' }))).toMatchObject({ code: 500 });
    await a.disconnect();
  });

  it('disconnect() while reconnecting stops retrying and dispatches sessionDisconnected clientDisconnected', async () => {
    const { a, b } = await pair();
    proxy.refuse(true);
    const reconnecting = nextEvent(b, 'sessionReconnecting');
    proxy.cut();
    await reconnecting;
    const gone = nextEvent<SessionDisconnectEvent>(b, 'sessionDisconnected');
    await b.disconnect();
    expect((await gone).reason).toBe('clientDisconnected');
    const before = proxy.liveConnections;
    proxy.refuse(false);
    await new Promise((r) => setTimeout(r, RETRY_MS * 3));
    expect(proxy.liveConnections).toBe(before);
    await a.disconnect();
  });
});
