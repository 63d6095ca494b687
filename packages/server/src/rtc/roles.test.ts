import { capabilitiesFor, type Role } from '@convene/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from '../service/startServer.js';
import { cleanup, join, startTestServer, type Frame, type TestClient } from '../test-helpers/wsClient.js';

describe('roles and moderation', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => cleanup(server, clients));

  async function member(role: Role, userName?: string, claims: Record<string, unknown> = {}) {
    const j = await join(server, 'mod', { role, userName, claims });
    clients.push(j.c);
    return j;
  }

  /** Host, a manager (second host-role joiner), a publisher and a subscriber. */
  async function room() {
    const host = await member('host', 'H');
    const mgr = await member('host', 'M');
    const pub = await member('publisher', 'P');
    const sub = await member('subscriber', 'S');
    return { host: host.c, mgr: mgr.c, pub: pub.c, sub: sub.c, results: { host: host.result, mgr: mgr.result, pub: pub.result, sub: sub.result } };
  }

  async function connections(): Promise<Record<string, unknown>[]> {
    const auth = 'Basic ' + Buffer.from('test_key:test_secret_0123456789').toString('base64');
    const r = await fetch(server.url + '/v1/sessions/mod/connections', { headers: { authorization: auth } });
    return ((await r.json()) as { connections: Record<string, unknown>[] }).connections;
  }

  it('gives each token role the capabilities from capabilitiesFor', async () => {
    const { results } = await room();
    expect(results.host.connection).toMatchObject({ role: 'host', isHost: true, isManager: false });
    expect(results.mgr.connection).toMatchObject({ role: 'host', isHost: false, isManager: true });
    expect(results.host.capabilities).toEqual(capabilitiesFor({ role: 'host', isHost: true, isManager: false }));
    expect(results.mgr.capabilities).toEqual(capabilitiesFor({ role: 'host', isHost: false, isManager: true }));
    expect(results.pub.capabilities).toEqual(capabilitiesFor({ role: 'publisher', isHost: false, isManager: false }));
    expect(results.sub.capabilities).toMatchObject({ canPublish: false, canSubscribe: true, forceDisconnect: 0, publish: 0, subscribe: 1 });
    expect(results.host.capabilities).toMatchObject({ canEndSession: true, canMakeHost: true, forceDisconnect: 1 });
  });

  it('maps role_type 1 to host and 0 to publisher', async () => {
    const h = await member(undefined as unknown as Role, 'x', { role: undefined, role_type: 1 });
    const p = await member(undefined as unknown as Role, 'y', { role: undefined, role_type: 0 });
    expect(h.result.connection).toMatchObject({ role: 'host', isHost: true });
    expect(p.result.connection).toMatchObject({ role: 'publisher', isHost: false });
  });

  it('gives a moderator forceDisconnect and forceUnpublish', async () => {
    const m = await member('moderator');
    expect(m.result.capabilities).toMatchObject({ canForceDisconnect: true, forceDisconnect: 1, forceUnpublish: 1, canForceMute: true, canMakeHost: false });
  });

  describe('rename', () => {
    it('lets the host rename a user; everyone sees connectionUpdated', async () => {
      const { host, pub, sub } = await room();
      const r = await host.request('moderate', { action: 'rename', target: pub.connectionId, userName: 'Renamed' });
      expect(r.type).toBe('ok');
      const u = await sub.next('connectionUpdated');
      expect(u).toMatchObject({ connection: { connectionId: pub.connectionId, userName: 'Renamed' }, changed: ['userName'], by: host.connectionId });
    });

    it('truncates a new name over 200 characters', async () => {
      const { host, pub } = await room();
      await host.request('moderate', { action: 'rename', target: pub.connectionId, userName: 'z'.repeat(300) });
      expect(((await pub.next('connectionUpdated')).connection as Frame).userName).toBe('z'.repeat(200));
    });

    it('lets a manager rename a user', async () => {
      const { mgr, pub } = await room();
      expect((await mgr.request('moderate', { action: 'rename', target: pub.connectionId, userName: 'N' })).type).toBe('ok');
    });

    it('lets anyone rename themselves', async () => {
      const { pub, host } = await room();
      expect((await pub.request('moderate', { action: 'rename', target: pub.connectionId, userName: 'Me' })).type).toBe('ok');
      expect((await host.waitFor((f) => f.type === 'connectionUpdated' && (f.connection as Frame).userName === 'Me')).changed).toEqual(['userName']);
    });

    it('denies a participant renaming someone else and changes nothing', async () => {
      const { pub, sub, host } = await room();
      const r = await pub.request('moderate', { action: 'rename', target: sub.connectionId, userName: 'Hacked' });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED', code: 1520 } });
      await host.expectNone('connectionUpdated');
      expect((await connections()).find((c) => c.connectionId === sub.connectionId)?.userName).toBe('S');
    });
  });

  describe('makeHost', () => {
    it('transfers the host role; the old host becomes a plain participant', async () => {
      const { host, pub, sub } = await room();
      const r = await host.request('moderate', { action: 'makeHost', target: pub.connectionId });
      expect(r.type).toBe('ok');
      expect((await pub.next('capabilities')).capabilities).toMatchObject({ canEndSession: true });
      expect((await host.next('capabilities')).capabilities).toMatchObject({ canEndSession: false, canMakeHost: false });
      const s = await sub.next('sessionUpdated');
      expect(s).toMatchObject({ session: { hostId: pub.connectionId }, changed: ['hostId'] });
      const list = await connections();
      expect(list.find((c) => c.connectionId === pub.connectionId)).toMatchObject({ isHost: true });
      expect(list.find((c) => c.connectionId === host.connectionId)).toMatchObject({ isHost: false, isManager: false });
    });

    it('denies a manager transferring the host role and changes nothing', async () => {
      const { mgr, pub, host } = await room();
      const r = await mgr.request('moderate', { action: 'makeHost', target: pub.connectionId });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED', code: 1520 } });
      await host.expectNone('sessionUpdated');
      expect((await connections()).find((c) => c.isHost)?.connectionId).toBe(host.connectionId);
    });
  });

  describe('managers', () => {
    it('lets the host make and revoke a manager, with capabilities sent to the target', async () => {
      const { host, pub } = await room();
      expect((await host.request('moderate', { action: 'makeManager', target: pub.connectionId })).type).toBe('ok');
      expect((await pub.next('capabilities')).capabilities).toMatchObject({ canRemoveUser: true, canRename: true, canMakeHost: false });
      expect((await host.next('connectionUpdated')).changed).toEqual(['isManager']);
      expect((await host.request('moderate', { action: 'revokeManager', target: pub.connectionId })).type).toBe('ok');
      expect((await pub.next('capabilities')).capabilities).toMatchObject({ canRemoveUser: false, canRename: false });
    });

    it('denies a manager making managers and changes nothing', async () => {
      const { mgr, pub, host } = await room();
      const r = await mgr.request('moderate', { action: 'makeManager', target: pub.connectionId });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED' } });
      await host.expectNone('connectionUpdated');
      await pub.expectNone('capabilities');
    });

    it('denies a participant revoking a manager', async () => {
      const { pub, mgr } = await room();
      const r = await pub.request('moderate', { action: 'revokeManager', target: mgr.connectionId });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED' } });
      expect((await connections()).find((c) => c.connectionId === mgr.connectionId)?.isManager).toBe(true);
    });

    it('answers OT_NOT_FOUND for an unknown target', async () => {
      const { host } = await room();
      const r = await host.request('moderate', { action: 'makeManager', target: 'nobody' });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_NOT_FOUND', code: 404 } });
    });
  });

  describe('share lock', () => {
    it('lets a manager lock and unlock sharing; everyone sees sessionUpdated', async () => {
      const { mgr, sub } = await room();
      expect((await mgr.request('moderate', { action: 'lockShare' })).type).toBe('ok');
      expect(await sub.next('sessionUpdated')).toMatchObject({ session: { shareLocked: true }, changed: ['shareLocked'], by: mgr.connectionId });
      expect((await mgr.request('moderate', { action: 'unlockShare' })).type).toBe('ok');
      expect(await sub.next('sessionUpdated')).toMatchObject({ session: { shareLocked: false } });
    });

    it('denies a participant locking sharing and changes nothing', async () => {
      const { pub, sub } = await room();
      const r = await pub.request('moderate', { action: 'lockShare' });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED', code: 1520 } });
      await sub.expectNone('sessionUpdated');
    });
  });

  describe('mute requests', () => {
    it('sends muteRequest to the target when the host mutes it', async () => {
      const { host, pub, sub } = await room();
      expect((await host.request('moderate', { action: 'muteAudio', target: pub.connectionId })).type).toBe('ok');
      expect(await pub.next('muteRequest')).toMatchObject({ action: 'muteAudio', by: host.connectionId });
      await sub.expectNone('muteRequest');
    });

    it('lets a manager ask for unmute', async () => {
      const { mgr, pub } = await room();
      expect((await mgr.request('moderate', { action: 'requestUnmute', target: pub.connectionId })).type).toBe('ok');
      expect(await pub.next('muteRequest')).toMatchObject({ action: 'requestUnmute', by: mgr.connectionId });
    });

    it('denies a participant muting someone and sends nothing', async () => {
      const { pub, sub } = await room();
      const r = await pub.request('moderate', { action: 'muteAudio', target: sub.connectionId });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED' } });
      await sub.expectNone('muteRequest');
    });
  });

  describe('forceDisconnect', () => {
    it('removes the target: it gets disconnected{forceDisconnected} and 4002, others connectionDestroyed{forceDisconnected}', async () => {
      const { host, pub, sub } = await room();
      expect((await host.request('forceDisconnect', { connectionId: pub.connectionId })).type).toBe('ok');
      expect(await pub.next('disconnected')).toMatchObject({ reason: 'forceDisconnected' });
      expect((await pub.closed).code).toBe(4002);
      for (const x of [host, sub]) expect((await x.next('connectionDestroyed')).connections).toEqual([{ connectionId: pub.connectionId, reason: 'forceDisconnected' }]);
    });

    it('lets a manager and a moderator remove participants', async () => {
      const { mgr, pub, sub } = await room();
      const mod = await member('moderator');
      expect((await mgr.request('forceDisconnect', { connectionId: pub.connectionId })).type).toBe('ok');
      expect((await mod.c.request('forceDisconnect', { connectionId: sub.connectionId })).type).toBe('ok');
    });

    it('denies a publisher with OT_PERMISSION_DENIED code 1530 and changes nothing', async () => {
      const { pub, sub, host } = await room();
      const r = await pub.request('forceDisconnect', { connectionId: sub.connectionId });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED', code: 1530 } });
      await host.expectNone('connectionDestroyed');
      expect(sub.isClosed).toBe(false);
    });

    it('denies a manager removing the host', async () => {
      const { mgr, host } = await room();
      const r = await mgr.request('forceDisconnect', { connectionId: host.connectionId });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED', code: 1530 } });
    });

    it('answers OT_NOT_FOUND for an unknown connection', async () => {
      const { host } = await room();
      const r = await host.request('forceDisconnect', { connectionId: 'gone' });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_NOT_FOUND', code: 404 } });
    });
  });

  describe('host succession', () => {
    it('makes the earliest manager host when the host leaves without ending', async () => {
      const { host, mgr, pub } = await room();
      const mgr2 = await member('host', 'M2');
      await host.request('leave');
      expect((await mgr.next('capabilities')).capabilities).toMatchObject({ canEndSession: true });
      const upd = await pub.waitFor((f) => f.type === 'connectionUpdated');
      expect(upd).toMatchObject({ connection: { connectionId: mgr.connectionId, isHost: true, isManager: false }, changed: ['isHost', 'isManager'] });
      expect((await pub.next('sessionUpdated')).session).toMatchObject({ hostId: mgr.connectionId });
      await mgr2.c.expectNone('capabilities');
    });

    it('leaves the host role empty without managers, and gives it to the next host-role joiner', async () => {
      const host = await member('host');
      const pub = await member('publisher');
      await host.c.request('leave');
      expect((await pub.c.next('sessionUpdated')).session).toMatchObject({ hostId: null });
      const next = await member('host');
      expect(next.result.connection).toMatchObject({ isHost: true, isManager: false });
      expect((await pub.c.next('sessionUpdated')).session).toMatchObject({ hostId: next.c.connectionId });
    });
  });
});
