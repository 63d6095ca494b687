import { describe, expect, it } from 'vitest';
import { RetransmissionBuffer } from './RetransmissionBuffer.js';
import { rtpSeq } from './rtp.js';
import { buildRtp } from './test-helpers/packets.js';

describe('RetransmissionBuffer', () => {
  const dst = Buffer.alloc(1500);

  it('returns an exact copy of a stored packet by its original sequence number', () => {
    const b = new RetransmissionBuffer(16, 1500, 1000);
    const p = buildRtp({ seq: 42, payload: [1, 2, 3, 4, 5] });
    b.store(p, p.length, 0);
    p.fill(0); // the caller reuses its buffer: the copy must not change
    const n = b.copyTo(42, 10, dst, 0);
    expect(n).toBe(17);
    expect(rtpSeq(dst)).toBe(42);
    expect([...dst.subarray(12, 17)]).toEqual([1, 2, 3, 4, 5]);
  });

  it('forgets a packet overwritten by one 2^k later in the ring', () => {
    const b = new RetransmissionBuffer(16);
    const p = buildRtp({ seq: 3 });
    b.store(p, p.length, 0);
    const q = buildRtp({ seq: 19 });
    b.store(q, q.length, 0);
    expect(b.copyTo(3, 0, dst, 0)).toBe(-1);
    expect(b.copyTo(19, 0, dst, 0)).toBe(q.length);
  });

  it('refuses packets older than the age limit', () => {
    const b = new RetransmissionBuffer(16, 1500, 500);
    const p = buildRtp({ seq: 1 });
    b.store(p, p.length, 1000);
    expect(b.has(1, 1500)).toBe(true);
    expect(b.copyTo(1, 1501, dst, 0)).toBe(-1);
  });

  it('holds packets across the sequence wraparound', () => {
    const b = new RetransmissionBuffer(1024);
    for (const s of [65534, 65535, 0, 1]) {
      const p = buildRtp({ seq: s });
      b.store(p, p.length, 0);
    }
    for (const s of [65534, 65535, 0, 1]) expect(b.has(s, 0)).toBe(true);
    expect(b.has(2, 0)).toBe(false);
  });

  it('does not keep packets larger than a slot and rejects a ring size that is not a power of two', () => {
    const b = new RetransmissionBuffer(16, 100);
    const p = buildRtp({ seq: 5, payload: new Uint8Array(200) });
    b.store(p, p.length, 0);
    expect(b.has(5, 0)).toBe(false);
    expect(() => new RetransmissionBuffer(1000)).toThrow(TypeError);
  });

  it('copies into a destination offset (room for an RTX header)', () => {
    const b = new RetransmissionBuffer(16);
    const p = buildRtp({ seq: 9, payload: [7] });
    b.store(p, p.length, 0);
    expect(b.copyTo(9, 0, dst, 2)).toBe(13);
    expect(dst[2 + 12]).toBe(7);
  });
});
