import { describe, expect, it } from 'vitest';
import { SequenceRewriter } from './SequenceRewriter.js';

function feed(r: SequenceRewriter, source: number, seqs: number[], tsOf: (s: number) => number, now = 0): number[] {
  const out: number[] = [];
  for (const s of seqs) if (r.rewrite(source, s & 0xffff, tsOf(s) >>> 0, now)) out.push(r.seq);
  return out;
}

describe('SequenceRewriter', () => {
  it('passes the first source through unchanged', () => {
    const r = new SequenceRewriter(90000);
    expect(feed(r, 1, [100, 101, 102], (s) => s * 3000)).toEqual([100, 101, 102]);
    expect(r.ts).toBe(102 * 3000);
  });

  it('continues the output sequence without a gap when the source changes', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [100, 101, 102], (s) => s * 3000, 1000);
    const out = feed(r, 2, [5000, 5001], (s) => 777 + s, 1033);
    expect(out).toEqual([103, 104]);
  });

  it('advances the timestamp across a source change by the wall-clock time elapsed', () => {
    const r = new SequenceRewriter(90000);
    r.rewrite(1, 10, 1_000_000, 1000);
    const before = r.ts;
    r.rewrite(2, 999, 42, 1100); // 100 ms later
    expect((r.ts - before) >>> 0).toBe(9000);
    r.rewrite(2, 1000, 42 + 3000, 1133);
    expect((r.ts - before) >>> 0).toBe(12000);
  });

  it('keeps the timestamp moving forward even when no time elapsed between sources', () => {
    const r = new SequenceRewriter(48000);
    r.rewrite(1, 10, 500, 1000);
    r.rewrite(2, 10, 500, 1000);
    expect(r.ts).toBe(501);
  });

  it('wraps the 16-bit sequence and 32-bit timestamp in the output space', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [65534], () => 0xffffff00, 0);
    const out = feed(r, 2, [10, 11, 12], (s) => s * 3000, 1000 / 90000 * 0x200);
    expect(out).toEqual([65535, 0, 1]);
    expect(r.ts).toBeLessThan(0x1000_0000); // wrapped past 2^32
  });

  it('forwards reordered packets of the current segment at their mapped position', () => {
    const r = new SequenceRewriter(90000);
    expect(feed(r, 1, [10, 12, 11, 13], (s) => s)).toEqual([10, 12, 11, 13]);
  });

  it('drops late packets from before the current segment so outputs never repeat', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [10, 11], (s) => s);
    r.switchSource();
    expect(feed(r, 1, [20, 21], (s) => s)).toEqual([12, 13]);
    expect(r.rewrite(1, 19, 19, 0)).toBe(false);
  });

  it('drops packets more than 1000 behind the newest', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [5000, 6000, 6500], (s) => s);
    expect(r.rewrite(1, 5400, 0, 0)).toBe(false);
    expect(r.rewrite(1, 5999, 0, 0)).toBe(true);
  });

  it('re-bases a huge forward jump within one source instead of leaving a gap', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [100, 101], (s) => s);
    expect(feed(r, 1, [30000, 30001], (s) => s)).toEqual([102, 103]);
  });

  it('continues without a gap after pause/resume (switchSource on resume)', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [1, 2, 3], (s) => s * 3000, 0);
    r.switchSource(); // packets 4..99 were not forwarded while paused
    expect(feed(r, 1, [100, 101], (s) => s * 3000, 3000)).toEqual([4, 5]);
  });

  it('maps output sequence numbers of the current segment back to the source for NACKs', () => {
    const r = new SequenceRewriter(90000);
    feed(r, 1, [100, 101, 102], (s) => s);
    feed(r, 2, [7, 8, 9], (s) => s);
    expect(r.toSourceSeq(104)).toBe(8);
    expect(r.toSourceSeq(103)).toBe(7);
    expect(r.toSourceSeq(102)).toBe(-1); // previous segment
    expect(r.toSourceSeq(106)).toBe(-1); // not sent yet
  });
});
