import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, record, startHarness, until, type Harness } from '../test-helpers/harness.js';
import type { ConveneError, Session, SignalEvent } from '../index.js';

let h: Harness;
let n = 0;
const name = (): string => `signal-${++n}-${Date.now()}`;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function trio(): Promise<[Session, Session, Session]> {
  const sid = name();
  const a = await h.join(sid);
  const b = await h.join(sid);
  const c = await h.join(sid);
  return [a, b, c];
}

const errorOf = async (p: Promise<void>): Promise<ConveneError | null> =>
  p.then(
    () => null,
    (e: ConveneError) => e,
  );

describe('Session.signal', () => {
  it('sends to everyone (the sender included) with data, type and from', async () => {
    const [a, b, c] = await trio();
    const got = [b, c, a].map((s) => nextEvent<SignalEvent>(s, 'signal'));
    let cbArgs: unknown[] | undefined;
    await a.signal({ type: 'chat', data: 'hello' }, (...args: unknown[]) => (cbArgs = args));
    expect(cbArgs).toEqual([]);
    for (const e of await Promise.all(got)) {
      expect(e.data).toBe('hello');
      expect(e.type).toBe('signal:chat');
      expect(e.signalType).toBe('chat');
      expect(e.from?.connectionId).toBe(a.connection?.connectionId);
    }
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  });

  it('sends to one connection given a Connection or any object with connectionId', async () => {
    const [a, b, c] = await trio();
    const onB = record<SignalEvent>(b, 'signal:dm');
    const onC = record<SignalEvent>(c, 'signal');
    await a.signal({ type: 'dm', data: '1', to: b.connection });
    await a.signal({ type: 'dm', data: '2', to: { connectionId: b.connection!.connectionId } });
    await until(() => onB.length === 2, 5000, 'two signals at b');
    // A broadcast afterwards proves c would have seen the direct ones by now.
    await a.signal({ type: 'all', data: 'x' });
    await until(() => onC.length === 1, 5000, 'broadcast at c');
    expect(onB.map((e) => e.data)).toEqual(['1', '2']);
    expect(onC.map((e) => e.type)).toEqual(['signal:all']);
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  });

  it('dispatches signal:<type> only for that type, and signal for every type', async () => {
    const sid = name();
    const a = await h.join(sid);
    const typed = record<SignalEvent>(a, 'signal:foo');
    const all = record<SignalEvent>(a, 'signal');
    await a.signal({ type: 'bar', data: '1' });
    await a.signal({ type: 'foo', data: '2' });
    await a.signal({ data: '3' });
    await until(() => all.length === 3, 5000, 'three signals');
    expect(typed.map((e) => e.data)).toEqual(['2']);
    expect(all.map((e) => [e.type, e.data])).toEqual([
      ['signal:bar', '1'],
      ['signal:foo', '2'],
      ['signal', '3'],
    ]);
    await a.disconnect();
  });

  it('signals from one sender arrive in the order sent', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const got = record<SignalEvent>(b, 'signal:seq');
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) sends.push(a.signal({ type: 'seq', data: String(i), to: b.connection }));
    await Promise.all(sends);
    await until(() => got.length === 100, 5000, '100 signals');
    expect(got.map((e) => Number(e.data))).toEqual([...Array(100).keys()]);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('a signal without type or data reaches everyone with empty type and data', async () => {
    const sid = name();
    const a = await h.join(sid);
    const ev = nextEvent<SignalEvent>(a, 'signal');
    await a.signal();
    const e = await ev;
    expect(e.type).toBe('signal');
    expect(e.signalType).toBe('');
    expect(e.data).toBe('');
    await a.disconnect();
  });

  it('fails with 400 (callback and promise, no throw) for a type with characters outside A-Za-z0-9-_~', async () => {
    const a = await h.join(name());
    let cbErr: ConveneError | undefined;
    const err = await errorOf(a.signal({ type: 'no spaces', data: 'x' }, (e) => (cbErr = e)));
    expect(err).toMatchObject({ code: 400 });
    expect(cbErr).toBe(err);
    await a.disconnect();
  });

  it('fails with 400 when data is not a string', async () => {
    const a = await h.join(name());
    expect(await errorOf(a.signal({ data: 42 as unknown as string }))).toMatchObject({ code: 400 });
    await a.disconnect();
  });

  it('fails with 400 when `to` is neither a Connection nor an object with a connectionId', async () => {
    const a = await h.join(name());
    expect(await errorOf(a.signal({ data: 'x', to: 'abc' as unknown as { connectionId: string } }))).toMatchObject({ code: 400 });
    expect(await errorOf(a.signal({ data: 'x', to: {} as { connectionId: string } }))).toMatchObject({ code: 400 });
    await a.disconnect();
  });

  it('fails with 413 when data exceeds 8 kB', async () => {
    const a = await h.join(name());
    expect(await errorOf(a.signal({ type: 't', data: 'x'.repeat(8192) }))).toBeNull();
    expect(await errorOf(a.signal({ type: 't', data: 'x'.repeat(8193) }))).toMatchObject({ code: 413 });
    // Multi-byte characters count in UTF-8 bytes: 2731 × 3 bytes > 8192.
    expect(await errorOf(a.signal({ type: 't', data: '€'.repeat(2731) }))).toMatchObject({ code: 413 });
    await a.disconnect();
  });

  it('fails with 413 when the type exceeds 128 characters', async () => {
    const a = await h.join(name());
    expect(await errorOf(a.signal({ type: 'a'.repeat(128) }))).toBeNull();
    expect(await errorOf(a.signal({ type: 'a'.repeat(129) }))).toMatchObject({ code: 413 });
    await a.disconnect();
  });

  it('fails with 404 when `to` has left the session', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const bConn = b.connection!;
    const gone = nextEvent(a, 'connectionDestroyed');
    await b.disconnect();
    await gone;
    expect(await errorOf(a.signal({ data: 'x', to: bConn }))).toMatchObject({ code: 404 });
    await a.disconnect();
  });

  it('fails with 500 when not connected (never connected, and after disconnect)', async () => {
    const s = h.session(name());
    let cbErr: ConveneError | undefined;
    const err = await errorOf(s.signal({ data: 'x' }, (e) => (cbErr = e)));
    expect(err).toMatchObject({ code: 500, name: 'OT_NOT_CONNECTED' });
    expect(cbErr).toBe(err);
    await s.connect(await h.token(s.sessionId));
    await s.disconnect();
    expect(await errorOf(s.signal({ data: 'x' }))).toMatchObject({ code: 500 });
  });

  it('never throws synchronously, even for a non-object signal', () => {
    const s = h.session(name());
    expect(() => void s.signal('nope' as never).catch(() => {})).not.toThrow();
  });
});
