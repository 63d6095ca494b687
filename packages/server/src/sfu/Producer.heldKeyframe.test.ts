/**
 * Unit (synthetic packets, stub track, manual clock): what a video producer can hand a new subscriber from its
 * retransmission buffer — the newest keyframe and everything after it, only when complete, young and short enough.
 */
import { describe, expect, it } from 'vitest';
import { MediaCounters } from './counters.js';
import { Producer } from './Producer.js';
import type { PublishedMedia } from './sdp.js';
import { buildRtp, vp8Payload } from './test-helpers/packets.js';
import { TwccRecorder } from './TwccRecorder.js';
import { stubTrack } from './test-helpers/stubTrack.js';

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

function rig() {
  let t = 10_000;
  const { track, deliver } = stubTrack(true);
  const producer = new Producer({ media: MEDIA, rtcpSsrc: 1, counters: new MediaCounters(), twcc: new TwccRecorder(), now: () => t, nowUs: () => t * 1000 });
  producer._attachTrack(track);
  producer._setTransportReady();
  /** One VP8 packet; `key` on the first packet of a keyframe. */
  const send = (seq: number, key = false): void =>
    deliver(buildRtp({ pt: 96, seq, ts: Math.floor(seq / 2) * 3000, ssrc: SSRC, payload: vp8Payload({ start: key || seq % 2 === 0, keyframe: key }) }));
  const held = (maxAgeMs = 500, maxPackets = 256) => producer._heldKeyframe(t, maxAgeMs, maxPackets);
  return { producer, send, held, advance: (ms: number) => void (t += ms) };
}

describe('Producer._heldKeyframe', () => {
  it('holds nothing before the first keyframe', () => {
    const { send, held } = rig();
    for (let s = 100; s < 110; s++) send(s);
    expect(held()).toBeNull();
  });

  it('spans the newest keyframe to the newest packet, and moves to the next keyframe', () => {
    const { send, held } = rig();
    for (let s = 100; s < 104; s++) send(s);
    send(104, true);
    for (let s = 105; s < 110; s++) send(s);
    expect(held()).toEqual([104, 109]);
    send(110, true);
    send(111);
    expect(held()).toEqual([110, 111]);
  });

  it('holds nothing while a packet after the keyframe is missing, and again once it arrives', () => {
    const { send, held } = rig();
    send(200, true);
    send(201);
    send(203);
    expect(held()).toBeNull();
    send(202); // late, or repaired by retransmission
    expect(held()).toEqual([200, 203]);
  });

  it('holds nothing when the keyframe is older than maxAgeMs', () => {
    const { send, held, advance } = rig();
    send(300, true);
    advance(400);
    send(301);
    expect(held(500)).toEqual([300, 301]);
    advance(101);
    expect(held(500)).toBeNull();
  });

  it('holds nothing when the keyframe and what follows exceed maxPackets', () => {
    const { send, held } = rig();
    send(400, true);
    for (let s = 401; s < 400 + 256; s++) send(s);
    expect(held(500, 256)).toEqual([400, 655]);
    send(656);
    expect(held(500, 256)).toBeNull();
  });

  it('follows a keyframe that comes more than half the sequence space after the previous one', () => {
    const { send, held } = rig();
    send(1000, true);
    for (let s = 1001; s < 1000 + 40_000; s++) send(s & 0xffff);
    const next = (1000 + 40_000) & 0xffff;
    send(next, true);
    send((next + 1) & 0xffff);
    expect(held()).toEqual([next, (next + 1) & 0xffff]);
  });

  it('works across the sequence-number wrap', () => {
    const { send, held } = rig();
    send(65534, true);
    send(65535);
    send(0);
    send(1);
    expect(held()).toEqual([65534, 1]);
  });

  it('holds nothing while the producer is paused', () => {
    const { producer, send, held } = rig();
    send(500, true);
    send(501);
    producer.pause();
    expect(held()).toBeNull();
  });
});
