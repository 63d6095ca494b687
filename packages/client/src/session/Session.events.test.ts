import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, record, startHarness, until, type Harness } from '../test-helpers/harness.js';
import {
  OT,
  Session,
  initSession,
  type CapabilitiesChangedEvent,
  type MuteRequestedEvent,
  type ConnectionPropertyChangedEvent,
  type SessionDisconnectEvent,
  type SessionPropertyChangedEvent,
} from '../index.js';
import { kInternal } from './Session.js';

let h: Harness;
let n = 0;
const name = (): string => `events-${++n}-${Date.now()}`;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('OT and initSession', () => {
  it('OT.initSession and initSession return a disconnected Session with sessionId set', () => {
    const a = OT.initSession('key', 'room-1', { serverUrl: h.url });
    const b = initSession('key', 'room-2', { serverUrl: h.url });
    expect(a).toBeInstanceOf(Session);
    expect(a.sessionId).toBe('room-1');
    expect(b.sessionId).toBe('room-2');
    expect(a.connection).toBeUndefined();
    expect(a.capabilities).toBeUndefined();
    expect(a.connectionState).toBe('disconnected');
  });

  it('initSession throws TypeError for a missing session id', () => {
    expect(() => initSession('key', '' as string)).toThrow(TypeError);
  });

  it('connect() without any serverUrl in Node fails with OT_INVALID_PARAMETER instead of throwing', async () => {
    const s = initSession('key', 'nowhere');
    await expect(s.connect('token')).rejects.toMatchObject({ name: 'OT_INVALID_PARAMETER' });
  });

  it('OT.setLogLevel accepts names and the OT.* numbers; the plugged logger receives lines at or above the level', async () => {
    const lines: string[] = [];
    const logger = {
      error: (_: object, m?: string) => void lines.push(`error ${m}`),
      warn: (_: object, m?: string) => void lines.push(`warn ${m}`),
      info: (_: object, m?: string) => void lines.push(`info ${m}`),
      debug: (_: object, m?: string) => void lines.push(`debug ${m}`),
    };
    OT.setLogger(logger);
    try {
      OT.setLogLevel(OT.NONE);
      await initSession('k', 'x').disconnect();
      expect(lines).toEqual([]);
      OT.setLogLevel('warn');
      await initSession('k', 'x').disconnect();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warn /);
    } finally {
      OT.setLogLevel(OT.WARN);
      OT.setLogger(null);
    }
  });
});

describe('standing and session state events', () => {
  it('connectionPropertyChanged reports a rename on every client, with old and new values', async () => {
    const sid = name();
    const a = await h.join(sid, { userName: 'Ann' });
    const b = await h.join(sid, { userName: 'Bob' });
    const onA = nextEvent<ConnectionPropertyChangedEvent>(a, 'connectionPropertyChanged');
    const onB = nextEvent<ConnectionPropertyChangedEvent>(b, 'connectionPropertyChanged');
    await b[kInternal].request({ type: 'moderate', action: 'rename', target: b.connection!.connectionId, userName: 'Robert' });
    for (const e of await Promise.all([onA, onB])) {
      expect(e.connection.connectionId).toBe(b.connection!.connectionId);
      expect(e).toMatchObject({ changedProperty: 'userName', oldValue: 'Bob', newValue: 'Robert' });
    }
    expect(b.connection!.userName).toBe('Robert');
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it('making a manager updates isManager, capabilities (capabilitiesChanged) on the target', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    expect(host.connection!.isHost).toBe(true);
    expect(p.capabilities!.canForceDisconnect).toBe(false);
    const caps = nextEvent<CapabilitiesChangedEvent>(p, 'capabilitiesChanged');
    const changed = nextEvent<ConnectionPropertyChangedEvent>(host, 'connectionPropertyChanged');
    await host[kInternal].request({ type: 'moderate', action: 'makeManager', target: p.connection!.connectionId });
    expect((await caps).capabilities.canForceDisconnect).toBe(true);
    expect(p.capabilities!.canForceDisconnect).toBe(true);
    expect(await changed).toMatchObject({ changedProperty: 'isManager', oldValue: false, newValue: true, by: host.connection!.connectionId });
    await Promise.all([host.disconnect(), p.disconnect()]);
  });

  it('sessionPropertyChanged reports shareLocked when the host locks screen sharing', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    const ev = nextEvent<SessionPropertyChangedEvent>(p, 'sessionPropertyChanged', (e) => e.changedProperty === 'shareLocked');
    await host[kInternal].request({ type: 'moderate', action: 'lockShare' });
    expect(await ev).toMatchObject({ changedProperty: 'shareLocked', oldValue: false, newValue: true });
    expect(p[kInternal].sessionState?.shareLocked).toBe(true);
    await Promise.all([host.disconnect(), p.disconnect()]);
  });

  it('a denied moderation action fails with OT_PERMISSION_DENIED and changes nothing', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    const changes = record(host, 'connectionPropertyChanged sessionPropertyChanged');
    await expect(p[kInternal].request({ type: 'moderate', action: 'makeHost', target: p.connection!.connectionId })).rejects.toMatchObject({
      name: 'OT_PERMISSION_DENIED',
    });
    await expect(p[kInternal].request({ type: 'moderate', action: 'lockShare' })).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
    const marker = nextEvent(host, 'signal:end');
    await p.signal({ type: 'end', to: host.connection });
    await marker;
    expect(changes).toHaveLength(0);
    expect(host.connection!.isHost).toBe(true);
    await Promise.all([host.disconnect(), p.disconnect()]);
  });

  it('endSession() by the host gives sessionDisconnected sessionEnded on every client', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    const onP = nextEvent<SessionDisconnectEvent>(p, 'sessionDisconnected');
    const onHost = nextEvent<SessionDisconnectEvent>(host, 'sessionDisconnected');
    await host.endSession();
    expect((await onP).reason).toBe('sessionEnded');
    expect((await onHost).reason).toBe('sessionEnded');
  });

  it('endSession() by a non-host rejects with OT_PERMISSION_DENIED and stays connected', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    await expect(p.endSession()).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
    expect(p.connectionState).toBe('connected');
    await Promise.all([host.disconnect(), p.disconnect()]);
  });

  it('when the host leaves, the next host-role connection is promoted and everyone sees it', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const second = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    expect(second.connection!.isManager).toBe(true);
    await host.disconnect();
    await until(() => p[kInternal].connections().find((c) => c.connectionId === second.connection!.connectionId)?.isHost === true, 5000, 'promotion');
    await until(() => second.connection!.isHost, 5000, 'second sees itself as host');
    await Promise.all([second.disconnect(), p.disconnect()]);
  });
  it('muteRequested reaches only the target when a host asks it to mute', async () => {
    const sid = name();
    const host = await h.join(sid, { role: 'host' });
    const p = await h.join(sid);
    const other = await h.join(sid);
    const onOther = record(other, 'muteRequested');
    const ev = nextEvent<MuteRequestedEvent>(p, 'muteRequested');
    await host[kInternal].request({ type: 'moderate', action: 'muteAudio', target: p.connection!.connectionId });
    expect(await ev).toMatchObject({ action: 'muteAudio', by: host.connection!.connectionId });
    const marker = nextEvent(other, 'signal:end');
    await host.signal({ type: 'end', to: other.connection });
    await marker;
    expect(onOther).toHaveLength(0);
    await Promise.all([host.disconnect(), p.disconnect(), other.disconnect()]);
  });
});
