import { describe, expect, test } from 'vitest';
import {
  decodeAbsCaptureTime,
  encodeAbsCaptureTime,
  findHeaderExtension,
  isRtcp,
  parseRtpPacket,
  seqDelta,
  writeRtpPacket,
} from './rtp.js';
import { parseRtcp, writeNack, writePli, writeReceiverReport, writeRemb, writeSenderReport } from './rtcp.js';

describe('RTP', () => {
  test('a packet written with a one-byte extension parses back to the same header, extension and payload', () => {
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    const ext = encodeAbsCaptureTime(1_700_000_000_123.5);
    const buf = writeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, extensions: [{ id: 9, data: ext }] }, payload);
    expect(buf.length % 4).toBe((12 + 4 + 12 + 5) % 4);
    const p = parseRtpPacket(buf);
    expect(p).toMatchObject({ marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef });
    expect(Buffer.from(p!.payload)).toEqual(Buffer.from(payload));
    const found = findHeaderExtension(buf, p!, 9);
    expect(decodeAbsCaptureTime(found!)).toBeCloseTo(1_700_000_000_123.5, 3);
    expect(findHeaderExtension(buf, p!, 3)).toBeNull();
  });

  test('two-byte header extensions (0x100x profile) are found too', () => {
    const buf = Buffer.from([0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0x00, 0, 3, 0, 0, 9, 8, ...encodeAbsCaptureTime(5000), 0xaa]);
    const p = parseRtpPacket(buf)!;
    expect(decodeAbsCaptureTime(findHeaderExtension(buf, p, 9)!)).toBeCloseTo(5000, 3);
    expect(Array.from(p.payload)).toEqual([0xaa]);
  });

  test('padding is excluded from the payload and malformed packets are rejected', () => {
    const buf = Buffer.from([0xa0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 7, 7, 0, 0, 3]);
    expect(Array.from(parseRtpPacket(buf)!.payload)).toEqual([7, 7]);
    expect(parseRtpPacket(Buffer.from([0x80, 96, 0]))).toBeNull();
    expect(parseRtpPacket(Buffer.from([0x40, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2]))).toBeNull();
  });

  test('RTCP is told apart from RTP by payload type, marker bit included', () => {
    expect(isRtcp(writePli(1, 2))).toBe(true);
    expect(isRtcp(writeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1 }, Uint8Array.of(0)))).toBe(false);
  });

  test('sequence distance wraps at 2^16', () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(seqDelta(100, 200)).toBe(100);
  });
});

describe('RTCP', () => {
  test('a NACK written for scattered losses parses back to the same sequence numbers', () => {
    const lost = [65530, 65531, 65535, 0, 3, 40, 41];
    const [fb] = parseRtcp(writeNack(1, 0xabcdef01, lost));
    expect(fb).toMatchObject({ kind: 'nack', mediaSsrc: 0xabcdef01 });
    expect(fb?.kind === 'nack' && [...fb.lost].sort((a, b) => a - b)).toEqual([...lost].sort((a, b) => a - b));
  });

  test('PLI, FIR, REMB, SR and RR are parsed from one compound packet', () => {
    const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 7, 0, 0, 0]);
    const sr = writeSenderReport(5, 1_700_000_000_000, 1234, 10, 1000);
    const rr = writeReceiverReport(6, [{ ssrc: 42, fractionLost: 64, cumulativeLost: -3, highestSeq: 70_000, jitter: 90, lastSr: 1, delaySinceLastSr: 2 }]);
    const parsed = parseRtcp(Buffer.concat([sr, rr, writePli(1, 42), fir, writeRemb(1, 2_500_000, [42])]));
    expect(parsed.map((p) => p.kind)).toEqual(['sr', 'rr', 'pli', 'fir', 'remb']);
    expect(parsed[0]).toMatchObject({ ssrc: 5, rtpTimestamp: 1234, packets: 10, octets: 1000 });
    expect((parsed[0] as { ntpMs: number }).ntpMs).toBeCloseTo(1_700_000_000_000, 0);
    expect(parsed[1]).toMatchObject({ reports: [{ ssrc: 42, fractionLost: 64, cumulativeLost: -3, jitter: 90 }] });
    expect(parsed[3]).toMatchObject({ kind: 'fir', mediaSsrc: 42, seq: 7 });
    const remb = parsed[4] as { bitrate: number; ssrcs: number[] };
    expect(remb.ssrcs).toEqual([42]);
    expect(Math.abs(remb.bitrate - 2_500_000)).toBeLessThan(2_500_000 / 2 ** 17);
  });
});
