// Two Node peers on loopback: the path a load-test bot takes (publisher bot → subscriber bot),
// without a server in between.
import { afterEach, expect, test } from 'vitest';
import { NodePeerConnection, type IceCandidate, type RemoteTrack } from './NodePeerConnection.js';
import { waitFor } from './test-helpers/pageRtc.js';
import { InvalidStateError } from '../../errors.js';

const peers: NodePeerConnection[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

async function connectPair(publisherOptions: ConstructorParameters<typeof NodePeerConnection>[0] = {}) {
  const publisher = new NodePeerConnection({ bindAddress: '127.0.0.1', ...publisherOptions });
  const subscriber = new NodePeerConnection({ bindAddress: '127.0.0.1' });
  peers.push(publisher, subscriber);
  const video = publisher.addVideoSource({ width: 320, height: 240, fps: 30, bitrate: 300_000 });
  const audio = publisher.addAudioSource();
  const tracks: RemoteTrack[] = [];
  subscriber.on('track', (t) => tracks.push(t));
  await subscriber.setRemoteDescription(await publisher.createOffer());
  await publisher.setRemoteDescription(await subscriber.createAnswer());
  return { publisher, subscriber, video, audio, tracks };
}

test('a subscriber peer receives every packet a publisher peer sends, with frames and key frames counted', async () => {
  const { video, audio, tracks } = await connectPair();
  await waitFor(() => tracks.map((t) => t.stats()), (s) => s.length === 2 && s.every((t) => t.packetsReceived >= 50), 10_000, 'packets on both tracks');
  video.stop();
  audio.stop();
  const v = tracks.find((t) => t.kind === 'video') as RemoteTrack;
  const a = tracks.find((t) => t.kind === 'audio') as RemoteTrack;
  const sent = { v: video.stats.packetsSent, a: audio.stats.packetsSent };
  await waitFor(() => [v.stats().packetsReceived, a.stats().packetsReceived], ([pv, pa]) => pv === sent.v && pa === sent.a, 5_000, 'all packets');
  expect(v.stats().packetsLost).toBe(0);
  expect(v.stats().framesReceived).toBe(video.stats.framesSent);
  expect(v.stats().keyframesReceived).toBe(video.stats.keyframesSent);
  expect(v.stats().frameWidth).toBe(320);
  expect(a.stats().framesReceived).toBe(audio.stats.framesSent);
}, 20_000);

test('the subscriber measures end-to-end latency from abs-capture-time on both tracks', async () => {
  const { tracks } = await connectPair();
  const s = await waitFor(() => tracks.map((t) => t.stats()), (st) => st.length === 2 && st.every((t) => t.latencySamples >= 50), 10_000, 'latency samples');
  for (const t of s) {
    expect(t.latencyP50Ms).not.toBeNull();
    // Same clock on both ends: positive, and loopback is fast (generous bound for a loaded CI box).
    expect(t.latencyP50Ms as number).toBeGreaterThanOrEqual(0);
    expect(t.latencyP50Ms as number).toBeLessThan(250);
    expect(t.latencyP99Ms as number).toBeGreaterThanOrEqual(t.latencyP50Ms as number);
  }
}, 20_000);

test('loss on the path shows up as lost packets at the subscriber, then NACK recovers them', async () => {
  let n = 0;
  const dropped = new Set<number>();
  const { video, tracks } = await connectPair({
    dropOutgoing: (pkt, kind) => {
      const seq = pkt.readUInt16BE(2);
      if (kind !== 'video' || dropped.has(seq)) return false;
      if (++n % 20 !== 0) return false;
      dropped.add(seq);
      return true;
    },
  });
  await waitFor(() => tracks.find((t) => t.kind === 'video')?.stats(), (s) => (s?.packetsReceived ?? 0) >= 150, 10_000, 'video packets');
  const v = (tracks.find((t) => t.kind === 'video') as RemoteTrack).stats();
  expect(dropped.size).toBeGreaterThan(0);
  expect(v.nacksSent).toBeGreaterThan(0);
  expect(video.stats.packetsRetransmitted).toBeGreaterThan(0);
  expect(v.packetsOutOfOrder).toBeGreaterThan(0);
}, 20_000);

test('close() stops the sources and is idempotent; later calls reject with InvalidStateError', async () => {
  const { publisher, video } = await connectPair();
  publisher.close();
  publisher.close();
  expect(publisher.connectionState).toBe('closed');
  const sent = video.stats.packetsSent;
  await new Promise((r) => setTimeout(r, 200));
  expect(video.stats.packetsSent).toBe(sent);
  await expect(publisher.createOffer()).rejects.toBeInstanceOf(InvalidStateError);
}, 20_000);

test('with trickle, descriptions come at once and candidates as icecandidate events ending with null', async () => {
  const publisher = new NodePeerConnection({ bindAddress: '127.0.0.1', trickle: true });
  const subscriber = new NodePeerConnection({ bindAddress: '127.0.0.1', trickle: true });
  peers.push(publisher, subscriber);
  const fromPublisher: (IceCandidate | null)[] = [];
  const fromSubscriber: (IceCandidate | null)[] = [];
  publisher.on('icecandidate', (c) => fromPublisher.push(c));
  subscriber.on('icecandidate', (c) => fromSubscriber.push(c));
  const video = publisher.addVideoSource({ width: 160, height: 120 });
  const tracks: RemoteTrack[] = [];
  subscriber.on('track', (t) => tracks.push(t));
  const offer = await publisher.createOffer();
  await subscriber.setRemoteDescription(offer);
  await publisher.setRemoteDescription(await subscriber.createAnswer());
  await waitFor(() => ({ fromPublisher, fromSubscriber }), (v) => v.fromPublisher.at(-1) === null && v.fromSubscriber.at(-1) === null, 5_000, 'end of candidates');
  for (const c of fromPublisher) if (c) await subscriber.addIceCandidate(c);
  for (const c of fromSubscriber) if (c) await publisher.addIceCandidate(c);
  expect(fromPublisher.filter((c) => c !== null).every((c) => c?.candidate.startsWith('candidate:'))).toBe(true);
  await waitFor(() => tracks[0]?.stats().framesReceived ?? 0, (n) => n >= 10, 10_000, 'frames over trickled candidates');
  expect(publisher.connectionState).toBe('connected');
  expect(video.stats.framesSent).toBeGreaterThanOrEqual(10);
}, 20_000);
