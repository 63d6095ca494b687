import { afterEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from '../service/startServer.js';
import { cleanup, join, startTestServer, TestClient, token } from '../test-helpers/wsClient.js';

describe('sessions', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  async function connect(sessionId: string, fields: Record<string, unknown> = {}, claims: Record<string, unknown> = {}) {
    const c = await TestClient.open(server);
    clients.push(c);
    const r = await c.request('connect', { sessionId, token: token(sessionId, claims), ...fields });
    return { c, r };
  }

  describe('names', () => {
    it('accepts a 150-character session name with spaces and symbols, stored lower-case', async () => {
      server = await startTestServer();
      const name = ('A b!@#$%^&*()' + 'x'.repeat(150)).slice(0, 150);
      const { r } = await connect(name);
      expect(r.type).toBe('ok');
      expect((r.result as { session: { sessionId: string } }).session.sessionId).toBe(name.toLowerCase());
    });

    it('rejects a 151-character session name', async () => {
      server = await startTestServer();
      const { r } = await connect('x'.repeat(151));
      expect(r.type).toBe('error');
      expect((r.error as { message: string }).message).toMatch(/150/);
    });

    it('puts names differing only in case in the same session', async () => {
      server = await startTestServer();
      const a = await join(server, 'Team Sync');
      const b = await join(server, 'TEAM SYNC');
      clients.push(a.c, b.c);
      expect(b.result.connections.map((x) => x.connectionId)).toEqual([a.c.connectionId]);
      expect((await a.c.next('connectionCreated')).connections).toMatchObject([{ connectionId: b.c.connectionId }]);
    });

    it('truncates a display name longer than 200 characters without error', async () => {
      server = await startTestServer();
      const { c, result } = await join(server, 'names', { userName: 'n'.repeat(250) });
      clients.push(c);
      expect(result.connection.userName).toBe('n'.repeat(200));
    });

    it('uses the token user_name when connect gives none, and "null" when neither does', async () => {
      server = await startTestServer();
      const a = await join(server, 'names', { claims: { user_name: 'Ada' } });
      const b = await join(server, 'names');
      clients.push(a.c, b.c);
      expect(a.result.connection.userName).toBe('Ada');
      expect(b.result.connection.userName).toBe('null');
    });
  });

  describe('passcode', () => {
    it('requires the passcode set by the creator from every later joiner', async () => {
      server = await startTestServer();
      const host = await join(server, 'locked', { role: 'host', passcode: 'p@ss 1' });
      clients.push(host.c);
      expect(host.result.session.hasPasscode).toBe(true);
      const ok = await connect('locked', { passcode: 'p@ss 1' });
      expect(ok.r.type).toBe('ok');
    });

    it('refuses a missing passcode with OT_INVALID_PASSCODE and leaks nothing', async () => {
      server = await startTestServer();
      const host = await join(server, 'locked', { role: 'host', passcode: 'secret', userName: 'Host Person' });
      clients.push(host.c);
      const { r } = await connect('locked');
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PASSCODE', code: 1004 } });
      const msg = JSON.stringify(r);
      expect(msg).not.toContain('Host Person');
      expect(msg).not.toContain(host.c.connectionId);
      expect(r.result).toBeUndefined();
    });

    it('refuses a wrong passcode with the same message as a missing one', async () => {
      server = await startTestServer();
      clients.push((await join(server, 'locked', { passcode: 'secret' })).c);
      const missing = await connect('locked');
      const wrong = await connect('locked', { passcode: 'Secret' });
      expect(wrong.r).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PASSCODE' } });
      expect(wrong.r.error).toEqual(missing.r.error);
    });

    it('lets a refused joiner retry with the right passcode on the same socket', async () => {
      server = await startTestServer();
      clients.push((await join(server, 'locked', { passcode: 'secret' })).c);
      const { c, r } = await connect('locked', { passcode: 'nope' });
      expect(r.type).toBe('error');
      const again = await c.request('connect', { sessionId: 'locked', token: token('locked'), passcode: 'secret' });
      expect(again.type).toBe('ok');
    });

    it('refuses a passcode longer than 10 characters when creating a session', async () => {
      server = await startTestServer();
      const { r } = await connect('p', { passcode: '12345678901' });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PASSCODE' } });
      // the refused creator left no session behind
      const next = await connect('p');
      expect((next.r.result as { session: { hasPasscode: boolean } }).session.hasPasscode).toBe(false);
    });

    it('lets the first host-role joiner set the passcode when the creator did not', async () => {
      server = await startTestServer();
      const first = await join(server, 'later');
      clients.push(first.c);
      const host = await join(server, 'later', { role: 'host', passcode: 'hostpw' });
      clients.push(host.c);
      expect(host.result.session.hasPasscode).toBe(true);
      expect((await first.c.next('sessionUpdated')).session).toMatchObject({ hasPasscode: true });
      expect((await connect('later')).r.type).toBe('error');
    });

    it('ignores a passcode from a non-host joiner of an open session', async () => {
      server = await startTestServer();
      clients.push((await join(server, 'open')).c);
      const b = await join(server, 'open', { passcode: 'mine' });
      clients.push(b.c);
      expect(b.result.session.hasPasscode).toBe(false);
    });
  });

  describe('lifecycle', () => {
    it('ends the session when the last connection leaves', async () => {
      server = await startTestServer();
      const a = await join(server, 'short', { passcode: 'pw' });
      clients.push(a.c);
      expect((await a.c.request('leave')).result).toEqual({ ended: false });
      expect((await a.c.closed).code).toBe(1000);
      // a fresh session of the same name has no passcode
      const b = await join(server, 'short');
      clients.push(b.c);
      expect(b.result.session.hasPasscode).toBe(false);
    });

    it('tells others clientDisconnected when someone leaves', async () => {
      server = await startTestServer();
      const a = await join(server, 's');
      const b = await join(server, 's');
      clients.push(a.c, b.c);
      await b.c.request('leave');
      expect((await a.c.next('connectionDestroyed')).connections).toEqual([{ connectionId: b.c.connectionId, reason: 'clientDisconnected' }]);
    });

    it('leave{end:true} by the host ends the session for everyone with sessionEnded', async () => {
      server = await startTestServer();
      const host = await join(server, 'end', { role: 'host' });
      const a = await join(server, 'end');
      const b = await join(server, 'end');
      clients.push(host.c, a.c, b.c);
      const r = await host.c.request('leave', { end: true });
      expect(r.result).toEqual({ ended: true });
      for (const x of [a.c, b.c]) {
        expect(await x.next('disconnected')).toMatchObject({ reason: 'sessionEnded' });
        expect((await x.closed).code).toBe(4002);
      }
      expect((await host.c.closed).code).toBe(1000);
      const res = await fetch(server.url + '/healthz');
      expect(await res.json()).toMatchObject({ sessions: 0, connections: 0 });
    });

    it('leave{end:true} by a non-host only leaves', async () => {
      server = await startTestServer();
      const host = await join(server, 'end', { role: 'host' });
      const a = await join(server, 'end');
      clients.push(host.c, a.c);
      expect((await a.c.request('leave', { end: true })).result).toEqual({ ended: false });
      expect((await host.c.next('connectionDestroyed')).connections).toEqual([{ connectionId: a.c.connectionId, reason: 'clientDisconnected' }]);
      await host.c.expectNone('disconnected');
    });

    it('connect answers with the existing connections and the session state', async () => {
      server = await startTestServer();
      const a = await join(server, 'x', { role: 'host', userName: 'A' });
      const b = await join(server, 'x', { userName: 'B' });
      clients.push(a.c, b.c);
      expect(b.result.connections).toEqual([a.result.connection]);
      expect(b.result.session).toMatchObject({ sessionId: 'x', hostId: a.c.connectionId, shareLocked: false, hasPasscode: false });
      expect(b.result).toMatchObject({ heartbeatIntervalMs: 2500, heartbeatTimeoutMs: 7500, resumeWindowMs: 60000 });
      const created = await a.c.next('connectionCreated');
      expect(created.connections).toEqual([b.result.connection]);
      // a joiner gets no connectionCreated for itself
      await b.c.expectNone('connectionCreated');
    });
  });

  describe('the connection list a joiner gets', () => {
    it('reflects renames, standing changes and leaves that happened before the join', async () => {
      server = await startTestServer();
      const host = await join(server, 'list', { role: 'host', userName: 'H' });
      const a = await join(server, 'list', { userName: 'A' });
      const b = await join(server, 'list', { userName: 'B' });
      clients.push(host.c, a.c, b.c);
      await host.c.request('moderate', { action: 'rename', target: a.c.connectionId, userName: 'A2' });
      await host.c.request('moderate', { action: 'makeManager', target: a.c.connectionId });
      await b.c.request('leave');
      const d = await join(server, 'list', { userName: 'D' });
      clients.push(d.c);
      expect(d.result.connections.map((x) => [x.userName, x.isManager])).toEqual([
        ['H', false],
        ['A2', true],
      ]);
      const e = await join(server, 'list', { userName: 'E' });
      clients.push(e.c);
      expect(e.result.connections.map((x) => x.userName)).toEqual(['H', 'A2', 'D']);
    });
  });

  describe('idle timeout', () => {
    it('ends the session when the host is alone for its idleTimeoutMins, telling it idleTimeout', async () => {
      server = await startTestServer();
      const host = await join(server, 'idle', { role: 'host', idleTimeoutMins: 0.005 });
      clients.push(host.c);
      expect(await host.c.next('disconnected', 3000)).toMatchObject({ reason: 'idleTimeout' });
      expect((await host.c.closed).code).toBe(4002);
    });

    it('uses the server-wide sessionIdleTimeoutMins when the host gives none', async () => {
      server = await startTestServer({ sessionIdleTimeoutMins: 0.004 });
      const host = await join(server, 'idle', { role: 'host' });
      clients.push(host.c);
      expect(await host.c.next('disconnected', 3000)).toMatchObject({ reason: 'idleTimeout' });
    });

    it('does not time out while someone else is in the session', async () => {
      server = await startTestServer({ sessionIdleTimeoutMins: 0.003 });
      const host = await join(server, 'idle', { role: 'host' });
      const other = await join(server, 'idle');
      clients.push(host.c, other.c);
      await new Promise((r) => setTimeout(r, 400));
      await host.c.expectNone('disconnected');
      // when the other leaves, the host is alone again and the timer starts
      await other.c.request('leave');
      expect(await host.c.next('disconnected', 3000)).toMatchObject({ reason: 'idleTimeout' });
    });

    it('rejects an invalid idleTimeoutMins', async () => {
      server = await startTestServer();
      const { r } = await connect('idle', { idleTimeoutMins: -1 }, { role: 'host' });
      expect(r).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PARAMETER' } });
    });
  });
});
