/**
 * Media through the real server: Node bots (the SDK's node-datachannel peer with synthetic VP8/Opus) publish
 * and subscribe over the raw signaling protocol; the server's SFU forwards between them.
 */
import { limits } from '@convene/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from './startServer.js';
import { publish, subscribe, until, type PublishedBot, type SubscribedBot } from '../test-helpers/mediaBots.js';
import { cleanup, join, startTestServer, type Frame, type TestClient } from '../test-helpers/wsClient.js';
import type { ServerOptions } from './startServer.js';

let server: ConveneServer | undefined;
const clients: TestClient[] = [];
const bots: { pc: { close(): void } }[] = [];

afterEach(async () => {
  for (const b of bots.splice(0)) b.pc.close();
  await cleanup(server, clients);
  server = undefined;
});

async function start(extra: ServerOptions = {}): Promise<ConveneServer> {
  server = await startTestServer(extra);
  return server;
}

async function member(session: string, role: 'publisher' | 'subscriber' | 'moderator' | 'host' = 'publisher'): Promise<TestClient> {
  const { c } = await join(server!, session, { role });
  clients.push(c);
  return c;
}

async function pub(c: TestClient, opts: Parameters<typeof publish>[1] = {}): Promise<PublishedBot> {
  const b = await publish(c, opts);
  bots.push(b);
  return b;
}

async function sub(c: TestClient, streamId: string, opts: Parameters<typeof subscribe>[2] = {}): Promise<SubscribedBot> {
  const b = await subscribe(c, streamId, opts);
  bots.push(b);
  return b;
}

/** A publisher and a subscriber in one session, media flowing. */
async function pair(session: string): Promise<{ a: TestClient; b: TestClient; p: PublishedBot; s: SubscribedBot }> {
  const a = await member(session);
  const b = await member(session);
  const p = await pub(a);
  expect(p.response.type).toBe('ok');
  const s = await sub(b, p.streamId);
  expect(s.response.type).toBe('ok');
  await until(() => (s.video?.stats().framesReceived ?? 0) >= 5 && (s.audio?.stats().packetsReceived ?? 0) >= 5, 10_000, 'media at the subscriber');
  return { a, b, p, s };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server!.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`metric ${name} not found`);
  return Number(m[1]);
}

const errorOf = (f: Frame): { name: string; code: number; message: string } => f.error as { name: string; code: number; message: string };

describe('media: publish and subscribe', () => {
  it('forwards video and audio from a publisher bot to a subscriber bot, with continuous rewritten sequence numbers', async () => {
    await start();
    const { s } = await pair('fwd');
    await until(() => (s.video?.stats().framesReceived ?? 0) >= 30, 10_000, '30 video frames');
    const v = s.video!.stats();
    const a = s.audio!.stats();
    expect(v.keyframesReceived).toBeGreaterThanOrEqual(1);
    expect(v.firstKeyframeAt).toBe(v.firstPacketAt); // the subscriber starts on a keyframe
    expect(v.packetsLost).toBe(0);
    expect(v.packetsOutOfOrder).toBe(0);
    expect(a.packetsLost).toBe(0);
    expect(v.frameWidth).toBe(320);
  }, 20_000);

  it('gives a late subscriber a keyframe at once (PLI when its transport opens), not at the next periodic keyframe', async () => {
    await start();
    const a = await member('late');
    const b = await member('late');
    const p = await pub(a); // periodic keyframes every 10 s
    await p.connected;
    await new Promise((r) => setTimeout(r, 1200)); // the publisher's first keyframe is long gone
    const t0 = Date.now();
    const s = await sub(b, p.streamId, { audio: false });
    await until(() => s.video!.stats().keyframesReceived >= 1, 3000, 'a keyframe');
    expect(s.video!.stats().firstKeyframeAt! - t0).toBeLessThan(3000);
    expect(s.video!.stats().firstKeyframeAt).toBe(s.video!.stats().firstPacketAt);
  }, 20_000);

  it('announces a stream with streamCreated to everyone but its publisher, who gets it in the publish result', async () => {
    await start();
    const a = await member('created');
    const b = await member('created');
    const c = await member('created', 'subscriber');
    const p = await pub(a, { name: 'cam', videoType: 'camera' });
    const stream = (p.response.result as { stream: Record<string, unknown> }).stream;
    expect(stream).toMatchObject({ connectionId: a.connectionId, name: 'cam', hasAudio: true, hasVideo: true, videoType: 'camera' });
    expect((await b.next('streamCreated')).stream).toEqual(stream);
    expect((await c.next('streamCreated')).stream).toEqual(stream);
    await a.expectNone('streamCreated');
  }, 15_000);

  it('lists the streams already published in the connect result of a late joiner', async () => {
    await start();
    const a = await member('joined');
    const p = await pub(a);
    const { c, result } = await join(server!, 'joined', { role: 'subscriber' });
    clients.push(c);
    expect(result.streams).toEqual([p.stream]);
    const { c: d, result: empty } = await join(server!, 'other-session');
    clients.push(d);
    expect(empty.streams).toEqual([]);
  }, 15_000);

  it('derives hasAudio/hasVideo from the offer: an audio-only publisher has no video and subscribers get audio only', async () => {
    await start();
    const a = await member('audio-only');
    const b = await member('audio-only');
    const p = await pub(a, { video: false });
    expect(p.stream).toMatchObject({ hasAudio: true, hasVideo: false, videoType: null });
    const s = await sub(b, p.streamId);
    expect(s.response.result).toMatchObject({ videoMid: null });
    expect((s.response.result as { audioMid: string }).audioMid).toBe(s.audio!.mid);
    await until(() => s.audio!.stats().packetsReceived >= 10, 10_000, 'audio');
    expect(s.video!.stats().packetsReceived).toBe(0);
  }, 15_000);

  it('refuses to publish for a subscriber-role token with OT_PERMISSION_DENIED 1500', async () => {
    await start();
    const c = await member('roles', 'subscriber');
    const p = await pub(c);
    expect(p.response.type).toBe('error');
    expect(errorOf(p.response)).toMatchObject({ name: 'OT_PERMISSION_DENIED', code: 1500 });
  }, 15_000);

  it('answers subscribe to an unknown stream with OT_NOT_FOUND 404', async () => {
    await start();
    const c = await member('nf');
    const s = await sub(c, 'no-such-stream');
    expect(errorOf(s.response)).toMatchObject({ name: 'OT_NOT_FOUND', code: 404 });
  }, 15_000);

  it('rejects an offer with no track the SFU can receive with OT_INVALID_PARAMETER', async () => {
    await start();
    const c = await member('badsdp');
    const r = await c.request('publish', { sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' });
    expect(errorOf(r)).toMatchObject({ name: 'OT_INVALID_PARAMETER', code: 1011 });
    await expect(metric('convene_media_transports')).resolves.toBe(0);
  }, 15_000);

  it('rejects a subscribe offer without a matching m-section with OT_INVALID_PARAMETER, holding no transport', async () => {
    await start();
    const a = await member('nomatch');
    const b = await member('nomatch');
    const p = await pub(a, { audio: false });
    const s = await sub(b, p.streamId, { video: false }); // offers audio only; the stream is video only
    expect(errorOf(s.response)).toMatchObject({ name: 'OT_INVALID_PARAMETER', code: 1011 });
    await expect(metric('convene_media_transports')).resolves.toBe(1);
  }, 15_000);

  it(`refuses a stream beyond ${limits.maxStreamsPerConnection} per connection with OT_LIMIT_EXCEEDED, holding no transport for it`, async () => {
    await start();
    const a = await member('limit');
    for (let i = 0; i < limits.maxStreamsPerConnection; i++) expect((await pub(a, { audio: false })).response.type).toBe('ok');
    const extra = await pub(a, { audio: false });
    expect(errorOf(extra.response)).toMatchObject({ name: 'OT_LIMIT_EXCEEDED', code: 429 });
    expect(await metric('convene_media_transports')).toBe(limits.maxStreamsPerConnection);
  }, 20_000);

  it('lets a subscriber-role token subscribe', async () => {
    await start();
    const a = await member('subrole');
    const b = await member('subrole', 'subscriber');
    const p = await pub(a, { audio: false });
    const s = await sub(b, p.streamId, { audio: false });
    expect(s.response.type).toBe('ok');
    await until(() => s.video!.stats().framesReceived >= 3, 10_000, 'video');
  }, 15_000);
});

describe('media: stream lifecycle', () => {
  it('unpublish: everyone, the publisher included, gets streamDestroyed "unpublished"; media stops and the SFU holds nothing', async () => {
    await start();
    const { a, b, p, s } = await pair('unpub');
    expect(await metric('convene_media_transports')).toBe(2);
    expect((await a.request('unpublish', { streamId: p.streamId })).type).toBe('ok');
    for (const c of [a, b]) expect(await c.next('streamDestroyed')).toMatchObject({ streamId: p.streamId, reason: 'unpublished' });
    expect(await metric('convene_streams')).toBe(0);
    expect(await metric('convene_media_transports')).toBe(0);
    const n = s.video!.stats().packetsReceived;
    await new Promise((r) => setTimeout(r, 300));
    expect(s.video!.stats().packetsReceived - n).toBeLessThanOrEqual(2);
  }, 20_000);

  it('unpublish with reason mediaStopped reaches everyone as streamDestroyed "mediaStopped"', async () => {
    await start();
    const a = await member('stopped');
    const b = await member('stopped');
    const p = await pub(a, { videoType: 'screen', audio: false });
    await b.next('streamCreated');
    await a.request('unpublish', { streamId: p.streamId, reason: 'mediaStopped' });
    expect(await b.next('streamDestroyed')).toMatchObject({ streamId: p.streamId, reason: 'mediaStopped' });
    expect(await a.next('streamDestroyed')).toMatchObject({ reason: 'mediaStopped' });
  }, 15_000);

  it('unpublish of another connection’s stream is OT_NOT_FOUND and changes nothing', async () => {
    await start();
    const a = await member('notmine');
    const b = await member('notmine');
    const p = await pub(a);
    expect(errorOf(await b.request('unpublish', { streamId: p.streamId }))).toMatchObject({ name: 'OT_NOT_FOUND', code: 404 });
    expect(await metric('convene_streams')).toBe(1);
  }, 15_000);

  it('leave: the publisher’s streams are destroyed with "clientDisconnected" and its subscriptions end', async () => {
    await start();
    const { a, b, p } = await pair('leave');
    const c = await member('leave');
    const p2 = await pub(c, { audio: false });
    await a.next('streamCreated');
    const s2 = await sub(a, p2.streamId, { audio: false });
    expect(s2.response.type).toBe('ok');
    expect(await metric('convene_media_transports')).toBe(4);
    await a.request('leave');
    expect(await b.next('streamDestroyed')).toMatchObject({ streamId: p.streamId, reason: 'clientDisconnected' });
    expect(await c.next('streamDestroyed')).toMatchObject({ streamId: p.streamId, reason: 'clientDisconnected' });
    // Gone: a's stream, b's subscription to it, a's subscription to c. Left: c's stream's publisher transport.
    expect(await metric('convene_streams')).toBe(1);
    expect(await metric('convene_media_transports')).toBe(1);
  }, 20_000);

  it('forceDisconnect: the removed connection’s streams are destroyed with "forceDisconnected"', async () => {
    await start();
    const mod = await member('fd', 'moderator');
    const a = await member('fd');
    const p = await pub(a);
    await mod.next('streamCreated');
    expect((await mod.request('forceDisconnect', { connectionId: a.connectionId })).type).toBe('ok');
    expect(await mod.next('streamDestroyed')).toMatchObject({ streamId: p.streamId, reason: 'forceDisconnected' });
    expect(await metric('convene_media_transports')).toBe(0);
  }, 15_000);

  it('streams survive a signaling resume; a connection that never comes back loses them with "networkDisconnected"', async () => {
    await start({ resumeWindowMs: 400 });
    const a = await member('resume');
    const b = await member('resume');
    const p = await pub(a, { audio: false });
    const s = await sub(b, p.streamId, { audio: false });
    await until(() => s.video!.stats().framesReceived >= 3, 10_000, 'video');
    // b's socket drops; it resumes on a new socket: its subscription keeps receiving.
    b.ws.terminate();
    await b.closed;
    const { TestClient } = await import('../test-helpers/wsClient.js');
    const b2 = await TestClient.open(server!);
    clients.push(b2);
    b2.nextId = b.nextId;
    b2.lastSeq = b.lastSeq;
    const r = await b2.request('resume', { connectionId: b.connectionId, resumeToken: b.resumeToken, lastSeq: b.lastSeq });
    expect(r.type).toBe('ok');
    const n = s.video!.stats().framesReceived;
    await until(() => s.video!.stats().framesReceived >= n + 5, 5000, 'video after the resume');
    expect(await metric('convene_streams')).toBe(1);
    // a's socket drops for good: after the resume window its stream is destroyed.
    a.ws.terminate();
    const destroyed = await b2.next('streamDestroyed', 5000);
    expect(destroyed).toMatchObject({ streamId: p.streamId, reason: 'networkDisconnected' });
    expect(await metric('convene_media_transports')).toBe(0);
  }, 20_000);

  it('ending the session tears down every stream and transport', async () => {
    await start();
    const host = await member('end', 'host');
    const a = await member('end');
    const p = await pub(a);
    const s = await sub(host, p.streamId);
    expect(s.response.type).toBe('ok');
    expect(await metric('convene_media_rooms')).toBe(1);
    expect((await host.request('leave', { end: true })).result).toEqual({ ended: true });
    await a.closed;
    expect(await metric('convene_streams')).toBe(0);
    expect(await metric('convene_media_transports')).toBe(0);
    expect(await metric('convene_media_rooms')).toBe(0);
  }, 15_000);

  it('unsubscribe closes the subscription’s transport and stops its media', async () => {
    await start();
    const { b, s } = await pair('unsub');
    expect((await b.request('unsubscribe', { subscriberId: s.subscriberId })).type).toBe('ok');
    expect(await metric('convene_media_transports')).toBe(1);
    expect(errorOf(await b.request('unsubscribe', { subscriberId: s.subscriberId }))).toMatchObject({ name: 'OT_NOT_FOUND' });
  }, 15_000);
});

describe('media: stream properties and subscriptions', () => {
  it('streamUpdate reaches everyone as one streamPropertyChanged per changed property', async () => {
    await start();
    const a = await member('props');
    const b = await member('props');
    const p = await pub(a);
    await b.next('streamCreated');
    await a.request('streamUpdate', { streamId: p.streamId, hasVideo: false, videoDimensions: { width: 640, height: 360 } });
    for (const c of [a, b]) {
      expect(await c.next('streamPropertyChanged')).toMatchObject({ streamId: p.streamId, changedProperty: 'hasVideo', oldValue: true, newValue: false });
      expect(await c.next('streamPropertyChanged')).toMatchObject({ changedProperty: 'videoDimensions', oldValue: null, newValue: { width: 640, height: 360 } });
    }
    await a.request('streamUpdate', { streamId: p.streamId, hasVideo: false });
    await b.expectNone('streamPropertyChanged');
  }, 15_000);

  it('publishAudio(false) stops audio forwarding and publishAudio(true) resumes it', async () => {
    await start();
    const { a, p, s } = await pair('mute-self');
    await a.request('streamUpdate', { streamId: p.streamId, hasAudio: false });
    await new Promise((r) => setTimeout(r, 100));
    const n = s.audio!.stats().packetsReceived;
    await new Promise((r) => setTimeout(r, 400));
    expect(s.audio!.stats().packetsReceived).toBe(n);
    await a.request('streamUpdate', { streamId: p.streamId, hasAudio: true });
    await until(() => s.audio!.stats().packetsReceived >= n + 10, 5000, 'audio again');
  }, 20_000);

  it('subscribeToVideo false stops video for that subscriber; true resumes it on a keyframe', async () => {
    await start();
    const { b, s } = await pair('toggle');
    await b.request('subscription', { subscriberId: s.subscriberId, subscribeToVideo: false });
    await new Promise((r) => setTimeout(r, 100));
    const frames = s.video!.stats().framesReceived;
    const keys = s.video!.stats().keyframesReceived;
    await new Promise((r) => setTimeout(r, 400));
    expect(s.video!.stats().framesReceived).toBe(frames);
    await b.request('subscription', { subscriberId: s.subscriberId, subscribeToVideo: true, preferredResolution: { width: 320, height: 240 } });
    await until(() => s.video!.stats().keyframesReceived > keys, 3000, 'a keyframe after resuming');
    expect(s.video!.stats().packetsLost).toBe(0); // the rewritten sequence has no gap across the pause
  }, 20_000);

  it('subscribe with subscribeToAudio false negotiates audio but forwards none until enabled', async () => {
    await start();
    const a = await member('noaudio');
    const b = await member('noaudio');
    const p = await pub(a);
    const s = await sub(b, p.streamId, { subscribeToAudio: false });
    await until(() => s.video!.stats().framesReceived >= 10, 10_000, 'video');
    expect(s.audio!.stats().packetsReceived).toBe(0);
    await b.request('subscription', { subscriberId: s.subscriberId, subscribeToAudio: true });
    await until(() => s.audio!.stats().packetsReceived >= 5, 5000, 'audio');
  }, 20_000);

  it('accepts a trickled candidate for its own peer connection and refuses one for an unknown target', async () => {
    await start();
    const a = await member('cand');
    const p = await pub(a, { audio: false });
    const ok = await a.request('candidate', { target: p.streamId, candidate: 'candidate:1 1 UDP 2122317823 127.0.0.1 45000 typ host', mid: '0' });
    expect(ok.type).toBe('ok');
    const nf = await a.request('candidate', { target: 'nope', candidate: 'candidate:1 1 UDP 1 127.0.0.1 1 typ host', mid: '0' });
    expect(errorOf(nf)).toMatchObject({ name: 'OT_NOT_FOUND' });
  }, 15_000);
});

describe('media: moderation', () => {
  it('forceUnpublish by a moderator destroys the stream with "forceUnpublished" for everyone, the publisher included', async () => {
    await start();
    const mod = await member('fu', 'moderator');
    const { a, b, p } = await pair('fu');
    expect((await mod.request('forceUnpublish', { streamId: p.streamId })).type).toBe('ok');
    for (const c of [a, b, mod]) expect(await c.next('streamDestroyed')).toMatchObject({ streamId: p.streamId, reason: 'forceUnpublished' });
    expect(await metric('convene_media_transports')).toBe(0);
  }, 20_000);

  it('forceUnpublish is OT_PERMISSION_DENIED 1530 for a publisher and OT_NOT_FOUND 1535 for an unknown stream', async () => {
    await start();
    const a = await member('fu2');
    const b = await member('fu2');
    const mod = await member('fu2', 'moderator');
    const p = await pub(a);
    expect(errorOf(await b.request('forceUnpublish', { streamId: p.streamId }))).toMatchObject({ name: 'OT_PERMISSION_DENIED', code: 1530 });
    expect(errorOf(await mod.request('forceUnpublish', { streamId: 'nope' }))).toMatchObject({ name: 'OT_NOT_FOUND', code: 1535 });
    expect(await metric('convene_streams')).toBe(1);
  }, 15_000);

  it('forceMuteStream: the SFU stops the audio at once and the publisher gets muteForced; its streamUpdate reaches everyone', async () => {
    await start();
    const mod = await member('fm', 'moderator');
    const { a, b, p, s } = await pair('fm');
    expect((await mod.request('forceMuteStream', { streamId: p.streamId })).type).toBe('ok');
    expect(await a.next('muteForced')).toMatchObject({ streamId: p.streamId });
    await b.expectNone('muteForced');
    await new Promise((r) => setTimeout(r, 100));
    const n = s.audio!.stats().packetsReceived;
    await new Promise((r) => setTimeout(r, 300));
    expect(s.audio!.stats().packetsReceived).toBe(n);
    expect(s.video!.stats().framesReceived).toBeGreaterThan(0);
    // The publisher applies it, as the SDK does.
    await a.request('streamUpdate', { streamId: p.streamId, hasAudio: false });
    expect(await b.next('streamPropertyChanged')).toMatchObject({ changedProperty: 'hasAudio', newValue: false });
  }, 20_000);

  it('forceMuteStream is OT_PERMISSION_DENIED 1520 for a publisher and OT_NOT_FOUND 404 for an unknown stream', async () => {
    await start();
    const a = await member('fm2');
    const b = await member('fm2');
    const mod = await member('fm2', 'moderator');
    const p = await pub(a);
    expect(errorOf(await b.request('forceMuteStream', { streamId: p.streamId }))).toMatchObject({ name: 'OT_PERMISSION_DENIED', code: 1520 });
    expect(errorOf(await mod.request('forceMuteStream', { streamId: 'nope' }))).toMatchObject({ name: 'OT_NOT_FOUND', code: 404 });
    await a.expectNone('muteForced');
  }, 15_000);

  it('forceMuteAll mutes every stream but the excluded ones, tells everyone, and new streams start muted until disableForceMute', async () => {
    await start();
    const mod = await member('fma', 'moderator');
    const a = await member('fma');
    const pm = await pub(mod, { video: false });
    const pa = await pub(a, { video: false });
    expect((await mod.request('forceMuteAll', { excludedStreamIds: [pm.streamId] })).type).toBe('ok');
    expect(await a.next('muteForced')).toEqual(expect.objectContaining({ streamId: pa.streamId }));
    expect(await a.next('muteForced')).toEqual(expect.objectContaining({ active: true }));
    expect(await mod.next('muteForced')).toEqual(expect.objectContaining({ active: true }));
    await mod.expectNone('muteForced'); // its own stream was excluded
    expect((await a.next('sessionUpdated')).session).toMatchObject({ forceMuteActive: true });

    const b = await member('fma');
    const pb = await pub(b, { video: false });
    expect(pb.audioMuted).toBe(true);
    expect(pb.stream).toMatchObject({ hasAudio: false });
    const s = await sub(a, pb.streamId, { video: false });
    await s.connected;
    await new Promise((r) => setTimeout(r, 400));
    expect(s.audio!.stats().packetsReceived).toBe(0); // the SFU forwards none of it

    expect((await mod.request('disableForceMute')).type).toBe('ok');
    for (const c of [a, b, mod]) expect(await c.next('muteForced')).toEqual(expect.objectContaining({ active: false }));
    const c = await member('fma');
    const pc2 = await pub(c, { video: false });
    expect(pc2.audioMuted).toBe(false);
    expect(pc2.stream).toMatchObject({ hasAudio: true });
  }, 20_000);

  it('forceMuteAll and disableForceMute are OT_PERMISSION_DENIED 1520 for a publisher', async () => {
    await start();
    const a = await member('fma2');
    expect(errorOf(await a.request('forceMuteAll', {}))).toMatchObject({ name: 'OT_PERMISSION_DENIED', code: 1520 });
    expect(errorOf(await a.request('disableForceMute'))).toMatchObject({ name: 'OT_PERMISSION_DENIED', code: 1520 });
  }, 15_000);

  it('a force-muted publisher may unmute itself: audio flows again', async () => {
    await start();
    const mod = await member('unmute', 'moderator');
    const { a, p, s } = await pair('unmute');
    await mod.request('forceMuteStream', { streamId: p.streamId });
    await a.next('muteForced');
    await a.request('streamUpdate', { streamId: p.streamId, hasAudio: false });
    const n = s.audio!.stats().packetsReceived;
    await a.request('streamUpdate', { streamId: p.streamId, hasAudio: true });
    await until(() => s.audio!.stats().packetsReceived >= n + 10, 5000, 'audio after unmuting');
  }, 20_000);

  it('the host’s muteAudio forces the user’s streams muted; requestUnmute only asks', async () => {
    await start();
    const host = await member('guide', 'host');
    const { a, p, s } = await pair('guide');
    await host.request('moderate', { action: 'muteAudio', target: a.connectionId });
    expect(await a.next('muteForced')).toMatchObject({ streamId: p.streamId });
    expect(await a.next('muteRequest')).toMatchObject({ action: 'muteAudio', by: host.connectionId });
    await new Promise((r) => setTimeout(r, 100));
    const n = s.audio!.stats().packetsReceived;
    await new Promise((r) => setTimeout(r, 300));
    expect(s.audio!.stats().packetsReceived).toBe(n);
    await host.request('moderate', { action: 'requestUnmute', target: a.connectionId });
    expect(await a.next('muteRequest')).toMatchObject({ action: 'requestUnmute' });
    await a.expectNone('muteForced');
    expect(s.audio!.stats().packetsReceived).toBe(n); // nothing unmuted until the user accepts
  }, 20_000);

  it('while screen sharing is locked only the host may publish a screen; cameras are unaffected', async () => {
    await start();
    const host = await member('lock', 'host');
    const a = await member('lock');
    await host.request('moderate', { action: 'lockShare' });
    const denied = await pub(a, { videoType: 'screen', audio: false });
    expect(errorOf(denied.response)).toMatchObject({ name: 'OT_PERMISSION_DENIED', code: 1500 });
    const cam = await pub(a, { videoType: 'camera', audio: false });
    expect(cam.response.type).toBe('ok');
    expect(errorOf(await a.request('streamUpdate', { streamId: cam.streamId, videoType: 'screen' }))).toMatchObject({ code: 1500 });
    const hostShare = await pub(host, { videoType: 'screen', audio: false });
    expect(hostShare.response.type).toBe('ok');
    await host.request('moderate', { action: 'unlockShare' });
    const allowed = await pub(a, { videoType: 'screen', audio: false });
    expect(allowed.response.type).toBe('ok');
    expect(await metric('convene_media_transports')).toBe(0 + 3);
  }, 20_000);
});

describe('media: metrics and loss', () => {
  it('exposes convene_streams and rising RTP/RTCP counters on /metrics', async () => {
    await start();
    expect(await metric('convene_rtp_packets_forwarded_total')).toBe(0);
    await pair('metrics');
    expect(await metric('convene_streams')).toBe(1);
    const f1 = await metric('convene_rtp_packets_forwarded_total');
    expect(f1).toBeGreaterThan(0);
    expect(await metric('convene_rtcp_pli_total')).toBeGreaterThanOrEqual(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await metric('convene_rtp_packets_forwarded_total')).toBeGreaterThan(f1);
    expect(await metric('convene_rtp_packets_lost_total')).toBe(0);
  }, 20_000);

  it('the test loss hook drops video toward one subscriber; its NACKs are answered and it loses nothing', async () => {
    const hooked: string[] = [];
    await start({
      testHooks: {
        dropToSubscriber: (ref) => {
          hooked.push(ref.subscriberId);
          return ref.sessionId === 'lossy' ? 0.1 : 0;
        },
      },
    });
    const a = await member('lossy');
    const b = await member('lossy');
    const p = await pub(a, { audio: false });
    const s = await sub(b, p.streamId, { audio: false });
    expect(hooked).toEqual([s.subscriberId]);
    await until(() => s.video!.stats().framesReceived >= 90, 15_000, '90 frames');
    await new Promise((r) => setTimeout(r, 300)); // the last repairs land
    const v = s.video!.stats();
    expect(v.nacksSent).toBeGreaterThan(0);
    expect(v.packetsLost).toBeLessThanOrEqual(1);
    expect(await metric('convene_rtcp_nack_total')).toBeGreaterThan(0);
  }, 25_000);

  it('refuses testHooks in production mode', async () => {
    const { startServer } = await import('./startServer.js');
    await expect(
      startServer({ port: 0, production: true, apiKey: 'k', apiSecret: 'a-long-enough-secret', logLevel: 'silent', testHooks: { dropToSubscriber: () => 1 } }),
    ).rejects.toThrow(/testHooks/);
  });
});

describe('media: network options', () => {
  it('puts every peer connection on the one rtcPort and writes announcedIp into the answer’s candidates', async () => {
    await start({ announcedIp: '203.0.113.7' });
    expect(server!.rtcPort).toBeGreaterThan(0);
    const a = await member('nat');
    const b = await member('nat');
    const p = await pub(a, { audio: false });
    const s = await sub(b, p.streamId, { audio: false });
    for (const sdp of [(p.response.result as { sdp: string }).sdp, (s.response.result as { sdp: string }).sdp]) {
      const candidates = sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
      expect(candidates.length).toBeGreaterThan(0);
      for (const c of candidates) {
        const parts = c.split(' ');
        expect(parts[4]).toBe('203.0.113.7');
        expect(Number(parts[5])).toBe(server!.rtcPort);
      }
    }
  }, 15_000);

  it('binds a fixed rtcPort when given one, and refuses an invalid announcedIp', async () => {
    const { createSocket } = await import('node:dgram');
    const free = await new Promise<number>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    await start({ rtcPort: free, rtcBindAddress: '127.0.0.1' });
    expect(server!.rtcPort).toBe(free);
    await expect(startTestServer({ announcedIp: 'example.org' })).rejects.toThrow(/announcedIp/);
  }, 15_000);

  it('runs without media when media is false: publish fails with OT_INVALID_STATE', async () => {
    await start({ media: false });
    expect(server!.rtcPort).toBeNull();
    const a = await member('nomedia');
    const p = await pub(a);
    expect(errorOf(p.response)).toMatchObject({ name: 'OT_INVALID_STATE' });
  }, 15_000);
});

describe('GET /sdk/convene.js', () => {
  it('serves the client’s built browser bundle as JavaScript with revalidation, or 404 explaining how to build it', async () => {
    await start();
    const { createRequire } = await import('node:module');
    const { dirname, join: joinPath } = await import('node:path');
    const { existsSync, readFileSync } = await import('node:fs');
    const file = joinPath(dirname(createRequire(import.meta.url).resolve('@convene/client/package.json')), 'dist', 'convene.js');
    const res = await fetch(`${server!.url}/sdk/convene.js`);
    if (existsSync(file)) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('cache-control')).toContain('must-revalidate');
      expect(await res.text()).toBe(readFileSync(file, 'utf8'));
      const again = await fetch(`${server!.url}/sdk/convene.js`, { headers: { 'if-none-match': res.headers.get('etag')! } });
      expect(again.status).toBe(304);
    } else {
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('npm run build');
    }
  });
});
