import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, until, type Harness } from '../test-helpers/harness.js';
import { TcpProxy } from '../test-helpers/TcpProxy.js';
import { createClient, destroyClient, type ConnectionChange, type RemovedParticipant, type VideoClient } from '../index.js';

const RESUME_WINDOW_MS = 1500;

let h: Harness;
let proxy: TcpProxy;
const clients: VideoClient[] = [];

beforeAll(async () => {
  h = await startHarness({ heartbeatIntervalMs: 200, heartbeatTimeoutMs: 800, resumeWindowMs: RESUME_WINDOW_MS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => destroyClient(c)));
  await proxy?.close();
});
afterAll(async () => {
  await h.close();
});

async function joinedThroughProxy(topic: string): Promise<{ c: VideoClient; changes: ConnectionChange[] }> {
  proxy = await TcpProxy.start(h.url);
  const c = createClient();
  clients.push(c);
  const changes: ConnectionChange[] = [];
  c.on('connection-change', (x) => changes.push(x));
  await c.init('en-US', 'Global', { serverUrl: proxy.url, reconnectRetryMs: 100 });
  await c.join(topic, await h.token(topic), 'Roamer');
  return { c, changes };
}

describe('facade connection-change on network trouble', () => {
  it('a dropped connection gives Reconnecting then Connected, and the user keeps its id', async () => {
    const topic = `facade-reconnect-${Date.now()}`;
    const { c, changes } = await joinedThroughProxy(topic);
    const id = c.getCurrentUserInfo()?.userId;
    proxy.cut();
    await until(() => changes.length === 3, 10_000, 'reconnected');
    expect(changes).toEqual([{ state: 'Connected' }, { state: 'Reconnecting' }, { state: 'Connected' }]);
    expect(c.getCurrentUserInfo()?.userId).toBe(id);
  });

  it('a client that cannot come back gets Fail networkDisconnected; others get user-removed networkDisconnected', async () => {
    const topic = `facade-fail-${Date.now()}`;
    const other = createClient();
    clients.push(other);
    const removed: RemovedParticipant[][] = [];
    other.on('user-removed', (u) => removed.push(u));
    await other.init('en-US', 'Global', { serverUrl: h.url });
    await other.join(topic, await h.token(topic), 'Stayer');
    const { c, changes } = await joinedThroughProxy(topic);
    const id = c.getCurrentUserInfo()!.userId;
    proxy.refuse(true);
    proxy.cut();
    await until(() => changes.length === 3, RESUME_WINDOW_MS + 5000, 'given up');
    expect(changes).toEqual([{ state: 'Connected' }, { state: 'Reconnecting' }, { state: 'Fail', reason: 'networkDisconnected' }]);
    await until(() => removed.length === 1, 5000, 'removal seen');
    expect(removed[0]?.[0]).toMatchObject({ userId: id, reason: 'networkDisconnected' });
    expect(c.getSessionInfo().isInMeeting).toBe(false);
  });
});
