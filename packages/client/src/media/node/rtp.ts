// RTP packets (RFC 3550) with one-byte header extensions (RFC 8285), written and read in place.

/** URI of the header extension that carries the send time for latency measurement. */
export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

/** Extension id used when the SDP does not say otherwise. */
export const DEFAULT_ABS_CAPTURE_TIME_ID = 9;

const NTP_EPOCH_OFFSET_S = 2_208_988_800; // 1900-01-01 → 1970-01-01

/** Wall-clock time in milliseconds with sub-millisecond precision. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Fields of an RTP header. */
export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/** Options of {@link writeRtpPacket}. */
export interface RtpWriteOptions extends RtpHeader {
  /** One-byte header extension: id 1..14 → data of 1..16 bytes. */
  extensions?: readonly { id: number; data: Uint8Array }[];
}

/** Builds one RTP packet (header, one-byte extensions, payload) into a new Buffer. */
export function writeRtpPacket(h: RtpWriteOptions, payload: Uint8Array): Buffer {
  let extLen = 0;
  for (const e of h.extensions ?? []) extLen += 1 + e.data.length;
  const extWords = Math.ceil(extLen / 4);
  const headerLen = 12 + (extLen > 0 ? 4 + extWords * 4 : 0);
  const buf = Buffer.alloc(headerLen + payload.length);
  buf[0] = 0x80 | (extLen > 0 ? 0x10 : 0);
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
  if (extLen > 0) {
    buf.writeUInt16BE(0xbede, 12);
    buf.writeUInt16BE(extWords, 14);
    let o = 16;
    for (const e of h.extensions ?? []) {
      if (e.id < 1 || e.id > 14 || e.data.length < 1 || e.data.length > 16) {
        throw new TypeError(`invalid one-byte header extension id=${e.id} length=${e.data.length}`);
      }
      buf[o++] = (e.id << 4) | (e.data.length - 1);
      buf.set(e.data, o);
      o += e.data.length;
    }
  }
  buf.set(payload, headerLen);
  return buf;
}

/** A parsed RTP packet; `payload` is a view into the original buffer. */
export interface RtpPacketView extends RtpHeader {
  headerLength: number;
  payload: Uint8Array;
  /** Padding bytes at the end (P bit), excluded from `payload`. */
  padding: number;
  /** Offset and length of the one-byte/two-byte extension block body, or null. */
  extension: { profile: number; offset: number; length: number } | null;
}

/** True when the second byte says RTCP (payload types 64..95 after removing the marker bit, RFC 5761). */
export function isRtcp(buf: Uint8Array): boolean {
  const pt = (buf[1] ?? 0) & 0x7f;
  return buf.length >= 8 && pt >= 64 && pt <= 95;
}

/** Parses an RTP packet; returns null when it is not a well-formed RTP packet. */
export function parseRtpPacket(buf: Uint8Array): RtpPacketView | null {
  if (buf.length < 12 || ((buf[0] ?? 0) >> 6) !== 2) return null;
  const b0 = buf[0] ?? 0;
  const cc = b0 & 0x0f;
  let off = 12 + cc * 4;
  if (off > buf.length) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let extension: RtpPacketView['extension'] = null;
  if ((b0 & 0x10) !== 0) {
    if (off + 4 > buf.length) return null;
    const profile = view.getUint16(off);
    const length = view.getUint16(off + 2) * 4;
    if (off + 4 + length > buf.length) return null;
    extension = { profile, offset: off + 4, length };
    off += 4 + length;
  }
  let padding = 0;
  if ((b0 & 0x20) !== 0) {
    padding = buf[buf.length - 1] ?? 0;
    if (padding === 0 || off + padding > buf.length) return null;
  }
  return {
    marker: ((buf[1] ?? 0) & 0x80) !== 0,
    payloadType: (buf[1] ?? 0) & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    headerLength: off,
    payload: buf.subarray(off, buf.length - padding),
    padding,
    extension,
  };
}

/** Finds header extension `id` in a parsed packet (one-byte or two-byte form); null when absent. */
export function findHeaderExtension(buf: Uint8Array, pkt: RtpPacketView, id: number): Uint8Array | null {
  const ext = pkt.extension;
  if (ext === null) return null;
  const end = ext.offset + ext.length;
  let o = ext.offset;
  if (ext.profile === 0xbede) {
    while (o < end) {
      const b = buf[o] ?? 0;
      if (b === 0) {
        o++; // padding
        continue;
      }
      const eid = b >> 4;
      const len = (b & 0x0f) + 1;
      if (eid === 15) break;
      if (eid === id) return o + 1 + len <= end ? buf.subarray(o + 1, o + 1 + len) : null;
      o += 1 + len;
    }
  } else if ((ext.profile & 0xfff0) === 0x1000) {
    while (o + 1 < end) {
      const eid = buf[o] ?? 0;
      if (eid === 0) {
        o++;
        continue;
      }
      const len = buf[o + 1] ?? 0;
      if (eid === id) return o + 2 + len <= end ? buf.subarray(o + 2, o + 2 + len) : null;
      o += 2 + len;
    }
  }
  return null;
}

/** Encodes a wall-clock time (ms since 1970) as abs-capture-time's 64-bit NTP timestamp (UQ32.32). */
export function encodeAbsCaptureTime(ms: number): Uint8Array {
  const out = new Uint8Array(8);
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.round(((ms - seconds * 1000) / 1000) * 2 ** 32);
  const view = new DataView(out.buffer);
  view.setUint32(0, (seconds + NTP_EPOCH_OFFSET_S) >>> 0);
  view.setUint32(4, Math.min(fraction, 0xffffffff) >>> 0);
  return out;
}

/** Decodes abs-capture-time's NTP timestamp (first 8 bytes) to ms since 1970; null if too short. */
export function decodeAbsCaptureTime(data: Uint8Array): number | null {
  if (data.length < 8) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seconds = view.getUint32(0) - NTP_EPOCH_OFFSET_S;
  return seconds * 1000 + (view.getUint32(4) / 2 ** 32) * 1000;
}

/** Signed distance from sequence number `a` to `b`, modulo 2^16 (positive if `b` is newer). */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
