import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { OT, createClient, destroyClient, type ConveneError, type Session, type StreamPropertyChangedEvent, type VideoClient } from '../index.js';
import type { NodePublisher } from '../media/node/NodePublisher.js';

/* The lifecycle facade's media moderation (sessions guide): mute / ask to unmute, lock screen sharing. */

let h: Harness;
let n = 0;
const topic = (): string => `Facade Media ${++n} ${Date.now()}`;
const clients: VideoClient[] = [];
const peer = { bindAddress: '127.0.0.1' };

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => destroyClient(c)));
});
afterAll(async () => {
  await h.close();
});

async function joined(t: string, host: boolean, name: string): Promise<VideoClient> {
  const c = createClient();
  clients.push(c);
  await c.init('en-US', 'Global', { serverUrl: h.url });
  const token = host ? await h.token(t, { roleType: 1, role: undefined }) : await h.token(t, { role: 'publisher' });
  await c.join(t, token, name);
  return c;
}

function publish(session: Session, props: object = {}): Promise<NodePublisher> {
  const p = OT.initPublisher(null, { peer, ...props }) as NodePublisher;
  return new Promise((resolve, reject) => session.publish(p, (err) => (err ? reject(err) : resolve(p))));
}

describe('VideoClient media moderation', () => {
  it('getSession() is the joined Session (null before join)', async () => {
    const c = createClient();
    clients.push(c);
    await c.init('en-US', 'Global', { serverUrl: h.url });
    expect(c.getSession()).toBeNull();
    const t = topic();
    await c.join(t, await h.token(t, { role: 'publisher' }), 'Ada');
    expect(c.getSession()?.connection?.connectionId).toBe(c.getCurrentUserInfo()?.userId);
  });

  it("host muteAudio(userId): the user's publisher is muteForced, they get current-audio-change, everyone sees hasAudio false", async () => {
    const t = topic();
    const host = await joined(t, true, 'Host');
    const user = await joined(t, false, 'User');
    const publisher = await publish(user.getSession()!);
    const changes: unknown[] = [];
    user.on('current-audio-change', (e) => changes.push(e));
    const forced = nextEvent(publisher, 'muteForced');
    const seen = nextEvent<StreamPropertyChangedEvent>(host.getSession()!, 'streamPropertyChanged', (e) => e.changedProperty === 'hasAudio');
    await host.muteAudio(user.getCurrentUserInfo()!.userId);
    await forced;
    expect((await seen).newValue).toBe(false);
    await until(() => changes.length === 1, 5000, 'current-audio-change');
    expect(changes[0]).toEqual({ action: 'muted', source: 'passive', by: host.getCurrentUserInfo()!.userId });
  });

  it('host unmuteAudio(userId) only asks: the user gets host-ask-unmute-audio and unmutes by accepting', async () => {
    const t = topic();
    const host = await joined(t, true, 'Host');
    const user = await joined(t, false, 'User');
    const publisher = await publish(user.getSession()!, { publishAudio: false });
    expect(publisher.stream!.hasAudio).toBe(false);
    const asked = new Promise<{ by: string }>((resolve) => user.on('host-ask-unmute-audio', resolve));
    await host.unmuteAudio(user.getCurrentUserInfo()!.userId);
    expect((await asked).by).toBe(host.getCurrentUserInfo()!.userId);
    // Asking changed nothing by itself.
    expect(publisher.stream!.hasAudio).toBe(false);
    const seen = nextEvent<StreamPropertyChangedEvent>(host.getSession()!, 'streamPropertyChanged', (e) => e.changedProperty === 'hasAudio');
    await user.unmuteAudio();
    expect((await seen).newValue).toBe(true);
  });

  it('a participant cannot mute someone else: OT_PERMISSION_DENIED', async () => {
    const t = topic();
    await joined(t, true, 'Host');
    const a = await joined(t, false, 'A');
    const b = await joined(t, false, 'B');
    await expect(a.muteAudio(b.getCurrentUserInfo()!.userId)).rejects.toMatchObject({ name: 'OT_PERMISSION_DENIED' });
  });

  it('lockShare(true): only the host may share a screen (others get OT_PERMISSION_DENIED 1500); cameras still publish; lockShare(false) reopens it', async () => {
    const t = topic();
    const host = await joined(t, true, 'Host');
    const user = await joined(t, false, 'User');
    const lockSeen = new Promise<{ locked: boolean }>((resolve) => user.on('share-lock-change', resolve));
    await host.lockShare(true);
    expect((await lockSeen).locked).toBe(true);
    expect(user.isShareLocked()).toBe(true);
    const err = await publish(user.getSession()!, { videoSource: 'screen', audioSource: null }).then(
      () => null,
      (e: ConveneError) => e,
    );
    expect(err?.name).toBe('OT_PERMISSION_DENIED');
    expect(err?.code).toBe(1500);
    await publish(user.getSession()!); // a camera is fine
    const screen = await publish(host.getSession()!, { videoSource: 'screen', audioSource: null });
    expect(screen.stream!.videoType).toBe('screen');
    await host.lockShare(false);
    await until(() => !user.isShareLocked(), 5000, 'unlock');
    const shared = await publish(user.getSession()!, { videoSource: 'screen', audioSource: null });
    expect(shared.stream!.videoType).toBe('screen');
  });
});
