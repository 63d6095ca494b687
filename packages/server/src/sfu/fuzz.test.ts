import { describe, expect, it } from 'vitest';
import { expandNack, isValidRtcp, readReportBlock, ReportBlock, rtcpNext, TwccFeedback } from './rtcp.js';
import { findRtpExtension, isValidRtp, isVp8Keyframe, parseVp8Descriptor, rtpHeaderLength, rtpPayloadLength, Vp8Descriptor } from './rtp.js';

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

describe('parsers on hostile input', () => {
  it('never throw and never report offsets past the packet for 20 000 random RTP-looking datagrams', () => {
    const r = rng(42);
    const d = new Vp8Descriptor();
    for (let n = 0; n < 20_000; n++) {
      const len = Math.floor(r() * 64);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
      if (len > 0) b[0] = (b[0]! & 0x3f) | 0x80; // version 2, so parsing goes deep
      expect(() => {
        const valid = isValidRtp(b, len);
        const hl = rtpHeaderLength(b, len);
        if (valid) {
          expect(hl).toBeLessThanOrEqual(len);
          expect(rtpPayloadLength(b, len)).toBeLessThanOrEqual(len - hl);
        }
        for (let id = 1; id < 16; id++) {
          const f = findRtpExtension(b, len, id);
          if (f >= 0) expect((f >>> 8) + (f & 0xff)).toBeLessThanOrEqual(len);
        }
        isVp8Keyframe(b, len);
        if (hl >= 0) parseVp8Descriptor(b, hl, len - hl, d);
      }).not.toThrow();
    }
  });

  it('never throw on 20 000 random RTCP-looking compounds', () => {
    const r = rng(7);
    const fb = new TwccFeedback(1024);
    const block = new ReportBlock();
    const seqs = new Uint16Array(64);
    for (let n = 0; n < 20_000; n++) {
      const len = 4 * Math.floor(r() * 20);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
      if (len > 0) {
        b[0] = (b[0]! & 0x3f) | 0x80;
        b[1] = 200 + Math.floor(r() * 7);
        b.writeUInt16BE(len / 4 - 1, 2);
      }
      expect(() => {
        if (!isValidRtcp(b, len)) return;
        for (let o = 0; o >= 0 && o < len; o = rtcpNext(b, o, len)) {
          expandNack(b, o, seqs);
          fb.parse(b, o);
          for (let i = 0; readReportBlock(b, o, i, block); i++);
        }
      }).not.toThrow();
    }
  });
});
