import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, until, type Harness } from '../test-helpers/harness.js';
import { OT, createClient, destroyClient, type ConnectionChange, type Participant, type ParticipantUpdate, type RemovedParticipant, type VideoClient } from '../index.js';

let h: Harness;
let n = 0;
const topic = (): string => `Facade Topic ${++n} ${Date.now()}`;
const clients: VideoClient[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => destroyClient(c)));
});
afterAll(async () => {
  await h.close();
});

/** A client, init'ed against the test server, with its events recorded. */
async function client(): Promise<{
  c: VideoClient;
  added: Participant[][];
  removed: RemovedParticipant[][];
  updated: ParticipantUpdate[][];
  changes: ConnectionChange[];
}> {
  const c = createClient();
  clients.push(c);
  const rec = { c, added: [] as Participant[][], removed: [] as RemovedParticipant[][], updated: [] as ParticipantUpdate[][], changes: [] as ConnectionChange[] };
  c.on('user-added', (u) => rec.added.push(u));
  c.on('user-removed', (u) => rec.removed.push(u));
  c.on('user-updated', (u) => rec.updated.push(u));
  c.on('connection-change', (s) => rec.changes.push(s));
  await c.init('en-US', 'Global', { serverUrl: h.url });
  return rec;
}

const hostToken = (t: string): Promise<string> => h.token(t, { roleType: 1, role: undefined });
const userToken = (t: string): Promise<string> => h.token(t, { role: 'publisher' });

describe('init and join', () => {
  it('join() before init() resolves rejects with a clear error and does not throw', async () => {
    const c = createClient();
    clients.push(c);
    let thrown = false;
    let p: Promise<void> | undefined;
    try {
      p = c.join(topic(), 'token', 'Ada');
    } catch {
      thrown = true;
    }
    expect(thrown).toBe(false);
    await expect(p).rejects.toMatchObject({ name: 'OT_INVALID_STATE', message: expect.stringMatching(/init\(\)/) });
  });

  it('init() without a serverUrl rejects in Node (there is no page origin to default to)', async () => {
    const c = createClient();
    clients.push(c);
    await expect(c.init('en-US', 'Global')).rejects.toMatchObject({ name: 'OT_INVALID_PARAMETER' });
  });

  it('join() after init() connects and emits connection-change Connected', async () => {
    const { c, changes } = await client();
    const t = topic();
    await c.join(t, await hostToken(t), 'Ada');
    expect(changes).toEqual([{ state: 'Connected' }]);
    const me = c.getCurrentUserInfo();
    expect(me).toMatchObject({ displayName: 'Ada', isHost: true, isManager: false, role: 'host' });
    expect(c.getSessionInfo()).toMatchObject({ topic: t, sessionId: t.toLowerCase(), userId: me?.userId, isInMeeting: true, hostId: me?.userId });
  });

  it('a wrong passcode rejects; a retry with the right one on the same client succeeds', async () => {
    const t = topic();
    const host = await client();
    await host.c.join(t, await hostToken(t), 'Host', 'pa55');
    expect(host.c.getSessionInfo().hasPasscode).toBe(true);
    const guest = await client();
    await expect(guest.c.join(t, await userToken(t), 'Guest', 'wrong')).rejects.toMatchObject({ name: 'OT_INVALID_PASSCODE' });
    await expect(guest.c.join(t, await userToken(t), 'Guest')).rejects.toMatchObject({ name: 'OT_INVALID_PASSCODE' });
    await guest.c.join(t, await userToken(t), 'Guest', 'pa55');
    expect(guest.c.getAllUser().map((u) => u.displayName)).toEqual(['Host', 'Guest']);
    expect(guest.changes).toEqual([{ state: 'Connected' }]);
  });

  it('join() rejects a passcode longer than 10 characters without contacting the server', async () => {
    const { c } = await client();
    const t = topic();
    await expect(c.join(t, await hostToken(t), 'Ada', '12345678901')).rejects.toMatchObject({ name: 'OT_INVALID_PARAMETER' });
  });

  it('a bad token rejects join() with OT_AUTHENTICATION_ERROR, and the client can join afterwards', async () => {
    const { c } = await client();
    const t = topic();
    await expect(c.join(t, 'not.a.jwt', 'Ada')).rejects.toMatchObject({ name: 'OT_AUTHENTICATION_ERROR' });
    await c.join(t, await userToken(t), 'Ada');
    expect(c.getCurrentUserInfo()?.displayName).toBe('Ada');
  });
});

describe('users and roles', () => {
  it('the first host-role user is host, a later host-role user is manager, a publisher is a participant', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await hostToken(t), 'B');
    const c = await client();
    await c.c.join(t, await userToken(t), 'C');
    expect(a.c.isHost()).toBe(true);
    expect(b.c.isHost()).toBe(false);
    expect(b.c.isManager()).toBe(true);
    expect(c.c.isHost() || c.c.isManager()).toBe(false);
    const all = c.c.getAllUser();
    expect(all.map((u) => [u.displayName, u.isHost, u.isManager])).toEqual([
      ['A', true, false],
      ['B', false, true],
      ['C', false, false],
    ]);
    expect(all.every((u) => typeof u.userId === 'string' && u.userId.length > 0)).toBe(true);
  });

  it('user-added reports the users already there on join and each newcomer, never yourself', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    await until(() => a.added.length === 1, 5000, 'A sees B');
    expect(a.added[0]?.map((u) => u.displayName)).toEqual(['B']);
    expect(b.added.flat().map((u) => u.displayName)).toEqual(['A']);
  });

  it('makeHost transfers the host role; everyone gets user-updated', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    const bId = b.c.getCurrentUserInfo()!.userId;
    await a.c.makeHost(bId);
    await until(() => b.c.isHost(), 5000, 'B is host');
    await until(() => !a.c.isHost(), 5000, 'A is no longer host');
    const aId = a.c.getCurrentUserInfo()!.userId;
    expect(b.updated.flat()).toEqual(expect.arrayContaining([{ userId: bId, isHost: true }, { userId: aId, isHost: false }]));
    expect(b.c.getSessionInfo().hostId).toBe(bId);
    // The old host lost the privilege.
    await expect(a.c.makeHost(aId)).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
  });

  it('makeManager and revokeManager change isManager with user-updated; a participant may not', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    const bId = b.c.getCurrentUserInfo()!.userId;
    const aId = a.c.getCurrentUserInfo()!.userId;
    await expect(b.c.makeManager(bId)).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
    await a.c.makeManager(bId);
    await until(() => b.c.isManager(), 5000, 'B is manager');
    expect(b.updated.flat()).toContainEqual({ userId: bId, isManager: true });
    // A manager still may not make managers.
    await expect(b.c.makeManager(aId)).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
    await a.c.revokeManager(bId);
    await until(() => !b.c.isManager(), 5000, 'B is no longer manager');
    await until(() => a.updated.flat().some((u) => u.userId === bId && u.isManager === false), 5000, 'A sees the revoke');
  });

  it('changeName renames yourself for everyone; the host may rename others, a participant may not', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    const aId = a.c.getCurrentUserInfo()!.userId;
    const bId = b.c.getCurrentUserInfo()!.userId;
    await b.c.changeName('Bee');
    await until(() => a.updated.flat().some((u) => u.userId === bId && u.displayName === 'Bee'), 5000, 'A sees Bee');
    expect(b.c.getCurrentUserInfo()?.displayName).toBe('Bee');
    await a.c.changeName('Bea', bId);
    await until(() => b.c.getCurrentUserInfo()?.displayName === 'Bea', 5000, 'B renamed by host');
    await expect(b.c.changeName('X', aId)).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
    expect(a.c.getCurrentUserInfo()?.displayName).toBe('A');
  });

  it('removeUser by the host: the user gets connection-change Closed kicked, others user-removed forceDisconnected', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    const c = await client();
    await c.c.join(t, await userToken(t), 'C');
    const bId = b.c.getCurrentUserInfo()!.userId;
    await a.c.removeUser(bId);
    await until(() => b.changes.length === 2, 5000, 'B closed');
    expect(b.changes[1]).toEqual({ state: 'Closed', reason: 'kicked' });
    await until(() => c.removed.length === 1, 5000, 'C sees the removal');
    expect(c.removed[0]?.[0]).toMatchObject({ userId: bId, displayName: 'B', reason: 'forceDisconnected' });
    expect(c.c.getAllUser().map((u) => u.displayName)).toEqual(['A', 'C']);
    // A participant may not remove anyone.
    await expect(c.c.removeUser(a.c.getCurrentUserInfo()!.userId)).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
  });
});

describe('leave', () => {
  it('leave(true) by the host ends the session: everyone else gets connection-change Closed sessionEnded', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    const c = await client();
    await c.c.join(t, await userToken(t), 'C');
    await a.c.leave(true);
    await until(() => b.changes.length === 2 && c.changes.length === 2, 5000, 'B and C closed');
    expect(b.changes[1]).toEqual({ state: 'Closed', reason: 'sessionEnded' });
    expect(c.changes[1]).toEqual({ state: 'Closed', reason: 'sessionEnded' });
    expect(a.changes[1]).toEqual({ state: 'Closed', reason: 'sessionEnded' });
    expect(b.c.getSessionInfo().isInMeeting).toBe(false);
  });

  it('leave(true) by a non-host just leaves; the others stay', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A');
    const b = await client();
    await b.c.join(t, await userToken(t), 'B');
    const bId = b.c.getCurrentUserInfo()!.userId;
    await b.c.leave(true);
    expect(b.changes[1]).toEqual({ state: 'Closed', reason: 'clientDisconnected' });
    await until(() => a.removed.length === 1, 5000, 'A sees B leave');
    expect(a.removed[0]?.[0]).toMatchObject({ userId: bId, reason: 'clientDisconnected' });
    expect(a.changes).toEqual([{ state: 'Connected' }]);
    expect(a.c.getAllUser().map((u) => u.displayName)).toEqual(['A']);
  });

  it('leave() when not in a session rejects without throwing', async () => {
    const { c } = await client();
    await expect(c.leave()).rejects.toMatchObject({ name: 'OT_INVALID_STATE' });
  });

  it('the same client can join again after leaving', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await userToken(t), 'A');
    await a.c.leave();
    await a.c.join(t, await userToken(t), 'A2');
    expect(a.c.getCurrentUserInfo()?.displayName).toBe('A2');
    expect(a.changes.map((x) => x.state)).toEqual(['Connected', 'Closed', 'Connected']);
  });

  it('a host left alone past idleTimeoutMins gets connection-change Closed idleTimeout', async () => {
    const t = topic();
    const a = await client();
    await a.c.join(t, await hostToken(t), 'A', undefined, { idleTimeoutMins: 0.01 });
    await until(() => a.changes.length === 2, 5000, 'idle timeout');
    expect(a.changes[1]).toEqual({ state: 'Closed', reason: 'idleTimeout' });
  });
});

describe('listeners', () => {
  it('a throwing user-added listener does not stop other listeners or the client', async () => {
    const logged: unknown[] = [];
    OT.setLogger({ error: (o) => void logged.push(o), warn: () => {}, info: () => {}, debug: () => {} });
    try {
      const t = topic();
      const a = await client();
      a.c.on('user-added', () => {
        throw new Error('app bug');
      });
      await a.c.join(t, await hostToken(t), 'A');
      const b = await client();
      await b.c.join(t, await userToken(t), 'B');
      await until(() => a.added.length === 1, 5000, 'A sees B despite the throwing listener');
      expect(a.c.getAllUser().map((u) => u.displayName)).toEqual(['A', 'B']);
      expect(logged).toHaveLength(1);
    } finally {
      OT.setLogger(null);
    }
  });
});
