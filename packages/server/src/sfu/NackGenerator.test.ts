import { describe, expect, it } from 'vitest';
import { NackGenerator } from './NackGenerator.js';

describe('NackGenerator', () => {
  const out = new Uint16Array(512);
  const collect = (g: NackGenerator, now: number, rtt = 50): number[] => [...out.subarray(0, g.collect(now, rtt, out))];

  it('asks for every packet of a gap, oldest first', () => {
    const g = new NackGenerator();
    for (const s of [1, 2, 6]) g.onPacket(s, 0);
    expect(g.lost).toBe(3);
    expect(collect(g, 0)).toEqual([3, 4, 5]);
  });

  it('stops asking for a packet once it arrives and counts it recovered', () => {
    const g = new NackGenerator();
    for (const s of [1, 4]) g.onPacket(s, 0);
    g.onPacket(2, 5);
    expect(g.recovered).toBe(1);
    expect(collect(g, 10)).toEqual([3]);
  });

  it('waits one RTT before asking for the same packet again', () => {
    const g = new NackGenerator();
    g.onPacket(1, 0);
    g.onPacket(3, 0);
    expect(collect(g, 0, 100)).toEqual([2]);
    expect(collect(g, 50, 100)).toEqual([]);
    expect(collect(g, 100, 100)).toEqual([2]);
  });

  it('gives up after the retry limit', () => {
    const g = new NackGenerator({ maxRetries: 3, maxAgeMs: 100_000 });
    g.onPacket(1, 0);
    g.onPacket(3, 0);
    let asked = 0;
    for (let t = 0; t < 1000; t += 10) asked += collect(g, t, 10).length;
    expect(asked).toBe(3);
    expect(g.missingCount).toBe(0);
  });

  it('stops asking for packets older than the age limit', () => {
    const g = new NackGenerator({ maxAgeMs: 200 });
    g.onPacket(1, 0);
    g.onPacket(3, 0);
    expect(collect(g, 250)).toEqual([]);
    expect(g.missingCount).toBe(0);
  });

  it('detects gaps across the sequence wraparound', () => {
    const g = new NackGenerator();
    g.onPacket(65533, 0);
    g.onPacket(1, 0);
    expect(collect(g, 0)).toEqual([65534, 65535, 0]);
  });

  it('reports a gap too large to repair instead of NACKing it', () => {
    const g = new NackGenerator({ maxGap: 100 });
    g.onPacket(1, 0);
    expect(g.onPacket(500, 0)).toBe(true);
    expect(collect(g, 0)).toEqual([]);
    expect(g.onPacket(502, 0)).toBe(false);
    expect(collect(g, 0)).toEqual([501]);
  });

  it('ignores duplicates and old reordered packets it was not waiting for', () => {
    const g = new NackGenerator();
    for (const s of [1, 2, 3, 3, 2]) g.onPacket(s, 0);
    expect(g.lost).toBe(0);
    expect(g.recovered).toBe(0);
    expect(collect(g, 0)).toEqual([]);
  });
});
