import { describe, expect, it } from 'vitest';
import {
  expandNack,
  firSeqFor,
  isFir,
  isNack,
  isPli,
  isRemb,
  isTwcc,
  isValidRtcp,
  readReportBlock,
  readSdesCname,
  readSenderInfo,
  rembBitrate,
  rembSsrcs,
  ReportBlock,
  rtcpFmt,
  rtcpMediaSsrc,
  rtcpNext,
  rtcpPacketLength,
  rtcpPacketType,
  rtcpSenderSsrc,
  RtcpType,
  SenderInfo,
  TwccFeedback,
  TwccFeedbackWriter,
  TwccStatus,
  writeBye,
  writeFir,
  writeNack,
  writePli,
  writeRemb,
  writeRr,
  writeSdesCname,
  writeSr,
} from './rtcp.js';

function block(ssrc: number, lost: number): ReportBlock {
  const b = new ReportBlock();
  b.ssrc = ssrc;
  b.fractionLost = 25;
  b.cumulativeLost = lost;
  b.highestSeq = 0x1ffff;
  b.jitter = 123;
  b.lsr = 0xabcdef01;
  b.dlsr = 65536;
  return b;
}

describe('compound RTCP', () => {
  it('writes SR + SDES + BYE as one valid compound and walks it packet by packet', () => {
    const buf = Buffer.alloc(256);
    const info = new SenderInfo();
    Object.assign(info, { ntpSec: 3900000000, ntpFrac: 0x80000000, rtpTimestamp: 0xfffffff0, packetCount: 10, octetCount: 12000 });
    let n = writeSr(buf, 0, 0x1234, info, [block(99, 5)], 1);
    n += writeSdesCname(buf, n, 0x1234, new TextEncoder().encode('convene-sfu'));
    n += writeBye(buf, n, 0x1234);
    expect(isValidRtcp(buf, n)).toBe(true);
    const types: number[] = [];
    for (let o = 0; o >= 0 && o < n; o = rtcpNext(buf, o, n)) types.push(rtcpPacketType(buf, o));
    expect(types).toEqual([RtcpType.SR, RtcpType.SDES, RtcpType.BYE]);

    const got = new SenderInfo();
    readSenderInfo(buf, 0, got);
    expect(got).toEqual(info);
    const b = new ReportBlock();
    expect(readReportBlock(buf, 0, 0, b)).toBe(true);
    expect(b).toEqual(block(99, 5));
    expect(readReportBlock(buf, 0, 1, b)).toBe(false);
    const sdes = rtcpPacketLength(buf, 0);
    expect(readSdesCname(buf, sdes)).toBe('convene-sfu');
    expect(rtcpSenderSsrc(buf, sdes + rtcpPacketLength(buf, sdes))).toBe(0x1234);
  });

  it('writes an RR with several report blocks and keeps a negative cumulative loss (24-bit signed)', () => {
    const buf = Buffer.alloc(128);
    const n = writeRr(buf, 0, 7, [block(1, -3), block(2, 0x7fffff + 10)], 2);
    expect(n).toBe(8 + 48);
    expect(rtcpFmt(buf, 0)).toBe(2);
    const b = new ReportBlock();
    readReportBlock(buf, 0, 0, b);
    expect(b.cumulativeLost).toBe(-3);
    readReportBlock(buf, 0, 1, b);
    expect(b.cumulativeLost).toBe(0x7fffff); // clamped
    expect(b.ssrc).toBe(2);
  });

  it('rejects compounds whose length fields do not add up or whose version is wrong', () => {
    const buf = Buffer.alloc(64);
    const n = writePli(buf, 0, 1, 2);
    expect(isValidRtcp(buf, n)).toBe(true);
    expect(isValidRtcp(buf, n - 4)).toBe(false);
    expect(isValidRtcp(buf, n + 4)).toBe(false);
    buf[0] = 0x41;
    expect(isValidRtcp(buf, n)).toBe(false);
  });
});

describe('payload-specific feedback', () => {
  it('writes and recognises a PLI', () => {
    const buf = Buffer.alloc(12);
    expect(writePli(buf, 0, 0xaaaa, 0xbbbb)).toBe(12);
    expect(isPli(buf, 0)).toBe(true);
    expect(isFir(buf, 0)).toBe(false);
    expect(rtcpSenderSsrc(buf, 0)).toBe(0xaaaa);
    expect(rtcpMediaSsrc(buf, 0)).toBe(0xbbbb);
  });

  it('writes a FIR carrying its command sequence number for the target SSRC', () => {
    const buf = Buffer.alloc(20);
    expect(writeFir(buf, 0, 1, 0xcafe, 257)).toBe(20);
    expect(isFir(buf, 0)).toBe(true);
    expect(firSeqFor(buf, 0, 0xcafe)).toBe(1);
    expect(firSeqFor(buf, 0, 0xbeef)).toBe(-1);
  });

  it('round-trips a REMB bitrate through its exponent/mantissa encoding', () => {
    const buf = Buffer.alloc(64);
    const n = writeRemb(buf, 0, 1, 2_500_000, [11, 22], 2);
    expect(n).toBe(28);
    expect(isRemb(buf, 0)).toBe(true);
    const br = rembBitrate(buf, 0);
    expect(br).toBeLessThanOrEqual(2_500_000);
    expect(br).toBeGreaterThan(2_500_000 * 0.9999);
    const ssrcs: number[] = [0, 0, 0];
    expect(rembSsrcs(buf, 0, ssrcs)).toBe(2);
    expect(ssrcs.slice(0, 2)).toEqual([11, 22]);
    writeRemb(buf, 0, 1, 100_000, [], 0);
    expect(rembBitrate(buf, 0)).toBe(100_000);
  });
});

describe('generic NACK', () => {
  const out = new Uint16Array(256);

  it('packs consecutive losses into one PID + bitmask', () => {
    const buf = Buffer.alloc(64);
    const n = writeNack(buf, 0, 1, 2, [100, 101, 103, 116], 4);
    expect(n).toBe(16);
    expect(isNack(buf, 0)).toBe(true);
    expect(buf.readUInt16BE(12)).toBe(100);
    expect(buf.readUInt16BE(14)).toBe(0b1000000000000101);
    expect([...out.subarray(0, expandNack(buf, 0, out))]).toEqual([100, 101, 103, 116]);
  });

  it('starts a new FCI when a loss is more than 16 after the PID', () => {
    const buf = Buffer.alloc(64);
    const n = writeNack(buf, 0, 1, 2, [10, 27, 28], 3);
    expect(n).toBe(20);
    expect([...out.subarray(0, expandNack(buf, 0, out))]).toEqual([10, 27, 28]);
  });

  it('round-trips losses across the 16-bit sequence wraparound', () => {
    const buf = Buffer.alloc(64);
    const seqs = [65533, 65535, 0, 2, 40];
    const n = writeNack(buf, 0, 1, 2, seqs, seqs.length);
    expect(n).toBe(12 + 8);
    expect([...out.subarray(0, expandNack(buf, 0, out))]).toEqual(seqs);
  });

  it('never writes past the output array when expanding', () => {
    const buf = Buffer.alloc(64);
    const n = writeNack(buf, 0, 1, 2, [1, 2, 3, 4, 5], 5);
    expect(n).toBeGreaterThan(0);
    const small: number[] = [0, 0];
    expect(expandNack(buf, 0, small)).toBe(2);
    expect(small).toEqual([1, 2]);
  });
});

describe('transport-wide CC feedback', () => {
  const w = new TwccFeedbackWriter();
  const fb = new TwccFeedback();
  const buf = Buffer.alloc(1500);

  /** Writes one feedback and parses it back; checks the arrival times to the 250 µs quantum. */
  function roundTrip(baseSeq: number, arrivals: number[]): number {
    const n = w.write(buf, 0, 0x1111, 0x2222, baseSeq, arrivals, 0, arrivals.length, 7);
    expect(n % 4).toBe(0);
    expect(isValidRtcp(buf, n)).toBe(true);
    expect(isTwcc(buf, 0)).toBe(true);
    expect(fb.parse(buf, 0)).toBe(true);
    expect(fb.baseSeq).toBe(baseSeq & 0xffff);
    expect(fb.fbPktCount).toBe(7);
    expect(fb.statusCount).toBe(w.packetsWritten);
    for (let i = 0; i < w.packetsWritten; i++) {
      const a = arrivals[i]!;
      if (a < 0) {
        expect(fb.status[i]).toBe(TwccStatus.NOT_RECEIVED);
        expect(Number.isNaN(fb.arrivalUs[i])).toBe(true);
      } else {
        expect(Math.abs(fb.arrivalUs[i]! - a)).toBeLessThanOrEqual(125);
      }
    }
    return n;
  }

  it('round-trips evenly spaced packets as small deltas', () => {
    const arrivals = Array.from({ length: 30 }, (_, i) => 5_000_000 + i * 5_000);
    roundTrip(1000, arrivals);
    expect(w.packetsWritten).toBe(30);
    expect([...fb.status.subarray(0, 30)].every((s) => s === TwccStatus.SMALL_DELTA)).toBe(true);
  });

  it('round-trips losses, a long run of losses and sub-quantum jitter without drift', () => {
    const arrivals: number[] = [];
    let t = 10_000_123;
    for (let i = 0; i < 200; i++) {
      t += 1_000 + ((i * 37) % 400);
      arrivals.push(i % 9 === 4 || (i > 50 && i < 80) ? -1 : t);
    }
    arrivals[199] = t + 100;
    roundTrip(20, arrivals);
    expect(w.packetsWritten).toBe(200);
  });

  it('round-trips across the 16-bit base sequence wraparound', () => {
    const arrivals = Array.from({ length: 10 }, (_, i) => 1_000_000 + i * 2_000);
    roundTrip(65530, arrivals);
    expect(fb.baseSeq).toBe(65530);
  });

  it('encodes reordering as negative (large) deltas', () => {
    const arrivals = [2_000_000, 2_010_000, 2_005_000, 2_020_000];
    roundTrip(5, arrivals);
    expect(fb.status[2]).toBe(TwccStatus.LARGE_DELTA);
    expect(fb.arrivalUs[2]).toBeLessThan(fb.arrivalUs[1]!);
  });

  it('encodes gaps above 63.75 ms as large deltas', () => {
    const arrivals = [3_000_000, 3_500_000, 3_501_000];
    roundTrip(5, arrivals);
    expect(fb.status[1]).toBe(TwccStatus.LARGE_DELTA);
    expect(fb.status[2]).toBe(TwccStatus.SMALL_DELTA);
  });

  it('stops before a delta above 8191 ms so the caller starts a new feedback there', () => {
    const arrivals = [1_000_000, 1_001_000, 1_001_000 + 9_000_000, 1_001_000 + 9_001_000];
    roundTrip(100, arrivals);
    expect(w.packetsWritten).toBe(2);
    // Second feedback from where the first stopped.
    const rest = arrivals.slice(2);
    const n = w.write(buf, 0, 1, 2, 102, rest, 0, rest.length, 8);
    expect(n).toBeGreaterThan(0);
    fb.parse(buf, 0);
    expect(fb.baseSeq).toBe(102);
    expect(fb.statusCount).toBe(2);
    expect(Math.abs(fb.arrivalUs[0]! - rest[0]!)).toBeLessThanOrEqual(125);
  });

  it('reports leading losses, takes the reference time from the first received packet, drops trailing losses', () => {
    expect(w.write(buf, 0, 1, 2, 0, [-1, -1], 0, 2, 0)).toBe(0);
    roundTrip(9, [-1, -1, 4_000_000, 4_002_000]);
    expect(w.packetsWritten).toBe(4);
    expect(fb.status[0]).toBe(TwccStatus.NOT_RECEIVED);
    roundTrip(0, [1_000_000, 1_001_000, -1, -1]);
    expect(w.packetsWritten).toBe(2);
  });

  it('uses a run-length chunk for long runs and mixes 1-bit and 2-bit vectors', () => {
    const arrivals: number[] = [];
    for (let i = 0; i < 100; i++) arrivals.push(i < 40 ? 1_000_000 + i * 100 : -1);
    for (let i = 0; i < 20; i++) arrivals.push(i % 3 === 0 ? 2_000_000 + i * 80_000 : -1);
    const n = roundTrip(7, arrivals);
    // 40 small deltas in one run chunk + 60 losses in one run chunk keeps the packet compact.
    expect(n).toBeLessThan(20 + 2 * 8 + 40 + 7 * 2 + 4);
  });

  it('splits a feedback that would exceed the byte budget', () => {
    const arrivals = Array.from({ length: 3000 }, (_, i) => 1_000_000 + i * (i % 2 === 0 ? 70_000 : 1_000));
    const n = w.write(buf, 0, 1, 2, 0, arrivals, 0, arrivals.length, 0, 1200);
    expect(n).toBeLessThanOrEqual(1200);
    expect(w.packetsWritten).toBeLessThan(3000);
    expect(fb.parse(buf, 0)).toBe(true);
    expect(fb.statusCount).toBe(w.packetsWritten);
  });

  it('rejects a feedback whose delta bytes are truncated', () => {
    const arrivals = Array.from({ length: 10 }, (_, i) => 1_000_000 + i * 1_000);
    const n = w.write(buf, 0, 1, 2, 0, arrivals, 0, arrivals.length, 0);
    const cut = Buffer.from(buf.subarray(0, n));
    cut[0] = cut[0]! & ~0x20; // no padding
    cut.writeUInt16BE(5 - 1, 2); // claim 20 bytes: chunks present, deltas missing
    expect(fb.parse(cut, 0)).toBe(false);
  });
});
