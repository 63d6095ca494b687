import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, record, startHarness, type Harness } from '../test-helpers/harness.js';
import { OT, type ConnectionEvent, type ConveneError, type ExceptionEvent, type SessionDisconnectEvent } from '../index.js';

let h: Harness;
let n = 0;
const name = (): string => `moderation-${++n}-${Date.now()}`;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('Session.forceDisconnect', () => {
  it('a moderator removes a connection: the target gets sessionDisconnected forceDisconnected, others connectionDestroyed forceDisconnected', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const target = await h.join(sid);
    const watcher = await h.join(sid);
    const targetId = target.connection!.connectionId;
    const gone = nextEvent<SessionDisconnectEvent>(target, 'sessionDisconnected');
    const onWatcher = nextEvent<ConnectionEvent>(watcher, 'connectionDestroyed');
    const onMod = nextEvent<ConnectionEvent>(mod, 'connectionDestroyed');
    let cbArgs: unknown[] | undefined;
    await mod.forceDisconnect(target.connection!, (...args: unknown[]) => (cbArgs = args));
    expect(cbArgs).toEqual([]);
    expect((await gone).reason).toBe('forceDisconnected');
    for (const e of await Promise.all([onWatcher, onMod])) {
      expect(e.connection.connectionId).toBe(targetId);
      expect(e.reason).toBe('forceDisconnected');
    }
    expect(target.connectionState).toBe('disconnected');
    await Promise.all([mod.disconnect(), watcher.disconnect()]);
  });

  it('accepts a connectionId string', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const target = await h.join(sid);
    const gone = nextEvent<SessionDisconnectEvent>(target, 'sessionDisconnected');
    await mod.forceDisconnect(target.connection!.connectionId);
    expect((await gone).reason).toBe('forceDisconnected');
    await mod.disconnect();
  });

  it('a publisher is denied with OT_PERMISSION_DENIED and OT dispatches exception 1530 targeting the session; nobody is removed', async () => {
    const sid = name();
    const pub = await h.join(sid, { role: 'publisher' });
    const other = await h.join(sid);
    const exceptions: ExceptionEvent[] = [];
    const onEx = (e: ExceptionEvent): void => void exceptions.push(e);
    OT.on('exception', onEx);
    const destroyed = record(pub, 'connectionDestroyed');
    let cbErr: ConveneError | undefined;
    const err = await pub.forceDisconnect(other.connection!, (e) => (cbErr = e)).then(
      () => null,
      (e: ConveneError) => e,
    );
    OT.off('exception', onEx);
    expect(err).toMatchObject({ name: 'OT_PERMISSION_DENIED' });
    expect(cbErr).toBe(err);
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]).toMatchObject({ type: 'exception', code: 1530 });
    expect(exceptions[0]?.target).toBe(pub);
    // Still both connected: a signal round trip shows it.
    const back = nextEvent(pub, 'signal:still');
    await other.signal({ type: 'still', to: pub.connection });
    await back;
    expect(other.connectionState).toBe('connected');
    expect(destroyed).toHaveLength(0);
    await Promise.all([pub.disconnect(), other.disconnect()]);
  });

  it('fails with OT_NOT_CONNECTED when not connected, and with an invalid-parameter error for a bad argument', async () => {
    const s = h.session(name());
    await expect(s.forceDisconnect('abc')).rejects.toMatchObject({ name: 'OT_NOT_CONNECTED' });
    await s.connect(await h.token(s.sessionId, { role: 'moderator' }));
    await expect(s.forceDisconnect({} as never)).rejects.toMatchObject({ name: 'OT_INVALID_PARAMETER' });
    await expect(s.forceDisconnect('no-such-connection')).rejects.toMatchObject({ name: 'OT_NOT_FOUND' });
    await s.disconnect();
  });
});
