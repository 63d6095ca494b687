import { describe, expect, it } from 'vitest';
import { ReceiverStats } from './ReceiverStats.js';
import { ReportBlock, SenderInfo } from './rtcp.js';
import { SenderStats } from './SenderStats.js';
import { ntpMiddle } from './ntp.js';

describe('ReceiverStats', () => {
  const b = new ReportBlock();

  it('reports no loss and the highest sequence for an unbroken stream', () => {
    const r = new ReceiverStats(90000);
    for (let s = 0; s < 100; s++) r.onPacket(s, s * 3000, s * 33.3333);
    r.fillReportBlock(b, 7, 4000);
    expect(b.ssrc).toBe(7);
    expect(b.cumulativeLost).toBe(0);
    expect(b.fractionLost).toBe(0);
    expect(b.highestSeq).toBe(99);
  });

  it('computes cumulative and per-interval fraction lost', () => {
    const r = new ReceiverStats(90000);
    for (let s = 0; s < 100; s++) if (s % 4 !== 3) r.onPacket(s, s * 3000, s * 33);
    r.onPacket(100, 100 * 3000, 3300);
    r.fillReportBlock(b, 1, 4000);
    expect(b.cumulativeLost).toBe(25);
    expect(b.fractionLost).toBe(Math.floor((25 * 256) / 101));
    for (let s = 101; s < 201; s++) r.onPacket(s, s * 3000, s * 33);
    r.fillReportBlock(b, 1, 8000);
    expect(b.fractionLost).toBe(0);
    expect(b.cumulativeLost).toBe(25);
  });

  it('extends the highest sequence number across wraparound', () => {
    const r = new ReceiverStats(90000);
    for (let s = 65530; s < 65546; s++) r.onPacket(s & 0xffff, s * 3000, s);
    expect(r.extendedHighestSeq).toBe(65545);
    expect(r.cumulativeLost).toBe(0);
  });

  it('measures zero jitter for perfectly paced packets and positive jitter for uneven arrival', () => {
    const even = new ReceiverStats(90000);
    for (let s = 0; s < 50; s++) even.onPacket(s, s * 3000, (s * 3000) / 90);
    expect(even.jitter).toBe(0);
    const uneven = new ReceiverStats(90000);
    for (let s = 0; s < 50; s++) uneven.onPacket(s, s * 3000, (s * 3000) / 90 + (s % 2) * 10);
    // 10 ms alternating offset = 900 ticks per step; the estimate converges toward 900.
    expect(uneven.jitter).toBeGreaterThan(600);
    expect(uneven.jitter).toBeLessThanOrEqual(900);
  });

  it('counts a retransmission as received without letting its late arrival into the jitter', () => {
    const r = new ReceiverStats(90000);
    for (let s = 0; s < 50; s++) if (s !== 10) r.onPacket(s, s * 3000, (s * 3000) / 90);
    r.onPacket(10, 10 * 3000, 2000, true);
    expect(r.jitter).toBe(0);
    expect(r.cumulativeLost).toBe(0);
  });

  it('echoes the last SR as LSR with the delay since it as DLSR', () => {
    const r = new ReceiverStats(48000);
    r.onPacket(1, 0, 0);
    r.onSenderReport(0x12345678, 1000);
    r.fillReportBlock(b, 1, 1500);
    expect(b.lsr).toBe(0x12345678);
    expect(b.dlsr).toBe(32768);
  });
});

describe('SenderStats', () => {
  it('counts packets and octets and maps NTP to the extrapolated RTP timestamp', () => {
    const s = new SenderStats(90000);
    s.onPacketSent(90000, 1000, 1000);
    s.onPacketSent(93000, 500, 1033);
    const info = new SenderInfo();
    s.fillSenderInfo(info, 1133, -1);
    expect(info.packetCount).toBe(2);
    expect(info.octetCount).toBe(1500);
    expect(info.rtpTimestamp).toBe(93000 + 9000);
    expect(info.ntpSec).toBeGreaterThan(3_900_000_000);
  });

  it('uses the RTP timestamp the caller derived from the source SR', () => {
    const s = new SenderStats(90000);
    s.onPacketSent(1, 1, 0);
    const info = new SenderInfo();
    s.fillSenderInfo(info, 10, 0xfffffffe);
    expect(info.rtpTimestamp).toBe(0xfffffffe);
  });

  it('computes RTT from a report block echoing its last SR', () => {
    const s = new SenderStats(90000);
    s.onPacketSent(0, 100, 0);
    const info = new SenderInfo();
    s.fillSenderInfo(info, 1000, -1);
    const lsr = ntpMiddle(info.ntpSec, info.ntpFrac);
    // receiver held the SR for 20 ms; we read its RR 70 ms after sending the SR -> RTT 50 ms
    expect(s.rttFromReport(lsr, (20 * 65536) / 1000, 1070)).toBeCloseTo(50, 5);
    expect(s.rttFromReport(lsr + 1, 0, 1070)).toBe(-1);
  });
});
