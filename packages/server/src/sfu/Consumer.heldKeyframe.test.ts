/**
 * A new video subscriber starts from the keyframe the SFU already holds. The consumer asks the publisher for a
 * keyframe when it is created (subscribe), the producer keeps it with the packets after it in its retransmission
 * buffer, and when the subscriber's DTLS completes the consumer sends them at once instead of asking again and
 * waiting for the publisher (time to first frame, DESIGN.md). Unit tests on stub tracks with a manual clock (the
 * moment a transport opens is exact), then integration over real node-datachannel peers on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Consumer } from './Consumer.js';
import { MediaCounters } from './counters.js';
import { MediaWorker } from './MediaWorker.js';
import { Producer } from './Producer.js';
import { isPli } from './rtcp.js';
import { isRtcp, isVp8Keyframe, rtpPayloadType, rtpSeq, rtpSsrc, seqDiff } from './rtp.js';
import type { PublishedMedia } from './sdp.js';
import { buildRtp, vp8Payload } from './test-helpers/packets.js';
import { TestPublisher, TestSubscriber, until } from './test-helpers/clients.js';
import { TwccRecorder } from './TwccRecorder.js';
import { stubTrack } from './test-helpers/stubTrack.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** The last byte of TestPublisher's packet with source sequence number `seq` (it survives every rewrite). */
const lastByteOf = (seq: number): number => (seq + 219) & 0xff;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A publisher sending, and a subscriber transport subscribed to it (created, not connected yet). */
async function publishingRig() {
  const worker = await MediaWorker.create({ listenIp: '127.0.0.1', port: 0 });
  const router = worker.createRouter();
  const pub = new TestPublisher('video');
  const sub = new TestSubscriber();
  cleanup = () => {
    pub.close();
    sub.close();
    worker.close();
  };
  const { answer, producers } = await router.createWebRtcTransport().publish(await pub.offer());
  await pub.connect(answer);
  const producer: Producer = producers[0]!;
  pub.start();
  await until(() => producer.getStats().packetsReceived >= 20, 5000, 'media at the producer');
  await sleep(600); // leave the keyframe rate-limit interval of the publisher's start
  const keyframesBefore = pub.keyframeSeqs.length;
  const plisBefore = pub.plis;
  const recv = router.createWebRtcTransport();
  const { answer: subAnswer, consumers } = await recv.subscribe(await sub.offer('video'), [{ mid: 'v0', producer }]);
  const consumer = consumers[0]!;
  const connect = async (): Promise<void> => {
    const opened = new Promise<void>((r) => consumer.once('open', r));
    await sub.connect(subAnswer);
    await opened;
  };
  return { pub, sub, consumer, keyframesBefore, plisBefore, connect };
}

const SSRC = 0x1111;
const MEDIA: PublishedMedia = {
  mid: '0',
  kind: 'video',
  codec: 'VP8',
  payloadType: 96,
  clockRate: 90000,
  channels: 1,
  fmtp: '',
  rtxPayloadType: 97,
  ssrc: SSRC,
  rtxSsrc: 0x2222,
  cname: 'test',
  transportCcId: 0,
  audioLevelId: -1,
  midId: -1,
  nack: true,
  direction: 'sendonly',
  disabled: false,
};


/** A producer (open) and a consumer of it (created, transport not open yet), on stub tracks and a manual clock. */
function unitRig() {
  let t = 10_000;
  const now = () => t;
  const counters = new MediaCounters();
  const pub = stubTrack();
  const producer = new Producer({ media: MEDIA, rtcpSsrc: 1, counters, twcc: new TwccRecorder(), now, nowUs: () => t * 1000 });
  producer._attachTrack(pub.track);
  pub.open();
  producer._setTransportReady();
  const sub = stubTrack();
  const consumer = new Consumer({ mid: 'v0', producer, ssrc: 0xaaaa, rtxSsrc: 0xaaab, payloadType: 98, rtxPayloadType: 99, cname: 'c', counters, now });
  consumer._attachTrack(sub.track);
  producer._addConsumer(consumer);
  /** One VP8 packet from the publisher; `key` on the first packet of a keyframe; the last byte carries `seq`. */
  const send = (seq: number, key = false): void =>
    pub.deliver(buildRtp({ pt: 96, seq, ts: Math.floor(seq / 2) * 3000, ssrc: SSRC, payload: [...vp8Payload({ start: key || seq % 2 === 0, keyframe: key }), seq & 0xff] }));
  const plis = () => pub.sent.filter((b) => isRtcp(b, b.length) && isPli(b, 0)).length;
  const openSubscriber = () => {
    sub.open();
    consumer._setTransportReady();
  };
  return { producer, consumer, send, plis, openSubscriber, sent: sub.sent, advance: (ms: number) => void (t += ms), now };
}

describe('Consumer: starting a new subscriber from the held keyframe (stub tracks)', () => {
  it('asks the publisher for a keyframe when it is created', () => {
    const { plis } = unitRig();
    expect(plis()).toBe(1);
  });

  it('sends the held keyframe and every packet after it the moment its transport opens, rewritten and in sequence, and asks for nothing more', () => {
    const { producer, send, plis, openSubscriber, sent, advance, now } = unitRig();
    send(104, true);
    for (let s = 105; s < 110; s++) send(s);
    expect(sent).toHaveLength(0); // not open yet: nothing forwarded
    advance(120);
    openSubscriber();
    expect(sent.map((b) => b[b.length - 1])).toEqual([104, 105, 106, 107, 108, 109]);
    expect(isVp8Keyframe(sent[0]!, sent[0]!.length)).toBe(true);
    for (const b of sent) expect([rtpSsrc(b), rtpPayloadType(b)]).toEqual([0xaaaa, 98]);
    for (let i = 1; i < sent.length; i++) expect(seqDiff(rtpSeq(sent[i]!), rtpSeq(sent[i - 1]!))).toBe(1);
    send(110); // the live stream continues the sequence
    expect(sent).toHaveLength(7);
    expect(seqDiff(rtpSeq(sent[6]!), rtpSeq(sent[5]!))).toBe(1);
    advance(600);
    producer._tick(now()); // a deferred keyframe request would go out now
    expect(plis()).toBe(1);
  });

  it('asks the publisher when its transport opens if a packet after the held keyframe is missing', () => {
    const { producer, send, plis, openSubscriber, sent, advance, now } = unitRig();
    send(104, true);
    send(105);
    send(107);
    advance(120);
    openSubscriber();
    expect(sent).toHaveLength(0);
    advance(500);
    producer._tick(now()); // coalesced with the request made at creation: deferred to 500 ms after it
    expect(plis()).toBe(2);
    send(108, true);
    expect(sent.map((b) => b[b.length - 1])).toEqual([108]);
  });
});

describe('a new video subscriber and the keyframe the SFU holds (node-datachannel, loopback)', () => {
  it('asks the publisher for a keyframe as soon as the subscription is created, before the subscriber connects', async () => {
    const { pub, keyframesBefore, plisBefore } = await publishingRig();
    await until(() => pub.plis > plisBefore, 2000, 'a PLI at the publisher');
    await until(() => pub.keyframeSeqs.length > keyframesBefore, 2000, 'the keyframe');
  }, 20_000);

  it('asks the publisher when its transport opens if the held keyframe is too old, and starts on the new one', async () => {
    const { pub, sub, keyframesBefore, connect } = await publishingRig();
    await until(() => pub.keyframeSeqs.length > keyframesBefore, 2000, 'the keyframe asked for at subscribe');
    const held = pub.keyframeSeqs.at(-1)!;
    await sleep(700); // older than the 500 ms a held keyframe may be
    const plis = pub.plis;
    await connect();
    await until(() => sub.packets.length >= 1, 5000, 'media at the subscriber');
    expect(pub.plis).toBeGreaterThan(plis);
    const first = sub.packets[0]!;
    expect(first.keyframe).toBe(true);
    expect(pub.keyframeSeqs.at(-1)).not.toBe(held);
    expect(first.payloadByte).toBe(lastByteOf(pub.keyframeSeqs.at(-1)!));
  }, 20_000);
});
