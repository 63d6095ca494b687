// The RTCP messages a media endpoint needs (RFC 3550, RFC 4585, RFC 5104), parsed from
// compound packets and written for sender reports.

/** A keyframe request or a NACK addressed to one of our SSRCs. */
export type RtcpFeedback =
  | { kind: 'pli'; mediaSsrc: number }
  | { kind: 'fir'; mediaSsrc: number; seq: number }
  | { kind: 'nack'; mediaSsrc: number; lost: number[] }
  | { kind: 'remb'; bitrate: number; ssrcs: number[] }
  | { kind: 'rr'; reports: { ssrc: number; fractionLost: number; cumulativeLost: number; jitter: number }[] }
  | { kind: 'sr'; ssrc: number; ntpMs: number; ntpMiddle: number; rtpTimestamp: number; packets: number; octets: number };

/** Parses a (compound) RTCP packet into the feedback we act on; unknown parts are skipped. */
export function parseRtcp(buf: Uint8Array): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 4 <= buf.length) {
    const b0 = buf[off] ?? 0;
    if (b0 >> 6 !== 2) break;
    const count = b0 & 0x1f;
    const pt = buf[off + 1] ?? 0;
    const len = (view.getUint16(off + 2) + 1) * 4;
    if (off + len > buf.length) break;
    const end = off + len;
    if (pt === 200 && len >= 28) {
      const ntpSec = view.getUint32(off + 8);
      const ntpFrac = view.getUint32(off + 12);
      out.push({
        kind: 'sr',
        ssrc: view.getUint32(off + 4),
        ntpMs: (ntpSec - 2_208_988_800) * 1000 + (ntpFrac / 2 ** 32) * 1000,
        ntpMiddle: (((ntpSec & 0xffff) << 16) | (ntpFrac >>> 16)) >>> 0,
        rtpTimestamp: view.getUint32(off + 16),
        packets: view.getUint32(off + 20),
        octets: view.getUint32(off + 24),
      });
    } else if (pt === 201 && len >= 8) {
      const reports: { ssrc: number; fractionLost: number; cumulativeLost: number; jitter: number }[] = [];
      for (let i = 0, r = off + 8; i < count && r + 24 <= end; i++, r += 24) {
        const lost = view.getUint32(r + 4);
        let cumulative = lost & 0xffffff;
        if (cumulative & 0x800000) cumulative -= 0x1000000;
        reports.push({ ssrc: view.getUint32(r), fractionLost: lost >>> 24, cumulativeLost: cumulative, jitter: view.getUint32(r + 12) });
      }
      out.push({ kind: 'rr', reports });
    } else if (pt === 205 && count === 1 && len >= 12) {
      const mediaSsrc = view.getUint32(off + 8);
      const lost: number[] = [];
      for (let f = off + 12; f + 4 <= end; f += 4) {
        const pid = view.getUint16(f);
        const blp = view.getUint16(f + 2);
        lost.push(pid);
        for (let i = 0; i < 16; i++) if (blp & (1 << i)) lost.push((pid + i + 1) & 0xffff);
      }
      out.push({ kind: 'nack', mediaSsrc, lost });
    } else if (pt === 206 && len >= 12) {
      const mediaSsrc = view.getUint32(off + 8);
      if (count === 1) {
        out.push({ kind: 'pli', mediaSsrc });
      } else if (count === 4) {
        for (let f = off + 12; f + 8 <= end; f += 8) {
          out.push({ kind: 'fir', mediaSsrc: view.getUint32(f), seq: buf[f + 4] ?? 0 });
        }
      } else if (count === 15 && len >= 20 && view.getUint32(off + 12) === 0x52454d42 /* 'REMB' */) {
        const n = buf[off + 16] ?? 0;
        const exp = (buf[off + 17] ?? 0) >> 2;
        const mantissa = ((((buf[off + 17] ?? 0) & 3) << 16) | view.getUint16(off + 18)) >>> 0;
        const ssrcs: number[] = [];
        for (let i = 0; i < n && off + 20 + i * 4 + 4 <= end; i++) ssrcs.push(view.getUint32(off + 20 + i * 4));
        out.push({ kind: 'remb', bitrate: mantissa * 2 ** exp, ssrcs });
      }
    }
    off = end;
  }
  return out;
}

/** Builds an RTCP sender report without report blocks (RFC 3550 §6.4.1). */
export function writeSenderReport(ssrc: number, wallMs: number, rtpTimestamp: number, packets: number, octets: number): Buffer {
  const buf = Buffer.alloc(28);
  buf[0] = 0x80;
  buf[1] = 200;
  buf.writeUInt16BE(6, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  const seconds = Math.floor(wallMs / 1000);
  buf.writeUInt32BE((seconds + 2_208_988_800) >>> 0, 8);
  buf.writeUInt32BE(Math.min(0xffffffff, Math.round(((wallMs - seconds * 1000) / 1000) * 2 ** 32)) >>> 0, 12);
  buf.writeUInt32BE(rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(packets >>> 0, 20);
  buf.writeUInt32BE(octets >>> 0, 24);
  return buf;
}

/** Builds a Picture Loss Indication (RFC 4585 §6.3.1). */
export function writePli(senderSsrc: number, mediaSsrc: number): Buffer {
  const buf = Buffer.alloc(12);
  buf[0] = 0x81;
  buf[1] = 206;
  buf.writeUInt16BE(2, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  return buf;
}

/** Builds a Generic NACK (RFC 4585 §6.2.1) for the given lost sequence numbers. */
export function writeNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  const sorted = [...new Set(lost.map((s) => s & 0xffff))].sort((a, b) => a - b);
  const fci: [number, number][] = [];
  for (const s of sorted) {
    const last = fci[fci.length - 1];
    const d = last ? (s - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else fci.push([s, 0]);
  }
  const buf = Buffer.alloc(12 + fci.length * 4);
  buf[0] = 0x81;
  buf[1] = 205;
  buf.writeUInt16BE(2 + fci.length, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  fci.forEach(([pid, blp], i) => {
    buf.writeUInt16BE(pid, 12 + i * 4);
    buf.writeUInt16BE(blp, 14 + i * 4);
  });
  return buf;
}

/** One report block of a receiver report (RFC 3550 §6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, in 1/256. */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  /** Extended highest sequence number received. */
  highestSeq: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp (0 if none). */
  lastSr: number;
  /** Delay since that SR in 1/65536 s (0 if none). */
  delaySinceLastSr: number;
}

/** Builds a receiver report (RFC 3550 §6.4.2). */
export function writeReceiverReport(senderSsrc: number, blocks: readonly ReportBlock[]): Buffer {
  const buf = Buffer.alloc(8 + 24 * blocks.length);
  buf[0] = 0x80 | (blocks.length & 0x1f);
  buf[1] = 201;
  buf.writeUInt16BE(1 + 6 * blocks.length, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  blocks.forEach((b, i) => {
    const o = 8 + i * 24;
    buf.writeUInt32BE(b.ssrc >>> 0, o);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)) & 0xffffff;
    buf.writeUInt32BE((((b.fractionLost & 0xff) << 24) | lost) >>> 0, o + 4);
    buf.writeUInt32BE(b.highestSeq >>> 0, o + 8);
    buf.writeUInt32BE(Math.max(0, Math.round(b.jitter)) >>> 0, o + 12);
    buf.writeUInt32BE(b.lastSr >>> 0, o + 16);
    buf.writeUInt32BE(b.delaySinceLastSr >>> 0, o + 20);
  });
  return buf;
}

/** Builds a REMB (draft-alvestrand-rmcat-remb) asking the sender of `ssrcs` for `bitrate` bit/s. */
export function writeRemb(senderSsrc: number, bitrate: number, ssrcs: readonly number[]): Buffer {
  const buf = Buffer.alloc(20 + 4 * ssrcs.length);
  buf[0] = 0x8f; // V=2, FMT=15
  buf[1] = 206;
  buf.writeUInt16BE(4 + ssrcs.length, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(0, 8);
  buf.write('REMB', 12, 'ascii');
  let exp = 0;
  let mantissa = Math.max(0, Math.floor(bitrate));
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  buf[16] = ssrcs.length;
  buf[17] = (exp << 2) | (mantissa >> 16);
  buf.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((s, i) => buf.writeUInt32BE(s >>> 0, 20 + 4 * i));
  return buf;
}
