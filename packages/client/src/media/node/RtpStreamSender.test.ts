import { describe, expect, test } from 'vitest';
import { RtpStreamSender } from './RtpStreamSender.js';
import { parseRtcp, writeNack, writePli } from './rtcp.js';
import { parseRtpPacket, wallClockMs } from './rtp.js';
import { SyntheticVideoSource } from './SyntheticVideoSource.js';
import { parseVp8Payload } from './vp8Rtp.js';

describe('RtpStreamSender', () => {
  test('a NACK is answered with the original packets while they are in the buffer; older ones are counted as missed', () => {
    const sent: Buffer[] = [];
    const s = new RtpStreamSender({ ssrc: 77, payloadType: 96, clockRate: 90_000, retransmitBufferSize: 4 });
    s.attach((p) => sent.push(p));
    const originals = Array.from({ length: 6 }, (_, i) => s.send(Uint8Array.of(i), 1000, false));
    const seqs = originals.map((p) => p.readUInt16BE(2));
    sent.length = 0;
    s.handleFeedback(parseRtcp(writeNack(1, 77, [seqs[5]!, seqs[4]!, seqs[0]!])));
    expect(sent.map((p) => p.readUInt16BE(2)).sort()).toEqual([seqs[4], seqs[5]].sort());
    expect(sent[0]?.equals(originals[5]!) || sent[0]?.equals(originals[4]!)).toBe(true);
    expect(s.stats).toMatchObject({ nacksReceived: 1, packetsRetransmitted: 2, retransmissionsMissed: 1 });
  });

  test('feedback for another SSRC is ignored', () => {
    const s = new RtpStreamSender({ ssrc: 77, payloadType: 96, clockRate: 90_000 });
    expect(s.handleFeedback(parseRtcp(writePli(1, 78)))).toBe(false);
    expect(s.handleFeedback(parseRtcp(writePli(1, 77)))).toBe(true);
    expect(s.stats.plisReceived).toBe(1);
  });

  test('a sender report maps the wall clock to the RTP clock of the packets sent', () => {
    const out: Buffer[] = [];
    const s = new RtpStreamSender({ ssrc: 5, payloadType: 96, clockRate: 90_000 });
    s.attach((p) => out.push(p));
    s.sendReport();
    expect(out).toHaveLength(0); // nothing sent yet: no report
    const sentAt = wallClockMs() - 100;
    s.send(Uint8Array.of(1, 2, 3), 1_000_000, true, sentAt);
    s.sendReport();
    const [sr] = parseRtcp(out[1]!);
    expect(sr).toMatchObject({ kind: 'sr', ssrc: 5, packets: 1, octets: 3 });
    const { rtpTimestamp, ntpMs } = sr as { rtpTimestamp: number; ntpMs: number };
    expect(rtpTimestamp - 1_000_000).toBeCloseTo(((ntpMs - sentAt) * 90_000) / 1000, -2);
  });

  test('packets carry the abs-capture-time extension with the send time', () => {
    const s = new RtpStreamSender({ ssrc: 1, payloadType: 111, clockRate: 48_000, absCaptureTimeId: 3 });
    const pkt = s.send(Uint8Array.of(0xf8), 0, true, 1_700_000_000_000);
    expect(pkt[12]).toBe(0xbe);
    expect(pkt[16]).toBe((3 << 4) | 7);
  });
});

describe('SyntheticVideoSource', () => {
  test('a PLI makes the next frame a key frame, at most once per minimum spacing', () => {
    const packets: Buffer[] = [];
    const v = new SyntheticVideoSource({ width: 160, height: 120, keyframeIntervalMs: 0, minKeyframeSpacingMs: 0 });
    v.attach((p) => packets.push(p));
    const keyframeStarts = () =>
      packets.filter((p) => {
        const info = parseVp8Payload(parseRtpPacket(p)!.payload);
        return info?.frameStart && info.keyframe;
      }).length;
    v.sendFrame();
    v.sendFrame();
    expect(keyframeStarts()).toBe(1);
    v.handleRtcp(writePli(1, v.ssrc));
    v.sendFrame();
    expect(keyframeStarts()).toBe(2);
    v.sendFrame();
    expect(keyframeStarts()).toBe(2);
    expect(v.stats).toMatchObject({ plisReceived: 1, keyframesSent: 2, framesSent: 4 });
  });

  test('frames are split into packets under the payload limit, the last one with the marker bit, all with one timestamp', () => {
    const packets: Buffer[] = [];
    const v = new SyntheticVideoSource({ width: 640, height: 480, bitrate: 2_400_000, fps: 30, maxPayload: 1000 });
    v.attach((p) => packets.push(p));
    v.sendFrame();
    const parsed = packets.map((p) => parseRtpPacket(p)!);
    expect(parsed.length).toBeGreaterThan(3);
    expect(parsed.every((p) => p.payload.length <= 1000)).toBe(true);
    expect(parsed.map((p) => p.marker)).toEqual(parsed.map((_, i) => i === parsed.length - 1));
    expect(new Set(parsed.map((p) => p.timestamp)).size).toBe(1);
  });
});

describe('SyntheticVideoSource with shared frames', () => {
  const firstPacketsOf = (v: SyntheticVideoSource, frames: number): Buffer[] => {
    const payloads: Buffer[] = [];
    // VP8 data after the 4-byte payload descriptor (whose picture id is per source).
    v.attach((p) => payloads.push(Buffer.from(parseRtpPacket(p)!.payload.subarray(4))));
    for (let i = 0; i < frames; i++) v.sendFrame();
    return payloads;
  };

  test('two sources with the same settings send byte-identical VP8 payloads, encoded once', () => {
    const opts = { width: 320, height: 240, fps: 10, bitrate: 200_000, keyframeIntervalMs: 1000 };
    const a = firstPacketsOf(new SyntheticVideoSource(opts), 12);
    const b = firstPacketsOf(new SyntheticVideoSource(opts), 12);
    expect(a.length).toBe(b.length);
    expect(a.every((p, i) => p.equals(b[i] as Buffer))).toBe(true);
  });

  test('the group of pictures restarts with its key frame every keyframeIntervalMs worth of frames and on PLI', () => {
    const v = new SyntheticVideoSource({ width: 160, height: 120, fps: 10, keyframeIntervalMs: 500, minKeyframeSpacingMs: 0 });
    const keys: boolean[] = [];
    v.on('frame', (f) => keys.push(f.keyframe));
    v.attach(() => undefined);
    for (let i = 0; i < 7; i++) v.sendFrame();
    v.handleRtcp(writePli(9, v.ssrc));
    v.sendFrame();
    v.sendFrame();
    expect(keys).toEqual([true, false, false, false, false, true, false, true, false]);
  });
});
