/**
 * Simulcast in the SFU on synthetic packets (stub tracks, manual clock): a Producer learns its layers' SSRCs from
 * the rid / repaired-rid header extensions and keeps per-layer state (size, frame rate, NACK, RTX buffer, PLIs);
 * a Consumer forwards the layer its subscriber's preferences pick and switches on a keyframe of the new layer,
 * the output staying one stream: consecutive sequence numbers, increasing timestamps, continuous VP8 picture ids.
 */
import { describe, expect, it } from 'vitest';
import { Consumer } from './Consumer.js';
import { MediaCounters } from './counters.js';
import { Producer } from './Producer.js';
import { expandNack, isPli, isValidRtcp, rtcpMediaSsrc, rtcpNext, writeNack, writePli } from './rtcp.js';
import {
  isRtcp,
  isVp8Keyframe,
  parseVp8Descriptor,
  rtpHeaderLength,
  rtpPayloadLength,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  seqDiff,
  tsDiff,
  Vp8Descriptor,
  vp8KeyframeSize,
} from './rtp.js';
import type { PublishedMedia } from './sdp.js';
import { buildRtp, oneByteExt, vp8Payload } from './test-helpers/packets.js';
import { TwccRecorder } from './TwccRecorder.js';
import { stubTrack } from './test-helpers/stubTrack.js';

const RID_ID = 10;
const RRID_ID = 11;
const MEDIA: PublishedMedia = {
  mid: '1',
  kind: 'video',
  codec: 'VP8',
  payloadType: 96,
  clockRate: 90000,
  channels: 1,
  fmtp: '',
  rtxPayloadType: 97,
  ssrc: 0,
  rtxSsrc: 0,
  cname: 'pub',
  transportCcId: -1,
  audioLevelId: -1,
  midId: 4,
  rids: ['q', 'h', 'f'],
  ridId: RID_ID,
  repairedRidId: RRID_ID,
  nack: true,
  direction: 'sendonly',
  disabled: false,
};

/** The publisher's three layers: each its own SSRCs, sequence numbers, timestamps and picture ids, as Chrome sends them. */
const LAYERS = {
  q: { ssrc: 0xa001, rtx: 0xb001, width: 320, height: 180, seq: 1000, ts: 111_000, pic: 100, tl0: 10 },
  h: { ssrc: 0xa002, rtx: 0xb002, width: 640, height: 360, seq: 20_000, ts: 2_222_000, pic: 9000, tl0: 200 },
  f: { ssrc: 0xa003, rtx: 0xb003, width: 1280, height: 720, seq: 65_500, ts: 4_000_000_000, pic: 32_700, tl0: 250 },
};
type Rid = keyof typeof LAYERS;
const OUT_SSRC = 0xc0de;


interface Out {
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  keyframe: boolean;
  width: number;
  /** The payload's last byte: which layer and frame the packet came from (see `frame`). */
  tag: number;
}

/** What the subscriber got, parsed. */
function parse(b: Buffer): Out {
  const d = new Vp8Descriptor();
  parseVp8Descriptor(b, rtpHeaderLength(b, b.length), rtpPayloadLength(b, b.length), d);
  const size = vp8KeyframeSize(b, b.length);
  return { seq: rtpSeq(b), ts: rtpTimestamp(b), pic: d.pictureId, tl0: d.tl0PicIdx, keyframe: isVp8Keyframe(b, b.length), width: size > 0 ? Math.floor(size / 65536) : 0, tag: b[b.length - 1]! };
}

const TAG: Record<Rid, number> = { q: 0x10, h: 0x20, f: 0x30 };

/** A simulcast publisher (stub), a producer and one consumer (open), on a manual clock. */
function rig(options: { openConsumer?: boolean } = {}) {
  let t = 10_000;
  const now = () => t;
  const counters = new MediaCounters();
  const pub = stubTrack();
  const producer = new Producer({ media: MEDIA, rtcpSsrc: 1, counters, twcc: new TwccRecorder(), now, nowUs: () => t * 1000 });
  producer._attachTrack(pub.track);
  pub.open();
  producer._setTransportReady();
  const state = Object.fromEntries(Object.entries(LAYERS).map(([rid, l]) => [rid, { ...l, frames: 0 }])) as Record<Rid, (typeof LAYERS)[Rid] & { frames: number }>;
  const history = new Map<string, Buffer>();

  /** One frame (two packets) of layer `rid`; the rid extension on the first 20 packets of each SSRC, as Chrome does until acknowledged. */
  const frame = (rid: Rid, key = false): void => {
    const l = state[rid];
    for (let part = 0; part < 2; part++) {
      const first = part === 0;
      const payload = [
        ...vp8Payload({ start: first, keyframe: key && first, pictureId: l.pic, tl0: l.tl0, tid: 0, ...(key && first ? { width: l.width, height: l.height } : {}) }),
        TAG[rid] + (l.frames % 16),
      ];
      const ext = l.frames < 10 ? oneByteExt([[RID_ID, [...Buffer.from(rid)]]]) : undefined;
      const pkt = buildRtp({ pt: 96, seq: l.seq, ts: l.ts, ssrc: l.ssrc, marker: !first, payload, ...(ext ? { ext } : {}) });
      history.set(`${rid}:${l.seq}`, Buffer.from(pkt));
      pub.deliver(pkt);
      l.seq = (l.seq + 1) & 0xffff;
    }
    l.ts = (l.ts + 3000) >>> 0;
    l.pic = (l.pic + 1) & 0x7fff;
    l.tl0 = (l.tl0 + 1) & 0xff;
    l.frames++;
  };

  /** The publisher's RTX copy of `rid`'s packet `seq` (RFC 4588, repaired rid extension). */
  const rtx = (rid: Rid, seq: number, rtxSeq: number): Buffer => {
    const orig = history.get(`${rid}:${seq}`)!;
    const payload = orig.subarray(rtpHeaderLength(orig, orig.length));
    return buildRtp({ pt: 97, seq: rtxSeq, ts: rtpTimestamp(orig), ssrc: state[rid].rtx, ext: oneByteExt([[RRID_ID, [...Buffer.from(rid)]]]), payload: [seq >> 8, seq & 0xff, ...payload] });
  };

  const sub = stubTrack();
  const consumer = new Consumer({ mid: 'v', producer, ssrc: OUT_SSRC, rtxSsrc: OUT_SSRC + 1, payloadType: 98, rtxPayloadType: 99, cname: 'c', counters, now });
  consumer._attachTrack(sub.track);
  producer._addConsumer(consumer);
  const openSubscriber = (): void => {
    sub.open();
    consumer._setTransportReady();
  };
  if (options.openConsumer !== false) openSubscriber();

  /** `ms` of time at 30 fps on the layers given, with the router's periodic work (consumers every 100 ms). */
  const run = (ms: number, rids: Rid[] = ['q', 'h', 'f']): void => {
    for (let elapsed = 0; elapsed < ms; elapsed += 33) {
      for (const rid of rids) frame(rid);
      t += 33;
      producer._tick(t);
      if (Math.floor(t / 100) !== Math.floor((t - 33) / 100)) consumer._tick(t);
    }
  };
  /** PLIs the publisher received, by the SSRC they name. */
  const plisFor = (rid: Rid): number => {
    let n = 0;
    for (const b of pub.sent) {
      if (!isRtcp(b, b.length) || !isValidRtcp(b, b.length)) continue;
      for (let o = 0; o >= 0 && o < b.length; o = rtcpNext(b, o, b.length)) if (isPli(b, o) && rtcpMediaSsrc(b, o) === state[rid].ssrc) n++;
    }
    return n;
  };
  const media = (): Out[] => sub.sent.filter((b) => !isRtcp(b, b.length) && rtpSsrc(b) === OUT_SSRC).map(parse);
  return { producer, consumer, frame, rtx, run, plisFor, media, sub, pub, openSubscriber, advance: (ms: number) => void (t += ms), now, state };
}

/** Every packet continues the one before: sequence +1, timestamp not going back, picture id +0/+1, TL0PICIDX +0/+1. */
function expectSeamless(out: Out[]): void {
  for (let i = 1; i < out.length; i++) {
    const [a, b] = [out[i - 1]!, out[i]!];
    expect(seqDiff(b.seq, a.seq), `seq after packet ${i - 1}`).toBe(1);
    expect(tsDiff(b.ts, a.ts), `ts after packet ${i - 1}`).toBeGreaterThanOrEqual(0);
    expect((b.pic - a.pic) & 0x7fff, `picture id after packet ${i - 1}`).toBeLessThanOrEqual(1);
    expect((b.tl0 - a.tl0) & 0xff, `tl0picidx after packet ${i - 1}`).toBeLessThanOrEqual(1);
  }
}

/** Index of the first packet from layer `rid` in `out` (by the tag in its last byte). */
const firstFrom = (out: Out[], rid: Rid, after = 0): number => out.findIndex((o, i) => i >= after && (o.tag & 0xf0) === TAG[rid]);
const layerOf = (o: Out): Rid => (Object.keys(TAG) as Rid[]).find((r) => TAG[r] === (o.tag & 0xf0))!;

describe('Producer: simulcast layers', () => {
  it('learns each layer SSRC from the rid extension and its RTX SSRC from the repaired rid', () => {
    const { producer, frame, rtx, pub } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    expect(producer.layers.map((l) => [l.rid, l.ssrc])).toEqual([
      ['q', LAYERS.q.ssrc],
      ['h', LAYERS.h.ssrc],
      ['f', LAYERS.f.ssrc],
    ]);
    pub.deliver(rtx('h', LAYERS.h.seq, 7));
    expect(producer.layers[1]!.rtxSsrc).toBe(LAYERS.h.rtx);
    expect(producer.layers[1]!.stats.received).toBe(3); // two packets and the retransmission
  });

  it('ignores an unannounced SSRC without a rid it knows', () => {
    const { producer, pub } = rig();
    pub.deliver(buildRtp({ pt: 96, seq: 1, ts: 1, ssrc: 0xdead, ext: oneByteExt([[RID_ID, [0x78]]]), payload: vp8Payload({ start: true, keyframe: true }) }));
    pub.deliver(buildRtp({ pt: 96, seq: 1, ts: 1, ssrc: 0xbeef, payload: vp8Payload({ start: true, keyframe: true }) }));
    expect(producer.getStats().packetsReceived).toBe(0);
    expect(producer.layers.map((l) => l.ssrc)).toEqual([0, 0, 0]);
  });

  it('measures each layer: frame size from its keyframes, frame rate from its timestamps', () => {
    const { producer, frame, run, now } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(2000);
    const stats = producer.getStats().layers;
    expect(stats.map((l) => [l.rid, l.width, l.height, l.active])).toEqual([
      ['q', 320, 180, true],
      ['h', 640, 360, true],
      ['f', 1280, 720, true],
    ]);
    for (const l of stats) expect(l.frameRate).toBeGreaterThan(28);
    for (const l of stats) expect(l.frameRate).toBeLessThan(32);
    expect(producer.layers[0]!.active(now() + 1500)).toBe(false);
  });

  it('asks each layer for its own keyframe: a PLI naming that layer SSRC', () => {
    const { producer, frame, plisFor, advance } = rig({ openConsumer: false });
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    advance(600);
    const before = { q: plisFor('q'), h: plisFor('h'), f: plisFor('f') };
    producer.requestKeyframe(false, producer.layers[1]);
    expect({ q: plisFor('q'), h: plisFor('h'), f: plisFor('f') }).toEqual({ ...before, h: before.h + 1 });
  });

  it('NACKs a gap of one layer with that layer SSRC and sends one receiver report block per layer', () => {
    const { producer, frame, state, pub, now, advance } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    state.h.seq += 2; // two packets of h lost
    frame('h');
    advance(1000);
    producer._tick(now());
    const nacks = pub.sent.filter((b) => isRtcp(b, b.length) && b[1] === 205 && (b[0]! & 0x1f) === 1);
    expect(nacks.map((b) => rtcpMediaSsrc(b, 0))).toEqual([LAYERS.h.ssrc]);
    const seqs = new Uint16Array(16);
    expect([...seqs.subarray(0, expandNack(nacks[0]!, 0, seqs))]).toEqual([LAYERS.h.seq + 2, LAYERS.h.seq + 3]);
    const rr = pub.sent.find((b) => isRtcp(b, b.length) && b[1] === 201)!;
    expect(rr[0]! & 0x1f).toBe(3);
  });
});

describe('Consumer: simulcast layer selection and switching', () => {
  it('forwards the top layer by default, from its keyframe, as one SSRC', () => {
    const { frame, run, media } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(300);
    const out = media();
    expect(out.length).toBeGreaterThan(10);
    expect(out[0]).toMatchObject({ keyframe: true, width: 1280 });
    expect(new Set(out.map(layerOf))).toEqual(new Set(['f']));
    expectSeamless(out);
  });

  it('switches down to the preferred resolution on a keyframe of that layer, asked for, without a seam', () => {
    const { consumer, frame, run, media, plisFor } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(600);
    const plis = plisFor('q');
    consumer.setPreferredLayers({ resolution: { width: 320, height: 240 }, frameRate: null });
    expect(plisFor('q')).toBe(plis + 1);
    expect(consumer.targetLayer?.rid).toBe('q');
    expect(consumer.currentLayer?.rid).toBe('f'); // until q's keyframe
    run(200);
    frame('q', true); // the publisher answers the PLI
    run(300);
    const out = media();
    const at = firstFrom(out, 'q');
    expect(at).toBeGreaterThan(0);
    expect(out[at]).toMatchObject({ keyframe: true, width: 320 });
    expect(out.slice(at).every((o) => layerOf(o) === 'q')).toBe(true); // nothing of f after the switch
    expect(consumer.getStats()).toMatchObject({ layer: 'q', targetLayer: 'q' });
    expectSeamless(out);
    expect((out[at]!.pic - out[at - 1]!.pic) & 0x7fff).toBe(1);
    expect((out[at]!.tl0 - out[at - 1]!.tl0) & 0xff).toBe(1);
  });

  it('switches back up when a larger resolution is preferred, still one seamless stream', () => {
    const { consumer, frame, run, media, plisFor } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(200);
    consumer.setPreferredLayers({ resolution: { width: 320, height: 240 }, frameRate: null });
    frame('q', true);
    run(600);
    const plis = plisFor('f');
    consumer.setPreferredLayers({ resolution: { width: 1280, height: 720 }, frameRate: null });
    expect(plisFor('f')).toBe(plis + 1);
    frame('f', true);
    run(300);
    const out = media();
    const up = firstFrom(out, 'f', firstFrom(out, 'q'));
    expect(out[up]).toMatchObject({ keyframe: true, width: 1280 });
    expect(out.slice(up).every((o) => layerOf(o) === 'f')).toBe(true);
    expectSeamless(out);
  });

  it('falls back to the best layer still sent when its layer stops for a second, and asks it for a keyframe', () => {
    const { consumer, frame, run, media, plisFor } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(300);
    const plis = plisFor('h');
    run(1300, ['q', 'h']); // the publisher stops sending f (bandwidth, CPU)
    expect(consumer.targetLayer?.rid).toBe('h');
    expect(plisFor('h')).toBeGreaterThan(plis);
    frame('h', true);
    run(200, ['q', 'h']);
    const out = media();
    const at = firstFrom(out, 'h');
    expect(out[at]).toMatchObject({ keyframe: true, width: 640 });
    expect(consumer.currentLayer?.rid).toBe('h');
    expectSeamless(out);
  });

  it('repairs a loss after a switch from the new layer, rewritten like the live packets', () => {
    const { consumer, frame, run, media, sub } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(200);
    consumer.setPreferredLayers({ resolution: { width: 640, height: 360 }, frameRate: null });
    frame('h', true);
    run(200);
    const out = media();
    const lost = out[out.length - 3]!;
    const nack = Buffer.alloc(64);
    const n = writeNack(nack, 0, 0x5555, OUT_SSRC, Uint16Array.of(lost.seq), 1);
    const before = sub.sent.length;
    sub.deliver(nack.subarray(0, n));
    const repaired = sub.sent.slice(before).filter((b) => rtpSsrc(b) === OUT_SSRC + 1);
    expect(repaired).toHaveLength(1);
    const r = repaired[0]!;
    const original = Buffer.concat([r.subarray(0, rtpHeaderLength(r, r.length)), r.subarray(rtpHeaderLength(r, r.length) + 2)]);
    expect(r.readUInt16BE(rtpHeaderLength(r, r.length))).toBe(lost.seq); // RTX: the original sequence number first
    expect(parse(original)).toMatchObject({ ts: lost.ts, pic: lost.pic, tl0: lost.tl0, tag: lost.tag });
  });

  it("a subscriber's PLI asks for a keyframe of the layer it receives", () => {
    const { frame, run, sub, plisFor, advance } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(100);
    advance(600);
    const plis = { q: plisFor('q'), f: plisFor('f') };
    const pli = Buffer.alloc(12);
    writePli(pli, 0, 0x5555, OUT_SSRC);
    sub.deliver(pli);
    expect({ q: plisFor('q'), f: plisFor('f') }).toEqual({ q: plis.q, f: plis.f + 1 });
  });

  it('a new subscriber with a preferred resolution starts on the keyframe held for that layer', () => {
    const { producer, consumer, frame, run, media, openSubscriber, advance, now } = rig({ openConsumer: false });
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(100);
    consumer.setPreferredLayers({ resolution: { width: 640, height: 480 }, frameRate: null });
    frame('h', true);
    run(100);
    advance(50);
    expect(producer._heldKeyframe(now(), 500, 256, producer.layers[1])).not.toBeNull();
    openSubscriber();
    const out = media();
    expect(out[0]).toMatchObject({ keyframe: true, width: 640 });
    expect(out.every((o) => layerOf(o) === 'h')).toBe(true);
    expectSeamless(out);
  });

  it('follows a layer the publisher restarts on a new SSRC from its next keyframe', () => {
    const { producer, consumer, frame, run, media, state, pub } = rig();
    for (const rid of ['q', 'h', 'f'] as const) frame(rid, true);
    run(300);
    state.f.ssrc = 0xa0f0;
    state.f.frames = 0; // the new SSRC carries the rid again
    state.f.seq = 7;
    frame('f', true);
    run(200);
    expect(producer.layers[2]!.ssrc).toBe(0xa0f0);
    expect(consumer.currentLayer?.rid).toBe('f');
    const late = buildRtp({ pt: 96, seq: 123, ts: 1, ssrc: LAYERS.f.ssrc, ext: oneByteExt([[RID_ID, [...Buffer.from('f')]]]), payload: vp8Payload({ start: true, keyframe: false }) });
    pub.deliver(late); // a late packet of the old SSRC, still naming its rid: no restart back
    expect(producer.layers[2]!.ssrc).toBe(0xa0f0);
    run(100);
    expectSeamless(media());
  });
});
