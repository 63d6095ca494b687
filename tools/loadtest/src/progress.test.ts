import { describe, expect, it } from 'vitest';
import type { LoadTestProgress } from './LoadTest.js';
import { formatProgress, ProgressDisplay } from './progress.js';

const progress = (over: Partial<LoadTestProgress> = {}): LoadTestProgress => ({
  phase: 'measure',
  elapsedS: 12,
  planned: 11,
  joined: 11,
  tracksReceiving: 20,
  tracksExpected: 20,
  packetsReceived: 1000,
  packetsLost: 0,
  bytesReceived: 1_000_000,
  errors: 0,
  disconnected: 0,
  bitrate: 6_000_000,
  intervalPackets: 1000,
  intervalLost: 0,
  lossPct: 0,
  remainingS: 7,
  ...over,
});

describe('progress display', () => {
  it('shows bots joined, tracks, bit rate, loss and time left', () => {
    const line = formatProgress(progress());
    expect(line).toContain('bots 11/11');
    expect(line).toContain('tracks 20/20');
    expect(line).toContain('rx 6.00 Mbit/s');
    expect(line).toContain('loss 0.00%');
    expect(line).toContain('7s left');
  });

  it('shows errors and dropped bots only when there are some', () => {
    expect(formatProgress(progress())).not.toContain('errors');
    expect(formatProgress(progress({ errors: 2, disconnected: 1 }))).toMatch(/errors 2 {2}dropped 1/);
  });

  it('on a terminal redraws one line in place', () => {
    let out = '';
    const d = new ProgressDisplay({ write: (t) => (out += t), isTTY: true });
    d.update(progress({ elapsedS: 1 }));
    d.update(progress({ elapsedS: 2 }));
    d.done();
    expect(out.split('\r\x1b[2K')).toHaveLength(3);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.slice(0, -1)).not.toContain('\n');
  });

  it('elsewhere prints plain lines: at each phase change and every 5 s', () => {
    let out = '';
    const d = new ProgressDisplay({ write: (t) => (out += t), isTTY: false });
    d.update(progress({ phase: 'publishers', elapsedS: 0 }));
    d.update(progress({ phase: 'subscribers', elapsedS: 1 }));
    d.update(progress({ phase: 'subscribers', elapsedS: 2 }));
    d.update(progress({ phase: 'subscribers', elapsedS: 6 }));
    expect(out).not.toContain('\r');
    expect(out.trim().split('\n')).toHaveLength(3);
  });
});
