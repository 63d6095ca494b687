import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodePublisher } from '../media/node/NodePublisher.js';
import type { NodeSubscriber } from '../media/node/NodeSubscriber.js';
import { nextEvent, record, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { TcpProxy } from '../test-helpers/TcpProxy.js';
import {
  OT,
  type ConveneError,
  type ExceptionEvent,
  type MuteForcedEvent,
  type Session,
  type SessionConnectEvent,
  type StreamEvent,
  type StreamPropertyChangedEvent,
} from '../index.js';

/*
 * The Session media API in Node, end to end: a real server with its SFU on port 0, NodePublisher
 * (synthetic VP8/Opus) and NodeSubscriber over NodePeerConnection, real RTP through the SFU.
 */

let h: Harness;
let n = 0;
const name = (): string => `media-${++n}-${Date.now()}`;
const peer = { bindAddress: '127.0.0.1' };

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** publish() as a promise (the reference's form returns the Publisher and reports through the callback). */
function publish(session: Session, props: Parameters<typeof OT.initPublisher>[1] = {}): Promise<NodePublisher> {
  const publisher = OT.initPublisher(null, { peer, ...(props as object) }) as NodePublisher;
  return new Promise((resolve, reject) => {
    session.publish(publisher, (err) => (err ? reject(err) : resolve(publisher)));
  });
}

function subscribe(session: Session, stream: { streamId: string }, props: object = {}): Promise<NodeSubscriber> {
  return new Promise((resolve, reject) => {
    const sub = session.subscribe(stream, undefined, { peer, ...props }, (err) => (err ? reject(err) : resolve(sub as NodeSubscriber)));
  });
}

const videoIn = (sub: NodeSubscriber) => sub.getStats()?.inbound.find((t) => t.kind === 'video');
const audioIn = (sub: NodeSubscriber) => sub.getStats()?.inbound.find((t) => t.kind === 'audio');

describe('publish and subscribe (Node bots through the SFU)', () => {
  it('a published stream reaches another client as streamCreated with the Stream properties, and its media arrives', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a, { name: 'bot', resolution: '320x240', frameRate: 15 });
    const { stream } = await created;
    expect(stream.streamId).toBe(publisher.stream!.streamId);
    expect(stream.id).toBe(stream.streamId);
    expect(stream.name).toBe('bot');
    expect(stream.hasAudio).toBe(true);
    expect(stream.hasVideo).toBe(true);
    expect(stream.videoType).toBe('camera');
    expect(stream.videoDimensions).toEqual({ width: 320, height: 240 });
    expect(stream.frameRate).toBe(15);
    expect(stream.creationTime).toBeGreaterThan(Date.now() - 60_000);
    expect(stream.connection.connectionId).toBe(a.connection!.connectionId);

    const sub = await subscribe(b, stream);
    expect(videoIn(sub)!.keyframesReceived).toBeGreaterThan(0);
    const frames0 = videoIn(sub)!.framesReceived;
    await until(() => videoIn(sub)!.framesReceived >= frames0 + 10 && audioIn(sub)!.packetsReceived >= 10, 5000, 'frames and audio');
    expect(b.getSubscribersForStream(stream)).toEqual([sub]);
    expect(a.getPublisherForStream(publisher.stream!)).toBe(publisher);
    expect(b.getPublisherForStream(stream)).toBeNull();
  });

  it('subscribeToVideo(false) stops the video from the SFU and (true) resumes it with a key frame', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    await publish(a, { keyframeIntervalMs: 0 });
    const sub = await subscribe(b, (await created).stream);
    sub.subscribeToVideo(false);
    await new Promise((r) => setTimeout(r, 300)); // let packets in flight land
    const paused = videoIn(sub)!.packetsReceived;
    const audioBefore = audioIn(sub)!.packetsReceived;
    await new Promise((r) => setTimeout(r, 700));
    expect(videoIn(sub)!.packetsReceived).toBe(paused);
    expect(audioIn(sub)!.packetsReceived).toBeGreaterThan(audioBefore + 20);
    const keyframes = videoIn(sub)!.keyframesReceived;
    sub.subscribeToVideo(true);
    await until(() => videoIn(sub)!.keyframesReceived > keyframes && videoIn(sub)!.packetsReceived > paused + 10, 3000, 'video resumed on a key frame');
  });

  it('a signaling reconnect keeps the media: the stream and subscription survive a cut WebSocket, and unpublish works after it', async () => {
    const proxy = await TcpProxy.start(h.url);
    try {
      const sid = name();
      const a = h.session(sid, { serverUrl: proxy.url, reconnectRetryMs: 100 });
      await a.connect(await h.token(sid));
      const b = await h.join(sid);
      const created = nextEvent<StreamEvent>(b, 'streamCreated');
      const publisher = await publish(a);
      const sub = await subscribe(b, (await created).stream);
      const destroyedOnB = record(b, 'streamDestroyed');
      const back = nextEvent(a, 'sessionReconnected', () => true, 10_000);
      proxy.cut();
      await back;
      const frames = videoIn(sub)!.framesReceived;
      await until(() => videoIn(sub)!.framesReceived > frames + 10, 3000, 'frames after the reconnect');
      expect(destroyedOnB).toEqual([]);
      expect(publisher.stream).toBeDefined();
      const gone = nextEvent<StreamEvent>(b, 'streamDestroyed');
      a.unpublish(publisher);
      expect((await gone).reason).toBe('unpublished');
      await a.disconnect();
    } finally {
      await proxy.close();
    }
  });

  it('a late joiner sees existing streams in sessionConnected.streams and as streamCreated', async () => {
    const sid = name();
    const a = await h.join(sid);
    const publisher = await publish(a, { name: 'early' });
    const late = h.session(sid);
    const connected = nextEvent<SessionConnectEvent>(late, 'sessionConnected');
    const created = nextEvent<StreamEvent>(late, 'streamCreated');
    await late.connect(await h.token(sid));
    expect((await connected).streams.map((s) => s.streamId)).toEqual([publisher.stream!.streamId]);
    expect((await created).stream.name).toBe('early');
  });

  it('publishVideo(false) reaches subscribers as streamPropertyChanged hasVideo true -> false', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const changed = nextEvent<StreamPropertyChangedEvent>(b, 'streamPropertyChanged');
    publisher.publishVideo(false);
    const e = await changed;
    expect(e.changedProperty).toBe('hasVideo');
    expect(e.oldValue).toBe(true);
    expect(e.newValue).toBe(false);
    expect(e.stream).toBe(stream);
    expect(stream.hasVideo).toBe(false);
  });

  it('unpublish(): subscribers get streamDestroyed and their Subscriber is destroyed; the Publisher gets streamDestroyed "unpublished"', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    const sub = await subscribe(b, (await created).stream);
    const destroyed = nextEvent<StreamEvent>(b, 'streamDestroyed');
    const subGone = nextEvent(sub, 'destroyed');
    const pubDestroyed = nextEvent<StreamEvent>(publisher, 'streamDestroyed');
    const sessionEventsOnA = record(a, 'streamDestroyed');
    a.unpublish(publisher);
    expect((await pubDestroyed).reason).toBe('unpublished');
    expect((await destroyed).reason).toBe('unpublished');
    await subGone;
    expect(b.getSubscribersForStream((await destroyed).stream)).toEqual([]);
    expect(sessionEventsOnA).toEqual([]);
    expect(publisher.stream).toBeUndefined();
  });

  it('streamDestroyed with preventDefault() keeps the Subscriber until the app destroys it', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    const sub = await subscribe(b, (await created).stream);
    b.once('streamDestroyed', (e) => e.preventDefault());
    const destroyed = nextEvent<StreamEvent>(b, 'streamDestroyed');
    const subEvents = record(sub, 'destroyed');
    a.unpublish(publisher);
    const e = await destroyed;
    expect(e.isDefaultPrevented()).toBe(true);
    expect(subEvents).toEqual([]);
    expect(b.getSubscribersForStream(e.stream)).toEqual([sub]);
    sub.destroy();
    expect(subEvents).toHaveLength(1);
    expect(b.getSubscribersForStream(e.stream)).toEqual([]);
  });

  it('a publisher that disconnects ends its stream with reason clientDisconnected', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    await created;
    const destroyed = nextEvent<StreamEvent>(b, 'streamDestroyed');
    const pubDestroyed = nextEvent<StreamEvent>(publisher, 'streamDestroyed');
    await a.disconnect();
    expect((await destroyed).reason).toBe('clientDisconnected');
    expect((await pubDestroyed).reason).toBe('clientDisconnected');
  });

  it('sessionDisconnected removes the subscribers (default action) and ends the local publishers', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    await publish(a);
    const sub = await subscribe(b, (await created).stream);
    const own = await publish(b);
    const subGone = nextEvent(sub, 'destroyed');
    const ownEnded = nextEvent<StreamEvent>(own, 'streamDestroyed');
    await b.disconnect();
    await subGone;
    expect((await ownEnded).reason).toBe('clientDisconnected');
    expect(b.streams).toEqual([]);
  });

  it('unpublish() while publish() is in flight cancels it: the completion handler fails and no stream remains', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const publisher = OT.initPublisher(null, { peer }) as NodePublisher;
    const done = new Promise<ConveneError | undefined>((resolve) => a.publish(publisher, (err) => resolve(err as ConveneError | undefined)));
    a.unpublish(publisher);
    expect((await done)?.name).toBe('OT_NOT_CONNECTED');
    // Nothing is left on the server: a late joiner sees no stream.
    const late = h.session(sid);
    const connected = nextEvent<SessionConnectEvent>(late, 'sessionConnected');
    await late.connect(await h.token(sid));
    await until(() => b.streams.length === 0, 2000, 'no stream on b');
    expect((await connected).streams).toEqual([]);
  });

  it('publish() with a subscriber token fails with OT_PERMISSION_DENIED 1500 and an OT exception 1500', async () => {
    const sid = name();
    const s = await h.join(sid, { role: 'subscriber' });
    const exception = nextEvent<ExceptionEvent>(OT, 'exception', (e) => e.code === 1500);
    const err = await publish(s).then(
      () => null,
      (e: ConveneError) => e,
    );
    expect(err?.name).toBe('OT_PERMISSION_DENIED');
    expect(err?.code).toBe(1500);
    expect((await exception).target).toBe(s);
  });

  it('a peer connection that cannot connect fails publish() with code 1013 and an OT exception 1013; the stream goes away', async () => {
    // A server announcing an unreachable media address (TEST-NET-1), as a misconfigured NAT would.
    const unreachable = await startHarness({ announcedIp: '192.0.2.1' });
    try {
      const sid = name();
      const a = await unreachable.join(sid, {}, { mediaConnectTimeoutMs: 1500 });
      const b = await unreachable.join(sid);
      const destroyed = nextEvent<StreamEvent>(b, 'streamDestroyed', () => true, 10_000);
      const exception = nextEvent<ExceptionEvent>(OT, 'exception', (e) => e.code === 1013, 10_000);
      const err = await publish(a).then(
        () => null,
        (e: ConveneError) => e,
      );
      expect([err?.name, err?.code]).toEqual(['OT_CONNECT_FAILED', 1013]);
      expect((await exception).target).toBe(a);
      // The SDK unpublishes; the wire has no `networkDisconnected` reason for unpublish (yet), so
      // the others see 'unpublished'.
      expect((await destroyed).reason).toBe('unpublished');
      expect(b.streams).toEqual([]);
    } finally {
      await unreachable.close();
    }
  });

  it('publish() before connect() fails with OT_NOT_CONNECTED', async () => {
    const s = h.session(name());
    const err = await publish(s).then(
      () => null,
      (e: ConveneError) => e,
    );
    expect(err?.name).toBe('OT_NOT_CONNECTED');
  });

  it('subscribe() throws for a stream that is not in the session', async () => {
    const s = await h.join(name());
    expect(() => s.subscribe({ streamId: 'nope' })).toThrow(/not in this session/);
  });
});

describe('media moderation', () => {
  it('forceUnpublish by a moderator: streamDestroyed "forceUnpublished" on every client, the publisher\'s Session and Publisher included', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(mod, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const events = [mod, a, b].map((s) => nextEvent<StreamEvent>(s, 'streamDestroyed'));
    const pubDestroyed = nextEvent<StreamEvent>(publisher, 'streamDestroyed');
    await mod.forceUnpublish(stream);
    for (const e of await Promise.all(events)) {
      expect(e.reason).toBe('forceUnpublished');
      expect(e.stream.streamId).toBe(stream.streamId);
    }
    expect((await pubDestroyed).reason).toBe('forceUnpublished');
  });

  it('forceDisconnect of a publisher ends its stream with reason forceDisconnected', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const a = await h.join(sid);
    const created = nextEvent<StreamEvent>(mod, 'streamCreated');
    const publisher = await publish(a);
    await created;
    const destroyed = nextEvent<StreamEvent>(mod, 'streamDestroyed');
    const pubDestroyed = nextEvent<StreamEvent>(publisher, 'streamDestroyed');
    await mod.forceDisconnect(a.connection!);
    expect((await destroyed).reason).toBe('forceDisconnected');
    expect((await pubDestroyed).reason).toBe('forceDisconnected');
  });

  it('forceUnpublish without the moderator role fails with OT_PERMISSION_DENIED and an OT exception', async () => {
    const sid = name();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    await publish(a);
    const { stream } = await created;
    const exception = nextEvent<ExceptionEvent>(OT, 'exception', (e) => e.target === b);
    const err = await b.forceUnpublish(stream).then(
      () => null,
      (e: ConveneError) => e,
    );
    expect(err?.name).toBe('OT_PERMISSION_DENIED');
    await exception;
  });

  it('forceMuteAll: publishers get muteForced and stop audio, every Session gets muteForced active, new streams start muted; disableForceMute ends it', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const a = await h.join(sid);
    const created = nextEvent<StreamEvent>(mod, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const pubMuted = nextEvent(publisher, 'muteForced');
    const sessionMuted = [mod, a].map((s) => nextEvent<MuteForcedEvent>(s, 'muteForced'));
    const audioOff = [mod, a].map((s) => nextEvent<StreamPropertyChangedEvent>(s, 'streamPropertyChanged', (e) => e.changedProperty === 'hasAudio'));
    await mod.forceMuteAll();
    await pubMuted;
    for (const e of await Promise.all(sessionMuted)) expect(e.active).toBe(true);
    for (const e of await Promise.all(audioOff)) expect(e.newValue).toBe(false);
    expect(stream.hasAudio).toBe(false);
    expect(publisher.stream!.hasAudio).toBe(false);

    // A stream published while force-mute is active starts muted.
    const second = nextEvent<StreamEvent>(mod, 'streamCreated');
    const late = await publish(a, { name: 'late' });
    expect((await second).stream.hasAudio).toBe(false);
    expect(late.stream!.hasAudio).toBe(false);

    const off = [mod, a].map((s) => nextEvent<MuteForcedEvent>(s, 'muteForced'));
    await mod.disableForceMute();
    for (const e of await Promise.all(off)) expect(e.active).toBe(false);
    const third = nextEvent<StreamEvent>(mod, 'streamCreated');
    await publish(a, { name: 'after' });
    expect((await third).stream.hasAudio).toBe(true);
  });

  it('forceMuteAll(excludedStreams) leaves the excluded streams alone', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const a = await h.join(sid);
    const kept = await publish(a, { name: 'kept' });
    const muted = await publish(a, { name: 'muted' });
    const keptEvents = record(kept, 'muteForced');
    const mutedEvent = nextEvent(muted, 'muteForced');
    await mod.forceMuteAll([kept.stream!]);
    await mutedEvent;
    expect(keptEvents).toEqual([]);
    expect(kept.stream!.hasAudio).toBe(true);
  });

  it('forceMuteStream mutes one stream: its Publisher gets muteForced and subscribers see hasAudio false', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const a = await h.join(sid);
    const created = nextEvent<StreamEvent>(mod, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const muted = nextEvent(publisher, 'muteForced');
    const changed = nextEvent<StreamPropertyChangedEvent>(mod, 'streamPropertyChanged');
    await mod.forceMuteStream(stream);
    await muted;
    expect((await changed).changedProperty).toBe('hasAudio');
    expect(stream.hasAudio).toBe(false);
  });

  it('forceMuteStream rejects with OT_PERMISSION_DENIED, OT_NOT_FOUND, OT_INVALID_PARAMETER and OT_NOT_CONNECTED as the reference lists', async () => {
    const sid = name();
    const mod = await h.join(sid, { role: 'moderator' });
    const a = await h.join(sid);
    const created = nextEvent<StreamEvent>(mod, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const nameOf = (p: Promise<void>): Promise<string> => p.then(
      () => 'resolved',
      (e: ConveneError) => e.name,
    );
    expect(await nameOf(a.forceMuteStream(stream))).toBe('OT_PERMISSION_DENIED');
    expect(await nameOf(mod.forceMuteStream({ streamId: 'no-such-stream' }))).toBe('OT_NOT_FOUND');
    expect(await nameOf(mod.forceMuteStream(null as unknown as { streamId: string }))).toBe('OT_INVALID_PARAMETER');
    expect(await nameOf(mod.forceMuteAll('x' as unknown as []))).toBe('OT_INVALID_PARAMETER');
    expect(await nameOf(a.disableForceMute())).toBe('OT_PERMISSION_DENIED');
    const idle = h.session(sid);
    expect(await nameOf(idle.forceMuteStream(publisher.stream!))).toBe('OT_NOT_CONNECTED');
    expect(await nameOf(idle.forceMuteAll())).toBe('OT_NOT_CONNECTED');
    expect(await nameOf(idle.disableForceMute())).toBe('OT_NOT_CONNECTED');
  });
});
