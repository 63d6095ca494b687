import { describe, expect, it } from 'vitest';
import { TwccFeedback, TwccStatus } from './rtcp.js';
import { TwccRecorder } from './TwccRecorder.js';

describe('TwccRecorder', () => {
  const buf = Buffer.alloc(1500);
  const fb = new TwccFeedback();

  it('builds feedback carrying the recorded arrival times', () => {
    const r = new TwccRecorder();
    for (let s = 0; s < 20; s++) r.record(s, 1_000_000 + s * 3_000 + (s % 3) * 400);
    const n = r.buildFeedback(buf, 0, 1, 2);
    expect(n).toBeGreaterThan(20);
    expect(fb.parse(buf, 0)).toBe(true);
    expect(fb.baseSeq).toBe(0);
    expect(fb.statusCount).toBe(20);
    const d = fb.arrivalUs[19]! - fb.arrivalUs[0]!;
    expect(Math.abs(d - (19 * 3_000 + 400))).toBeLessThanOrEqual(250);
    expect(r.buildFeedback(buf, 0, 1, 2)).toBe(0);
  });

  it('continues the next feedback after the last reported sequence and counts feedback packets', () => {
    const r = new TwccRecorder();
    for (let s = 0; s < 5; s++) r.record(s, 1_000_000 + s * 1000);
    r.buildFeedback(buf, 0, 1, 2);
    for (let s = 5; s < 9; s++) r.record(s, 1_100_000 + s * 1000);
    r.buildFeedback(buf, 0, 1, 2);
    fb.parse(buf, 0);
    expect(fb.baseSeq).toBe(5);
    expect(fb.statusCount).toBe(4);
    expect(fb.fbPktCount).toBe(1);
    expect(r.feedbackCount).toBe(2);
  });

  it('reports missing sequence numbers as not received and fills in reordered ones', () => {
    const r = new TwccRecorder();
    r.record(10, 1_000_000);
    r.record(13, 1_003_000);
    r.record(11, 1_004_000); // reordered
    r.buildFeedback(buf, 0, 1, 2);
    fb.parse(buf, 0);
    expect(fb.statusCount).toBe(4);
    expect(fb.status[1]).not.toBe(TwccStatus.NOT_RECEIVED);
    expect(fb.status[2]).toBe(TwccStatus.NOT_RECEIVED);
    expect(fb.arrivalUs[1]).toBeGreaterThan(fb.arrivalUs[3]!);
  });

  it('unwraps the 16-bit transport sequence number', () => {
    const r = new TwccRecorder();
    for (let s = 65530; s < 65540; s++) r.record(s & 0xffff, 2_000_000 + s);
    r.buildFeedback(buf, 0, 1, 2);
    fb.parse(buf, 0);
    expect(fb.baseSeq).toBe(65530);
    expect(fb.statusCount).toBe(10);
  });

  it('splits across feedbacks when a delta exceeds 8191 ms', () => {
    const r = new TwccRecorder();
    r.record(1, 1_000_000);
    r.record(2, 1_000_000 + 10_000_000);
    expect(r.buildFeedback(buf, 0, 1, 2)).toBeGreaterThan(0);
    fb.parse(buf, 0);
    expect(fb.statusCount).toBe(1);
    expect(r.buildFeedback(buf, 0, 1, 2)).toBeGreaterThan(0);
    fb.parse(buf, 0);
    expect(fb.baseSeq).toBe(2);
  });

  it('ignores a packet arriving after its sequence was reported', () => {
    const r = new TwccRecorder();
    r.record(1, 1_000_000);
    r.record(3, 1_001_000);
    r.buildFeedback(buf, 0, 1, 2);
    r.record(2, 1_002_000);
    expect(r.hasPending).toBe(false);
  });
});
