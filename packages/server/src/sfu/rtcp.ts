/**
 * RTCP parsing and writing on raw buffers (RFC 3550, RFC 4585, RFC 5104, draft-alvestrand-rmcat-remb,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01).
 *
 * Compound packets are walked by offset ({@link rtcpNext}); writers take `(buf, off, …)` and return the number of
 * bytes written, so a caller fills one preallocated buffer and sends `buf.subarray(0, n)` once.
 */
import { seqDiff } from './rtp.js';

/** RTCP packet types. */
export const RtcpType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
} as const;

/** Feedback message types (FMT field). */
export const RtcpFmt = {
  NACK: 1,
  TWCC: 15,
  PLI: 1,
  FIR: 4,
  AFB: 15,
} as const;

/** Byte length of one report block. */
export const REPORT_BLOCK_SIZE = 24;

function u32(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}
function w32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = (v >>> 24) & 0xff;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}
function u16(buf: Uint8Array, o: number): number {
  return (buf[o]! << 8) | buf[o + 1]!;
}
function w16(buf: Uint8Array, o: number, v: number): void {
  buf[o] = (v >>> 8) & 0xff;
  buf[o + 1] = v & 0xff;
}
function writeHeader(buf: Uint8Array, off: number, count: number, pt: number, bytes: number): void {
  buf[off] = 0x80 | (count & 0x1f);
  buf[off + 1] = pt;
  w16(buf, off + 2, bytes / 4 - 1);
}

/** Packet type of the RTCP packet at `off`. */
export function rtcpPacketType(buf: Uint8Array, off: number): number {
  return buf[off + 1]!;
}
/** Count / FMT field (low 5 bits of byte 0). */
export function rtcpFmt(buf: Uint8Array, off: number): number {
  return buf[off]! & 0x1f;
}
/** Byte length of the RTCP packet at `off` (from its length field). */
export function rtcpPacketLength(buf: Uint8Array, off: number): number {
  return (u16(buf, off + 2) + 1) * 4;
}
/** SSRC of the packet sender (bytes 4–7). */
export function rtcpSenderSsrc(buf: Uint8Array, off: number): number {
  return u32(buf, off + 4);
}
/** Media source SSRC of a feedback packet (bytes 8–11). */
export function rtcpMediaSsrc(buf: Uint8Array, off: number): number {
  return u32(buf, off + 8);
}

/**
 * Offset of the packet after the one at `off` within a compound of `len` bytes, or -1 when the packet at `off`
 * is malformed (wrong version or length past the end). Iterate with:
 * `for (let o = 0; o >= 0 && o < len; o = rtcpNext(buf, o, len)) { … }` after checking {@link isValidRtcp}.
 */
export function rtcpNext(buf: Uint8Array, off: number, len: number): number {
  if (off + 4 > len || buf[off]! >> 6 !== 2) return -1;
  const end = off + rtcpPacketLength(buf, off);
  return end > len ? -1 : end;
}

/** True when `len` bytes are a well-formed compound: every packet is version 2 and lengths add up exactly. */
export function isValidRtcp(buf: Uint8Array, len: number): boolean {
  if (len < 4) return false;
  let o = 0;
  while (o < len) {
    const n = rtcpNext(buf, o, len);
    if (n < 0) return false;
    o = n;
  }
  return o === len;
}

/** One report block (RFC 3550 §6.4.1), reused by the caller. */
export class ReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc = 0;
  /** Fraction lost since the previous report, 0–255 (8-bit fixed point). */
  fractionLost = 0;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost = 0;
  /** Extended highest sequence number received. */
  highestSeq = 0;
  /** Interarrival jitter in RTP timestamp units. */
  jitter = 0;
  /** Middle 32 bits of the last SR's NTP timestamp. */
  lsr = 0;
  /** Delay since the last SR, in 1/65536 s. */
  dlsr = 0;
}

/** Sender info of an SR (RFC 3550 §6.4.1), reused by the caller. */
export class SenderInfo {
  /** NTP seconds. */
  ntpSec = 0;
  /** NTP fraction. */
  ntpFrac = 0;
  /** RTP timestamp corresponding to the NTP time. */
  rtpTimestamp = 0;
  /** Packets sent. */
  packetCount = 0;
  /** Payload octets sent. */
  octetCount = 0;
}

function writeBlock(buf: Uint8Array, o: number, b: ReportBlock): void {
  w32(buf, o, b.ssrc);
  buf[o + 4] = b.fractionLost & 0xff;
  const lost = Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)) & 0xffffff;
  buf[o + 5] = (lost >>> 16) & 0xff;
  buf[o + 6] = (lost >>> 8) & 0xff;
  buf[o + 7] = lost & 0xff;
  w32(buf, o + 8, b.highestSeq);
  w32(buf, o + 12, b.jitter);
  w32(buf, o + 16, b.lsr);
  w32(buf, o + 20, b.dlsr);
}

/** Reads report block `index` of the SR/RR at `off` into `out`; false when out of range. */
export function readReportBlock(buf: Uint8Array, off: number, index: number, out: ReportBlock): boolean {
  if (index >= rtcpFmt(buf, off)) return false;
  const o = off + (buf[off + 1] === RtcpType.SR ? 28 : 8) + index * REPORT_BLOCK_SIZE;
  if (o + REPORT_BLOCK_SIZE > off + rtcpPacketLength(buf, off)) return false;
  out.ssrc = u32(buf, o);
  out.fractionLost = buf[o + 4]!;
  out.cumulativeLost = ((buf[o + 5]! << 24) | (buf[o + 6]! << 16) | (buf[o + 7]! << 8)) >> 8;
  out.highestSeq = u32(buf, o + 8);
  out.jitter = u32(buf, o + 12);
  out.lsr = u32(buf, o + 16);
  out.dlsr = u32(buf, o + 20);
  return true;
}

/** Reads the sender info of the SR at `off` into `out`. */
export function readSenderInfo(buf: Uint8Array, off: number, out: SenderInfo): void {
  out.ntpSec = u32(buf, off + 8);
  out.ntpFrac = u32(buf, off + 12);
  out.rtpTimestamp = u32(buf, off + 16);
  out.packetCount = u32(buf, off + 20);
  out.octetCount = u32(buf, off + 24);
}

/** Writes an SR with `count` report blocks from `blocks`. */
export function writeSr(
  buf: Uint8Array,
  off: number,
  ssrc: number,
  info: SenderInfo,
  blocks: readonly ReportBlock[],
  count: number,
): number {
  const bytes = 28 + count * REPORT_BLOCK_SIZE;
  writeHeader(buf, off, count, RtcpType.SR, bytes);
  w32(buf, off + 4, ssrc);
  w32(buf, off + 8, info.ntpSec);
  w32(buf, off + 12, info.ntpFrac);
  w32(buf, off + 16, info.rtpTimestamp);
  w32(buf, off + 20, info.packetCount);
  w32(buf, off + 24, info.octetCount);
  for (let i = 0; i < count; i++) writeBlock(buf, off + 28 + i * REPORT_BLOCK_SIZE, blocks[i]!);
  return bytes;
}

/** Writes an RR with `count` report blocks from `blocks`. */
export function writeRr(buf: Uint8Array, off: number, ssrc: number, blocks: readonly ReportBlock[], count: number): number {
  const bytes = 8 + count * REPORT_BLOCK_SIZE;
  writeHeader(buf, off, count, RtcpType.RR, bytes);
  w32(buf, off + 4, ssrc);
  for (let i = 0; i < count; i++) writeBlock(buf, off + 8 + i * REPORT_BLOCK_SIZE, blocks[i]!);
  return bytes;
}

/** Writes an SDES packet with one chunk carrying a CNAME item (`cname` as UTF-8 bytes, ≤ 255). */
export function writeSdesCname(buf: Uint8Array, off: number, ssrc: number, cname: Uint8Array): number {
  const itemLen = Math.min(255, cname.length);
  // chunk: ssrc(4) + type(1) + len(1) + text + at least one null, padded to 4 bytes.
  const chunk = Math.ceil((4 + 2 + itemLen + 1) / 4) * 4;
  const bytes = 4 + chunk;
  writeHeader(buf, off, 1, RtcpType.SDES, bytes);
  w32(buf, off + 4, ssrc);
  buf[off + 8] = 1; // CNAME
  buf[off + 9] = itemLen;
  buf.set(cname.subarray(0, itemLen), off + 10);
  buf.fill(0, off + 10 + itemLen, off + bytes);
  return bytes;
}

/** Reads the CNAME of the first chunk of the SDES at `off` as a string, or '' when absent. (Not a hot path.) */
export function readSdesCname(buf: Uint8Array, off: number): string {
  const end = off + rtcpPacketLength(buf, off);
  let p = off + 8;
  while (p + 2 <= end && buf[p] !== 0) {
    const type = buf[p]!;
    const n = buf[p + 1]!;
    if (p + 2 + n > end) return '';
    if (type === 1) return new TextDecoder().decode(buf.subarray(p + 2, p + 2 + n));
    p += 2 + n;
  }
  return '';
}

/** Writes a BYE for one SSRC. */
export function writeBye(buf: Uint8Array, off: number, ssrc: number): number {
  writeHeader(buf, off, 1, RtcpType.BYE, 8);
  w32(buf, off + 4, ssrc);
  return 8;
}

/** Writes a Picture Loss Indication (RFC 4585 §6.3.1). */
export function writePli(buf: Uint8Array, off: number, senderSsrc: number, mediaSsrc: number): number {
  writeHeader(buf, off, RtcpFmt.PLI, RtcpType.PSFB, 12);
  w32(buf, off + 4, senderSsrc);
  w32(buf, off + 8, mediaSsrc);
  return 12;
}

/** Writes a Full Intra Request (RFC 5104 §4.3.1) with one FCI entry. */
export function writeFir(buf: Uint8Array, off: number, senderSsrc: number, mediaSsrc: number, seqNr: number): number {
  writeHeader(buf, off, RtcpFmt.FIR, RtcpType.PSFB, 20);
  w32(buf, off + 4, senderSsrc);
  w32(buf, off + 8, 0); // media source SSRC is unused in FIR
  w32(buf, off + 12, mediaSsrc);
  buf[off + 16] = seqNr & 0xff;
  buf[off + 17] = 0;
  buf[off + 18] = 0;
  buf[off + 19] = 0;
  return 20;
}

/** Sequence number of the FIR entry aimed at `ssrc` in the FIR at `off`, or -1 when none targets it. */
export function firSeqFor(buf: Uint8Array, off: number, ssrc: number): number {
  const end = off + rtcpPacketLength(buf, off);
  for (let p = off + 12; p + 8 <= end; p += 8) if (u32(buf, p) === ssrc) return buf[p + 4]!;
  return -1;
}

/** True when the packet at `off` is a PLI. */
export function isPli(buf: Uint8Array, off: number): boolean {
  return buf[off + 1] === RtcpType.PSFB && (buf[off]! & 0x1f) === RtcpFmt.PLI;
}
/** True when the packet at `off` is a FIR. */
export function isFir(buf: Uint8Array, off: number): boolean {
  return buf[off + 1] === RtcpType.PSFB && (buf[off]! & 0x1f) === RtcpFmt.FIR;
}
/** True when the packet at `off` is a generic NACK. */
export function isNack(buf: Uint8Array, off: number): boolean {
  return buf[off + 1] === RtcpType.RTPFB && (buf[off]! & 0x1f) === RtcpFmt.NACK;
}
/** True when the packet at `off` is transport-wide CC feedback. */
export function isTwcc(buf: Uint8Array, off: number): boolean {
  return buf[off + 1] === RtcpType.RTPFB && (buf[off]! & 0x1f) === RtcpFmt.TWCC;
}
/** True when the packet at `off` is a REMB (PSFB AFB with the "REMB" identifier). */
export function isRemb(buf: Uint8Array, off: number): boolean {
  return (
    buf[off + 1] === RtcpType.PSFB &&
    (buf[off]! & 0x1f) === RtcpFmt.AFB &&
    rtcpPacketLength(buf, off) >= 20 &&
    buf[off + 12] === 0x52 &&
    buf[off + 13] === 0x45 &&
    buf[off + 14] === 0x4d &&
    buf[off + 15] === 0x42
  );
}

/**
 * Writes a generic NACK (RFC 4585 §6.2.1) for `count` lost sequence numbers from `seqs`, given oldest first
 * (modular order). Each FCI holds a PID and a 16-bit mask of the following 16 sequence numbers.
 */
export function writeNack(
  buf: Uint8Array,
  off: number,
  senderSsrc: number,
  mediaSsrc: number,
  seqs: ArrayLike<number>,
  count: number,
): number {
  let p = off + 12;
  let i = 0;
  while (i < count) {
    const pid = seqs[i]! & 0xffff;
    let blp = 0;
    i++;
    while (i < count) {
      const d = seqDiff(seqs[i]!, pid);
      if (d < 1 || d > 16) break;
      blp |= 1 << (d - 1);
      i++;
    }
    w16(buf, p, pid);
    w16(buf, p + 2, blp);
    p += 4;
  }
  const bytes = p - off;
  writeHeader(buf, off, RtcpFmt.NACK, RtcpType.RTPFB, bytes);
  w32(buf, off + 4, senderSsrc);
  w32(buf, off + 8, mediaSsrc);
  return bytes;
}

/**
 * Expands the NACK at `off` into the sequence numbers it asks for, written to `out` (at most `out.length`).
 * Returns how many were written.
 */
export function expandNack(buf: Uint8Array, off: number, out: Uint16Array | number[]): number {
  const end = off + rtcpPacketLength(buf, off);
  let n = 0;
  const max = out.length;
  for (let p = off + 12; p + 4 <= end; p += 4) {
    const pid = u16(buf, p);
    const blp = u16(buf, p + 2);
    if (n < max) out[n++] = pid;
    for (let b = 0; b < 16; b++) if ((blp & (1 << b)) !== 0 && n < max) out[n++] = (pid + b + 1) & 0xffff;
  }
  return n;
}

/** Writes a REMB (draft-alvestrand-rmcat-remb) announcing `bitrate` bps for `count` SSRCs. */
export function writeRemb(
  buf: Uint8Array,
  off: number,
  senderSsrc: number,
  bitrate: number,
  ssrcs: ArrayLike<number>,
  count: number,
): number {
  const bytes = 20 + 4 * count;
  writeHeader(buf, off, RtcpFmt.AFB, RtcpType.PSFB, bytes);
  w32(buf, off + 4, senderSsrc);
  w32(buf, off + 8, 0);
  buf[off + 12] = 0x52; // 'R'
  buf[off + 13] = 0x45; // 'E'
  buf[off + 14] = 0x4d; // 'M'
  buf[off + 15] = 0x42; // 'B'
  let br = Math.max(0, Math.floor(bitrate));
  let exp = 0;
  while (br > 0x3ffff) {
    br = Math.floor(br / 2);
    exp++;
  }
  buf[off + 16] = count & 0xff;
  buf[off + 17] = (exp << 2) | ((br >>> 16) & 0x03);
  w16(buf, off + 18, br & 0xffff);
  for (let i = 0; i < count; i++) w32(buf, off + 20 + 4 * i, ssrcs[i]!);
  return bytes;
}

/** Bitrate in bps announced by the REMB at `off`. */
export function rembBitrate(buf: Uint8Array, off: number): number {
  const exp = buf[off + 17]! >> 2;
  const mantissa = ((buf[off + 17]! & 0x03) << 16) | u16(buf, off + 18);
  return mantissa * 2 ** exp;
}

/** SSRCs listed by the REMB at `off`, written to `out`; returns how many. */
export function rembSsrcs(buf: Uint8Array, off: number, out: Uint32Array | number[]): number {
  const n = Math.min(buf[off + 16]!, out.length, (rtcpPacketLength(buf, off) - 20) >> 2);
  for (let i = 0; i < n; i++) out[i] = u32(buf, off + 20 + 4 * i);
  return n;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1)          */
/* ------------------------------------------------------------------------------------------------------------ */

/** Packet status symbols. */
export const TwccStatus = { NOT_RECEIVED: 0, SMALL_DELTA: 1, LARGE_DELTA: 2 } as const;

/** Receive delta unit: 250 µs. */
export const TWCC_DELTA_US = 250;
/** Reference time unit: 64 ms. */
export const TWCC_REFERENCE_US = 64_000;
const MAX_RUN = 0x1fff;

/**
 * Builds transport-wide CC feedback packets from arrival times, with preallocated scratch memory.
 * Arrival times are microseconds on a monotonic clock; a negative value marks a packet as not received.
 */
export class TwccFeedbackWriter {
  /** Packets (statuses) covered by the last {@link write}. */
  packetsWritten = 0;
  readonly #symbols: Uint8Array;
  readonly #deltas: Int32Array;

  /** `capacity` bounds how many packets one feedback may cover. */
  constructor(capacity = 4096) {
    this.#symbols = new Uint8Array(capacity);
    this.#deltas = new Int32Array(capacity);
  }

  /**
   * Writes one feedback for packets `baseSeq, baseSeq+1, …` whose arrival times are `arrivals[start … start+count)`
   * (index i ↔ sequence baseSeq+i); at least one must be received. Stops early, before the first
   * packet whose delta does not fit 16 bits (±8191 ms), or when `maxBytes` would be exceeded; `packetsWritten`
   * tells how many were covered, and the caller starts a new feedback there. Returns bytes written (0 if none).
   */
  write(
    buf: Uint8Array,
    off: number,
    senderSsrc: number,
    mediaSsrc: number,
    baseSeq: number,
    arrivals: ArrayLike<number>,
    start: number,
    count: number,
    fbPktCount: number,
    maxBytes = 1200,
  ): number {
    this.packetsWritten = 0;
    let firstIdx = start;
    const stop = start + count;
    while (firstIdx < stop && arrivals[firstIdx]! < 0) firstIdx++;
    if (firstIdx === stop) return 0;
    const symbols = this.#symbols;
    const deltas = this.#deltas;
    const first = arrivals[firstIdx]!;
    const refTime = Math.floor(first / TWCC_REFERENCE_US);
    let last = refTime * TWCC_REFERENCE_US; // in µs, advanced by quantised deltas so rounding never drifts
    // Fixed: 20 header bytes. Worst case per packet: 2 bits of chunk (≤ 2/7 byte) + 2 delta bytes.
    const budget = maxBytes - 20 - 4;
    let n = 0;
    let deltaBytes = 0;
    const limit = Math.min(count, symbols.length, MAX_RUN * 8);
    for (; n < limit; n++) {
      const t = arrivals[start + n]!;
      if (t < 0) {
        symbols[n] = TwccStatus.NOT_RECEIVED;
        continue;
      }
      const d = Math.round((t - last) / TWCC_DELTA_US);
      if (d < -32768 || d > 32767) break;
      const small = d >= 0 && d <= 255;
      // Conservative size estimate: each packet may cost a 2-bit symbol slot (7 per 2-byte chunk).
      const chunkBytes = Math.ceil((n + 1) / 7) * 2;
      if (chunkBytes + deltaBytes + (small ? 1 : 2) > budget) break;
      symbols[n] = small ? TwccStatus.SMALL_DELTA : TwccStatus.LARGE_DELTA;
      deltas[n] = d;
      deltaBytes += small ? 1 : 2;
      last += d * TWCC_DELTA_US;
    }
    // Trailing lost packets are not reported: the next feedback starts at the next received one.
    while (n > 0 && symbols[n - 1] === TwccStatus.NOT_RECEIVED) n--;
    if (n === 0) return 0;

    let p = off + 20;
    // Packet status chunks.
    let i = 0;
    while (i < n) {
      const s = symbols[i]!;
      let run = 1;
      while (i + run < n && symbols[i + run] === s && run < MAX_RUN) run++;
      const vecLen = Math.min(14, n - i);
      let allOneBit = true;
      for (let k = 0; k < vecLen; k++) {
        if (symbols[i + k]! > 1) {
          allOneBit = false;
          break;
        }
      }
      if (run >= 14 || (run >= 7 && !allOneBit) || run === n - i) {
        w16(buf, p, (s << 13) | run);
        i += run;
      } else if (allOneBit) {
        let v = 0x8000;
        for (let k = 0; k < vecLen; k++) v |= symbols[i + k]! << (13 - k);
        w16(buf, p, v);
        i += vecLen;
      } else {
        const len2 = Math.min(7, n - i);
        let v = 0xc000;
        for (let k = 0; k < len2; k++) v |= symbols[i + k]! << (12 - 2 * k);
        w16(buf, p, v);
        i += len2;
      }
      p += 2;
    }
    // Receive deltas.
    for (let k = 0; k < n; k++) {
      const s = symbols[k]!;
      if (s === TwccStatus.SMALL_DELTA) buf[p++] = deltas[k]!;
      else if (s === TwccStatus.LARGE_DELTA) {
        w16(buf, p, deltas[k]! & 0xffff);
        p += 2;
      }
    }
    // Pad to 32 bits; like libwebrtc, set the P bit and put the pad count in the last byte.
    let bytes = p - off;
    const pad = (4 - (bytes & 3)) & 3;
    if (pad > 0) {
      buf.fill(0, p, p + pad);
      buf[p + pad - 1] = pad;
      bytes += pad;
    }
    writeHeader(buf, off, RtcpFmt.TWCC, RtcpType.RTPFB, bytes);
    if (pad > 0) buf[off] = buf[off]! | 0x20;
    w32(buf, off + 4, senderSsrc);
    w32(buf, off + 8, mediaSsrc);
    w16(buf, off + 12, baseSeq & 0xffff);
    w16(buf, off + 14, n);
    const ref = refTime & 0xffffff;
    buf[off + 16] = (ref >>> 16) & 0xff;
    buf[off + 17] = (ref >>> 8) & 0xff;
    buf[off + 18] = ref & 0xff;
    buf[off + 19] = fbPktCount & 0xff;
    this.packetsWritten = n;
    return bytes;
  }
}

/** A parsed transport-wide CC feedback, with preallocated arrays reused across parses. */
export class TwccFeedback {
  /** Base sequence number. */
  baseSeq = 0;
  /** Number of packet statuses. */
  statusCount = 0;
  /** Reference time in 64 ms units (24-bit signed). */
  referenceTime = 0;
  /** Feedback packet count (8 bits). */
  fbPktCount = 0;
  /** Status symbol of packet baseSeq+i. */
  readonly status: Uint8Array;
  /** Arrival time in µs of packet baseSeq+i (reference time + accumulated deltas), NaN when not received. */
  readonly arrivalUs: Float64Array;

  /** `capacity` bounds how many statuses one parse accepts. */
  constructor(capacity = 8192) {
    this.status = new Uint8Array(capacity);
    this.arrivalUs = new Float64Array(capacity);
  }

  /** Parses the TWCC packet at `off`; false when malformed or larger than the capacity. */
  parse(buf: Uint8Array, off: number): boolean {
    const total = rtcpPacketLength(buf, off);
    let end = off + total;
    if (total < 20) return false;
    if ((buf[off]! & 0x20) !== 0) {
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > total - 20) return false;
      end -= pad;
    }
    this.baseSeq = u16(buf, off + 12);
    const count = u16(buf, off + 14);
    if (count > this.status.length) return false;
    this.statusCount = count;
    this.referenceTime = ((buf[off + 16]! << 24) | (buf[off + 17]! << 16) | (buf[off + 18]! << 8)) >> 8;
    this.fbPktCount = buf[off + 19]!;
    let p = off + 20;
    let i = 0;
    while (i < count) {
      if (p + 2 > end) return false;
      const c = u16(buf, p);
      p += 2;
      if ((c & 0x8000) === 0) {
        const s = (c >> 13) & 0x03;
        const run = c & 0x1fff;
        for (let k = 0; k < run && i < count; k++) this.status[i++] = s;
      } else if ((c & 0x4000) === 0) {
        for (let k = 0; k < 14 && i < count; k++) this.status[i++] = (c >> (13 - k)) & 0x01;
      } else {
        for (let k = 0; k < 7 && i < count; k++) this.status[i++] = (c >> (12 - 2 * k)) & 0x03;
      }
    }
    let t = this.referenceTime * TWCC_REFERENCE_US;
    for (let k = 0; k < count; k++) {
      const s = this.status[k]!;
      if (s === TwccStatus.SMALL_DELTA) {
        if (p + 1 > end) return false;
        t += buf[p]! * TWCC_DELTA_US;
        p += 1;
      } else if (s === TwccStatus.LARGE_DELTA) {
        if (p + 2 > end) return false;
        t += ((u16(buf, p) << 16) >> 16) * TWCC_DELTA_US;
        p += 2;
      } else if (s !== TwccStatus.NOT_RECEIVED) {
        return false;
      }
      this.arrivalUs[k] = s === TwccStatus.NOT_RECEIVED ? NaN : t;
    }
    return true;
  }
}
