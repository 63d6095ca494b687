import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '@convene/server-sdk';
import type { NodePublisher } from '../media/node/NodePublisher.js';
import type { NodeSubscriber } from '../media/node/NodeSubscriber.js';
import { API_KEY, API_SECRET, nextEvent, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { OT, type MuteForcedEvent, type Session, type StreamEvent, type StreamPropertyChangedEvent } from '../index.js';

/*
 * Relayed (peer-to-peer) sessions with Node bots: a real server on port 0 relays descriptions and
 * candidates; RTP flows directly between the two NodePeerConnections (the SFU's counter stays still).
 */

let h: Harness;
let n = 0;
const peer = { bindAddress: '127.0.0.1' };

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function relayedSession(): Promise<string> {
  const { sessionId, mediaMode } = await createSession({ serverUrl: h.url, apiKey: API_KEY, apiSecret: API_SECRET, mediaMode: 'relayed', name: `relayed-${++n}-${Date.now()}` });
  expect(mediaMode).toBe('relayed');
  return sessionId;
}

function publish(session: Session, props: object = {}): Promise<NodePublisher> {
  const publisher = OT.initPublisher(null, { peer, resolution: '320x240', frameRate: 15, ...props }) as NodePublisher;
  return new Promise((resolve, reject) => session.publish(publisher, (err) => (err ? reject(err) : resolve(publisher))));
}

function subscribe(session: Session, stream: { streamId: string }, props: object = {}): Promise<NodeSubscriber> {
  return new Promise((resolve, reject) => {
    const sub = session.subscribe(stream, undefined, { peer, ...props }, (err) => (err ? reject(err) : resolve(sub as NodeSubscriber)));
  });
}

const videoIn = (sub: NodeSubscriber) => sub.getStats()?.inbound.find((t) => t.kind === 'video');
const audioIn = (sub: NodeSubscriber) => sub.getStats()?.inbound.find((t) => t.kind === 'audio');

async function forwarded(): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const m = /^convene_rtp_packets_forwarded_total (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('relayed sessions (peer to peer between Node bots)', () => {
  it('media flows peer to peer: frames and audio arrive, the SFU forwards nothing, the selected pair is between the two bots', async () => {
    const sid = await relayedSession();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const before = await forwarded();
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a, { name: 'p2p' });
    const { stream } = await created;
    expect(stream.name).toBe('p2p');
    expect(stream.hasAudio && stream.hasVideo).toBe(true);
    const sub = await subscribe(b, stream);
    const f0 = videoIn(sub)!.framesReceived;
    await until(() => videoIn(sub)!.framesReceived >= f0 + 10 && audioIn(sub)!.packetsReceived >= 10, 8000, 'frames and audio peer to peer');
    const pair = sub.getStats()!.selectedCandidatePair!;
    // Both ends are bots on 127.0.0.1: the server's media port (an SFU) is not on the path.
    const port = (c: string) => Number(c.split(' ')[5]);
    const relayStats = publisher.getRelayStats();
    expect(relayStats).toHaveLength(1);
    const pubPair = relayStats[0]!.stats.selectedCandidatePair!;
    expect(port(pair.remote)).toBe(port(pubPair.local));
    expect(await forwarded()).toBe(before);
  });

  it('publishVideo(false) reaches the subscriber as streamPropertyChanged, subscribeToVideo(false) stops the video peer to peer', async () => {
    const sid = await relayedSession();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const sub = await subscribe(b, stream);
    const changed = nextEvent<StreamPropertyChangedEvent>(b, 'streamPropertyChanged');
    publisher.publishVideo(false);
    const e = await changed;
    expect(e.changedProperty).toBe('hasVideo');
    expect(e.newValue).toBe(false);
    publisher.publishVideo(true);
    await until(() => stream.hasVideo, 3000, 'video back');
    sub.subscribeToVideo(false);
    await new Promise((r) => setTimeout(r, 600));
    const v0 = videoIn(sub)!.packetsReceived;
    const a0 = audioIn(sub)!.packetsReceived;
    await new Promise((r) => setTimeout(r, 800));
    expect(videoIn(sub)!.packetsReceived - v0).toBeLessThan(5);
    expect(audioIn(sub)!.packetsReceived).toBeGreaterThan(a0 + 10);
    sub.subscribeToVideo(true);
    await until(() => videoIn(sub)!.packetsReceived > v0 + 20, 5000, 'video resumed');
  });

  it('unsubscribe closes the publisher’s peer connection toward that subscriber; forceUnpublish and forceMuteStream work as in routed mode', async () => {
    const sid = await relayedSession();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const mod = await h.join(sid, { role: 'moderator' });
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    const { stream } = await created;
    const sub = await subscribe(b, stream);
    expect(publisher.getRelayStats()).toHaveLength(1);
    b.unsubscribe(sub);
    await until(() => publisher.getRelayStats().length === 0, 3000, 'publisher closed its relay');

    await subscribe(b, stream);
    const muted = nextEvent<MuteForcedEvent>(publisher, 'muteForced');
    const changed = nextEvent<StreamPropertyChangedEvent>(b, 'streamPropertyChanged', (ev) => ev.changedProperty === 'hasAudio');
    await mod.forceMuteStream(stream);
    await muted;
    expect((await changed).newValue).toBe(false);

    const destroyed = nextEvent<StreamEvent>(b, 'streamDestroyed');
    await mod.forceUnpublish(stream);
    expect((await destroyed).reason).toBe('forceUnpublished');
    await until(() => publisher.getRelayStats().length === 0, 3000, 'relays closed with the stream');
  });

  it('a subscriber leaving ends the relay on the publisher; several subscribers each get their own peer connection', async () => {
    const sid = await relayedSession();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const c = await h.join(sid);
    const cb = nextEvent<StreamEvent>(b, 'streamCreated');
    const cc = nextEvent<StreamEvent>(c, 'streamCreated');
    const publisher = await publish(a);
    const [sb, sc] = await Promise.all([subscribe(b, (await cb).stream), subscribe(c, (await cc).stream)]);
    expect(publisher.getRelayStats()).toHaveLength(2);
    expect(videoIn(sb)!.keyframesReceived).toBeGreaterThan(0);
    expect(videoIn(sc)!.keyframesReceived).toBeGreaterThan(0);
    await c.disconnect();
    await until(() => publisher.getRelayStats().length === 1, 3000, 'relay to the leaver closed');
  });

  it('setIceConfig on the subscriber moves its relayed link to a new peer connection; the publisher closes the old one', async () => {
    const sid = await relayedSession();
    const a = await h.join(sid);
    const b = await h.join(sid);
    const created = nextEvent<StreamEvent>(b, 'streamCreated');
    const publisher = await publish(a);
    const sub = await subscribe(b, (await created).stream);
    const port = () => sub.getStats()?.selectedCandidatePair?.local.split(' ')[5];
    const port0 = port();
    expect(port0).toBeDefined();
    b.setIceConfig({ includeServers: 'custom', customServers: [] });
    await until(() => port() !== undefined && port() !== port0, 8000, 'the subscriber on a new peer connection');
    const f = videoIn(sub)!.framesReceived;
    await until(() => videoIn(sub)!.framesReceived > f + 10, 5000, 'frames on the new link');
    await until(() => publisher.getRelayStats().length === 1, 3000, 'the old link closed on the publisher');
  });
});
