import { describe, expect, test } from 'vitest';
import { InboundRtpCounter } from './InboundRtpCounter.js';
import { encodeAbsCaptureTime, writeRtpPacket } from './rtp.js';
import { Vp8SyntheticEncoder } from './Vp8SyntheticEncoder.js';
import { packetizeVp8 } from './vp8Rtp.js';

const audioPkt = (seq: number, opts: { sentAt?: number; pt?: number; ssrc?: number } = {}) =>
  writeRtpPacket(
    {
      marker: false,
      payloadType: opts.pt ?? 111,
      sequenceNumber: seq & 0xffff,
      timestamp: seq * 960,
      ssrc: opts.ssrc ?? 1,
      extensions: opts.sentAt === undefined ? undefined : [{ id: 9, data: encodeAbsCaptureTime(opts.sentAt) }],
    },
    Uint8Array.of(0xf8, 0xff, 0xfe),
  );

describe('InboundRtpCounter', () => {
  test('gaps in sequence numbers count as lost and are reported for NACK, across the 16-bit wrap', () => {
    const c = new InboundRtpCounter('audio', '0', { payloadTypes: [111] });
    expect(c.onPacket(audioPkt(65533), 1000)).toEqual([]);
    expect(c.onPacket(audioPkt(65534), 1020)).toEqual([]);
    expect(c.onPacket(audioPkt(1), 1040)).toEqual([65535, 0]);
    expect(c.stats()).toMatchObject({ packetsReceived: 3, packetsLost: 2 });
    // The retransmission of 0 arrives late: one fewer lost, counted as out of order.
    expect(c.onPacket(audioPkt(0), 1050)).toEqual([]);
    expect(c.stats()).toMatchObject({ packetsReceived: 4, packetsLost: 1, packetsOutOfOrder: 1 });
  });

  test('duplicates, RTCP and foreign payload types (RTX, probes) are not counted', () => {
    const c = new InboundRtpCounter('audio', '0', { payloadTypes: [111] });
    c.onPacket(audioPkt(10));
    expect(c.onPacket(audioPkt(10))).toBeNull();
    expect(c.onPacket(audioPkt(11, { pt: 97 }))).toBeNull();
    expect(c.onPacket(Buffer.from([0x81, 201, 0, 1, 0, 0, 0, 1]))).toBeNull();
    expect(c.stats()).toMatchObject({ packetsReceived: 1, packetsDuplicated: 1, packetsLost: 0 });
  });

  test('latency percentiles come from the abs-capture-time extension', () => {
    const c = new InboundRtpCounter('audio', '0', { absCaptureTimeId: 9 });
    for (let i = 0; i < 100; i++) c.onPacket(audioPkt(i, { sentAt: 1_000_000 + i * 20 }), 1_000_000 + i * 20 + (i === 99 ? 500 : 10));
    const s = c.stats();
    expect(s.latencySamples).toBe(100);
    expect(s.latencyP50Ms).toBeCloseTo(10, 1);
    expect(s.latencyP99Ms).toBeCloseTo(500, 1);
    expect(s.latencyMaxMs).toBeCloseTo(500, 1);
  });

  test('video frames are counted by marker bit and key frames by the VP8 payload header', () => {
    const enc = new Vp8SyntheticEncoder({ width: 320, height: 240, targetFrameBytes: 3000 });
    const c = new InboundRtpCounter('video', '0', { payloadTypes: [96] });
    let seq = 0;
    for (let f = 0; f < 5; f++) {
      const frame = enc.encode(f === 0 || f === 3);
      const packets = packetizeVp8(frame.data, f, 1200);
      packets.forEach((p, i) => c.onPacket(writeRtpPacket({ marker: i === packets.length - 1, payloadType: 96, sequenceNumber: seq++, timestamp: f * 3000, ssrc: 7 }, p)));
    }
    expect(c.stats()).toMatchObject({ framesReceived: 5, keyframesReceived: 2, frameWidth: 320, frameHeight: 240, packetsLost: 0, packetsReceived: seq });
    expect(c.stats().firstKeyframeAt).not.toBeNull();
  });

  test('bit rate is measured over one-second windows and drops to 0 when the stream stops', () => {
    const c = new InboundRtpCounter('audio', '0');
    // 50 packets/s for 3 s, 100 bytes each.
    for (let i = 0; i < 150; i++) c.onPacket(Buffer.concat([audioPkt(i), Buffer.alloc(100 - 15)]), 10_000 + i * 20);
    expect(c.stats(10_000 + 150 * 20).bitrate).toBeCloseTo(40_000, -3);
    expect(c.stats(10_000 + 150 * 20 + 5000).bitrate).toBe(0);
  });

  test('the receiver-report block carries fraction lost for the interval and the extended highest sequence', () => {
    const c = new InboundRtpCounter('audio', '0');
    for (let s = 0; s < 8; s++) if (s !== 3 && s !== 5) c.onPacket(audioPkt(s));
    const first = c.reportBlock();
    expect(first).toMatchObject({ ssrc: 1, cumulativeLost: 2, highestSeq: 7, fractionLost: Math.floor((2 * 256) / 8) });
    for (let s = 8; s < 16; s++) c.onPacket(audioPkt(s));
    expect(c.reportBlock()).toMatchObject({ cumulativeLost: 2, highestSeq: 15, fractionLost: 0 });
  });
});
