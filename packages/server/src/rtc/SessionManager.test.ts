import { afterEach, describe, expect, it } from 'vitest';
import { LocalRouter } from '../routing/LocalRouter.js';
import { LocalStore } from '../store/LocalStore.js';
import { createRootLogger } from '../util/log.js';
import type { FrameSink } from './Participant.js';
import { SessionManager } from './SessionManager.js';

/** A sink that records frames, standing in for a socket. */
function sink(): FrameSink & { frames: Record<string, unknown>[]; closedWith: number | null } {
  const s = {
    frames: [] as Record<string, unknown>[],
    closedWith: null as number | null,
    send(f: string) {
      s.frames.push(JSON.parse(f) as Record<string, unknown>);
    },
    close(code: number) {
      s.closedWith = code;
    },
  };
  return s;
}

const params = (role: 'host' | 'publisher', extra: Record<string, unknown> = {}) => ({
  role,
  userName: role,
  userIdentity: '',
  data: '',
  sink: sink(),
  ...extra,
});

describe('SessionManager with the store and router interfaces', () => {
  const managers: SessionManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.map((m) => m.close()));
    managers.length = 0;
  });

  function manager(store = new LocalStore(), router = new LocalRouter('node-a')): SessionManager {
    const m = new SessionManager({
      store,
      router,
      log: createRootLogger('silent'),
      resumeWindowMs: 30_000,
      defaultIdleTimeoutMins: 40,
      replayLimits: { maxFrames: 1000, maxBytes: 1 << 20 },
      coalesceAt: 100,
      coalesceIntervalMs: 100,
    });
    managers.push(m);
    return m;
  }

  it('writes the session record and participants through to the store', async () => {
    const store = new LocalStore();
    const m = manager(store);
    const host = await m.join('Store Test', params('host', { passcode: 'pw' }));
    const pub = await m.join('store test', params('publisher', { passcode: 'pw' }));
    host.session.moderate(host.participant, 'lockShare', undefined, undefined);
    host.session.moderate(host.participant, 'makeManager', pub.participant.connectionId, undefined);
    const saved = await store.loadSession('store test');
    expect(saved?.session).toMatchObject({ sessionId: 'store test', passcode: 'pw', hostId: host.participant.connectionId, shareLocked: true, hostRoleJoined: true });
    expect(saved?.participants.map((p) => [p.info.connectionId, p.info.isManager])).toEqual([
      [host.participant.connectionId, false],
      [pub.participant.connectionId, true],
    ]);
    pub.session.leave(pub.participant, 'clientDisconnected');
    expect((await store.loadSession('store test'))?.participants).toHaveLength(1);
  });

  it('deletes the record and releases the session when it ends', async () => {
    const store = new LocalStore();
    const router = new LocalRouter('node-a');
    const m = manager(store, router);
    const a = await m.join('gone', params('publisher'));
    expect(await router.ownerOf('gone')).toBe('node-a');
    a.session.leave(a.participant, 'clientDisconnected');
    expect(await store.loadSession('gone')).toBeNull();
    expect(await router.ownerOf('gone')).toBeNull();
    expect(m.sessionCount).toBe(0);
  });

  it('a node taking a session over from the store keeps its passcode and share lock', async () => {
    const store = new LocalStore();
    await store.createSession({
      sessionId: 'moved',
      createdAt: 123,
      passcode: 'secret',
      hostId: null,
      shareLocked: true,
      forceMuteActive: false,
      idleTimeoutMins: null,
      hostRoleJoined: true,
    });
    const m = manager(store, new LocalRouter('node-b'));
    await expect(m.join('moved', params('publisher'))).rejects.toMatchObject({ name: 'OT_INVALID_PASSCODE' });
    const ok = await m.join('moved', params('publisher', { passcode: 'secret' }));
    expect(ok.session.state).toMatchObject({ createdAt: 123, shareLocked: true, hasPasscode: true });
  });

  it('creates one session for concurrent first joins', async () => {
    const m = manager();
    const joins = await Promise.all([1, 2, 3, 4].map(() => m.join('race', params('publisher'))));
    expect(new Set(joins.map((j) => j.session)).size).toBe(1);
    expect(joins[0]?.session.size).toBe(4);
  });
});
