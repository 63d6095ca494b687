/**
 * RTP header access on raw buffers (RFC 3550, RFC 8285 header extensions, RFC 7741 VP8 descriptor).
 *
 * Every function reads or writes the buffer in place and allocates nothing: these run once per packet per
 * subscriber on the forwarding path. Functions take `(buf, len)` where `len` is the number of valid bytes,
 * so a preallocated scratch buffer larger than the packet can be used.
 */

/** Smallest valid RTP header (no CSRC, no extension). */
export const RTP_HEADER_MIN = 12;
/** One-byte header extension profile (RFC 8285 §4.2). */
export const EXT_PROFILE_ONE_BYTE = 0xbede;
/** Two-byte header extension profile mask (RFC 8285 §4.3: 0x100X). */
export const EXT_PROFILE_TWO_BYTE = 0x1000;

/** True when the datagram is RTCP rather than RTP (RFC 5761 §4: payload types 192–223 in byte 1). */
export function isRtcp(buf: Uint8Array, len: number): boolean {
  if (len < 8) return false;
  const b1 = buf[1]!;
  return b1 >= 192 && b1 <= 223;
}

/** True when `len` bytes can hold an RTP version-2 header including CSRCs and the extension block. */
export function isValidRtp(buf: Uint8Array, len: number): boolean {
  if (len < RTP_HEADER_MIN || buf[0]! >> 6 !== 2) return false;
  const hl = rtpHeaderLength(buf, len);
  if (hl < 0) return false;
  const pad = rtpPaddingLength(buf, len);
  return pad >= 0 && hl + pad <= len;
}

/** RTP version (2 for every packet we accept). */
export function rtpVersion(buf: Uint8Array): number {
  return buf[0]! >> 6;
}
/** Padding bit. */
export function rtpHasPadding(buf: Uint8Array): boolean {
  return (buf[0]! & 0x20) !== 0;
}
/** Extension bit. */
export function rtpHasExtension(buf: Uint8Array): boolean {
  return (buf[0]! & 0x10) !== 0;
}
/** CSRC count. */
export function rtpCsrcCount(buf: Uint8Array): number {
  return buf[0]! & 0x0f;
}
/** Marker bit. */
export function rtpMarker(buf: Uint8Array): boolean {
  return (buf[1]! & 0x80) !== 0;
}
/** Payload type (7 bits). */
export function rtpPayloadType(buf: Uint8Array): number {
  return buf[1]! & 0x7f;
}
/** Sequence number (16 bits). */
export function rtpSeq(buf: Uint8Array): number {
  return (buf[2]! << 8) | buf[3]!;
}
/** Timestamp (32 bits, unsigned). */
export function rtpTimestamp(buf: Uint8Array): number {
  return ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
}
/** SSRC (32 bits, unsigned). */
export function rtpSsrc(buf: Uint8Array): number {
  return ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
}

/** Header length in bytes including CSRCs and the extension block, or -1 when `len` is too short. */
export function rtpHeaderLength(buf: Uint8Array, len: number): number {
  let hl = RTP_HEADER_MIN + (buf[0]! & 0x0f) * 4;
  if (hl > len) return -1;
  if ((buf[0]! & 0x10) !== 0) {
    if (hl + 4 > len) return -1;
    const words = (buf[hl + 2]! << 8) | buf[hl + 3]!;
    hl += 4 + words * 4;
    if (hl > len) return -1;
  }
  return hl;
}

/** Number of padding bytes at the end of the packet (0 without the P bit), or -1 if malformed. */
export function rtpPaddingLength(buf: Uint8Array, len: number): number {
  if ((buf[0]! & 0x20) === 0) return 0;
  const pad = buf[len - 1]!;
  return pad === 0 ? -1 : pad;
}

/** Payload length (bytes between header and padding); 0 for padding-only packets such as RTX probes. */
export function rtpPayloadLength(buf: Uint8Array, len: number): number {
  const hl = rtpHeaderLength(buf, len);
  const pad = rtpPaddingLength(buf, len);
  if (hl < 0 || pad < 0) return 0;
  const n = len - hl - pad;
  return n > 0 ? n : 0;
}

/** Sets the marker bit. */
export function setRtpMarker(buf: Uint8Array, marker: boolean): void {
  buf[1] = marker ? buf[1]! | 0x80 : buf[1]! & 0x7f;
}
/** Rewrites the payload type, keeping the marker bit. */
export function setRtpPayloadType(buf: Uint8Array, pt: number): void {
  buf[1] = (buf[1]! & 0x80) | (pt & 0x7f);
}
/** Rewrites the sequence number. */
export function setRtpSeq(buf: Uint8Array, seq: number): void {
  buf[2] = (seq >>> 8) & 0xff;
  buf[3] = seq & 0xff;
}
/** Rewrites the timestamp. */
export function setRtpTimestamp(buf: Uint8Array, ts: number): void {
  buf[4] = (ts >>> 24) & 0xff;
  buf[5] = (ts >>> 16) & 0xff;
  buf[6] = (ts >>> 8) & 0xff;
  buf[7] = ts & 0xff;
}
/** Rewrites the SSRC. */
export function setRtpSsrc(buf: Uint8Array, ssrc: number): void {
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

/**
 * Locates header extension `id`.
 * Returns `(dataOffset << 8) | dataLength` (decode with {@link extOffset} / {@link extLength}) or -1 when absent,
 * so the lookup allocates nothing. Handles one-byte (0xBEDE) and two-byte (0x100X) forms, skipping padding bytes.
 */
export function findRtpExtension(buf: Uint8Array, len: number, id: number): number {
  if ((buf[0]! & 0x10) === 0) return -1;
  const start = RTP_HEADER_MIN + (buf[0]! & 0x0f) * 4;
  if (start + 4 > len) return -1;
  const profile = (buf[start]! << 8) | buf[start + 1]!;
  const end = start + 4 + ((buf[start + 2]! << 8) | buf[start + 3]!) * 4;
  if (end > len) return -1;
  let p = start + 4;
  if (profile === EXT_PROFILE_ONE_BYTE) {
    while (p < end) {
      const b = buf[p]!;
      if (b === 0) {
        p++;
        continue;
      }
      const eid = b >> 4;
      if (eid === 15) return -1; // reserved: stop parsing (RFC 8285 §4.2)
      const elen = (b & 0x0f) + 1;
      if (p + 1 + elen > end) return -1;
      if (eid === id) return ((p + 1) << 8) | elen;
      p += 1 + elen;
    }
    return -1;
  }
  if ((profile & 0xfff0) === EXT_PROFILE_TWO_BYTE) {
    while (p + 1 < end) {
      const eid = buf[p]!;
      if (eid === 0) {
        p++;
        continue;
      }
      const elen = buf[p + 1]!;
      if (p + 2 + elen > end) return -1;
      if (eid === id) return ((p + 2) << 8) | elen;
      p += 2 + elen;
    }
  }
  return -1;
}

/** Data offset from a {@link findRtpExtension} result. */
export function extOffset(found: number): number {
  return found >>> 8;
}
/** Data length from a {@link findRtpExtension} result. */
export function extLength(found: number): number {
  return found & 0xff;
}

/**
 * Changes the id of extension `fromId` to `toId` in place (for subscribers whose negotiated id map differs).
 * Returns false when the extension is absent or `toId` does not fit the packet's form (one-byte ids are 1–14).
 */
export function setRtpExtensionId(buf: Uint8Array, len: number, fromId: number, toId: number): boolean {
  const found = findRtpExtension(buf, len, fromId);
  if (found < 0) return false;
  const off = found >>> 8;
  const start = RTP_HEADER_MIN + (buf[0]! & 0x0f) * 4;
  const profile = (buf[start]! << 8) | buf[start + 1]!;
  if (profile === EXT_PROFILE_ONE_BYTE) {
    if (toId < 1 || toId > 14) return false;
    buf[off - 1] = (toId << 4) | (buf[off - 1]! & 0x0f);
  } else {
    if (toId < 1 || toId > 255) return false;
    buf[off - 2] = toId;
  }
  return true;
}

/**
 * Removes extension `id` in place by overwriting its element with padding bytes (value 0), which receivers skip
 * (RFC 8285 §4.2/§4.3). The packet length does not change, so nothing moves. Returns false when absent.
 */
export function removeRtpExtension(buf: Uint8Array, len: number, id: number): boolean {
  const found = findRtpExtension(buf, len, id);
  if (found < 0) return false;
  const off = found >>> 8;
  const elen = found & 0xff;
  const start = RTP_HEADER_MIN + (buf[0]! & 0x0f) * 4;
  const profile = (buf[start]! << 8) | buf[start + 1]!;
  const hdr = profile === EXT_PROFILE_ONE_BYTE ? 1 : 2;
  buf.fill(0, off - hdr, off + elen);
  return true;
}

/**
 * True when the data of a {@link findRtpExtension} result equals the ASCII string `value` (a MID or rid, RFC 8852:
 * compared in place, without decoding a string).
 */
export function rtpExtensionEquals(buf: Uint8Array, found: number, value: string): boolean {
  if (found < 0) return false;
  const off = found >>> 8;
  const len = found & 0xff;
  // Senders may pad a short value with zero bytes (RFC 8852 §3.3 forbids it, but it costs nothing to accept).
  let end = off + len;
  while (end > off && buf[end - 1] === 0) end--;
  if (end - off !== value.length) return false;
  for (let i = 0; i < value.length; i++) if (buf[off + i] !== value.charCodeAt(i)) return false;
  return true;
}

/** Reads a 16-bit big-endian value at `off` (e.g. the transport-wide sequence number extension). */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}
/** Writes a 16-bit big-endian value at `off`. */
export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** Reads the transport-wide sequence number (extension `id`), or -1 when absent. */
export function readTransportSeq(buf: Uint8Array, len: number, id: number): number {
  const found = findRtpExtension(buf, len, id);
  if (found < 0 || (found & 0xff) < 2) return -1;
  return readU16(buf, found >>> 8);
}

/** Rewrites the transport-wide sequence number in place; false when the extension is absent. */
export function writeTransportSeq(buf: Uint8Array, len: number, id: number, seq: number): boolean {
  const found = findRtpExtension(buf, len, id);
  if (found < 0 || (found & 0xff) < 2) return false;
  writeU16(buf, found >>> 8, seq);
  return true;
}

/**
 * Reads the client-to-mixer audio level (RFC 6464): returns level in -dBov (0 loudest … 127 silence) with the
 * voice-activity flag in bit 7 (so `v & 0x80` is VAD, `v & 0x7f` the level), or -1 when absent.
 */
export function readAudioLevel(buf: Uint8Array, len: number, id: number): number {
  const found = findRtpExtension(buf, len, id);
  if (found < 0) return -1;
  return buf[found >>> 8]!;
}

/** Parsed VP8 payload descriptor (RFC 7741 §4.2); one instance is reused by the caller. */
export class Vp8Descriptor {
  /** Descriptor length in bytes (the VP8 payload header starts after it). */
  size = 0;
  /** S bit: start of a partition. */
  start = false;
  /** Partition index. */
  partitionId = 0;
  /** True when this packet starts a keyframe (S=1, PID=0, P bit of the payload header clear). */
  keyframe = false;
  /** Picture id or -1 when absent. */
  pictureId = -1;
  /** 15-bit picture id (M bit) when true, else 7-bit. */
  pictureId16 = false;
  /** Offset of the picture id within the payload, or -1. */
  pictureIdOffset = -1;
  /** TL0PICIDX or -1 when absent. */
  tl0PicIdx = -1;
  /** Offset of TL0PICIDX within the payload, or -1. */
  tl0PicIdxOffset = -1;
  /** Temporal layer index or -1 when absent. */
  tid = -1;
  /** Layer sync bit. */
  layerSync = false;
  /** Key index or -1. */
  keyIdx = -1;
}

/**
 * Parses the VP8 payload descriptor starting at `off` (the RTP payload) into `out`. Returns false when malformed.
 * @example
 *   const d = new Vp8Descriptor();
 *   if (parseVp8Descriptor(buf, hl, len - hl - pad, d) && d.keyframe) { … }
 */
export function parseVp8Descriptor(buf: Uint8Array, off: number, payloadLen: number, out: Vp8Descriptor): boolean {
  out.size = 0;
  out.start = false;
  out.partitionId = 0;
  out.keyframe = false;
  out.pictureId = -1;
  out.pictureId16 = false;
  out.pictureIdOffset = -1;
  out.tl0PicIdx = -1;
  out.tl0PicIdxOffset = -1;
  out.tid = -1;
  out.layerSync = false;
  out.keyIdx = -1;
  if (payloadLen < 1) return false;
  const end = off + payloadLen;
  const b0 = buf[off]!;
  out.start = (b0 & 0x10) !== 0;
  out.partitionId = b0 & 0x07;
  let p = off + 1;
  if ((b0 & 0x80) !== 0) {
    if (p >= end) return false;
    const x = buf[p++]!;
    const hasI = (x & 0x80) !== 0;
    const hasL = (x & 0x40) !== 0;
    const hasT = (x & 0x20) !== 0;
    const hasK = (x & 0x10) !== 0;
    if (hasI) {
      if (p >= end) return false;
      out.pictureIdOffset = p - off;
      if ((buf[p]! & 0x80) !== 0) {
        if (p + 1 >= end) return false;
        out.pictureId16 = true;
        out.pictureId = ((buf[p]! & 0x7f) << 8) | buf[p + 1]!;
        p += 2;
      } else {
        out.pictureId = buf[p]! & 0x7f;
        p += 1;
      }
    }
    if (hasL) {
      if (p >= end) return false;
      out.tl0PicIdxOffset = p - off;
      out.tl0PicIdx = buf[p++]!;
    }
    if (hasT || hasK) {
      if (p >= end) return false;
      const tk = buf[p++]!;
      if (hasT) {
        out.tid = tk >> 6;
        out.layerSync = (tk & 0x20) !== 0;
      }
      if (hasK) out.keyIdx = tk & 0x1f;
    }
  }
  out.size = p - off;
  // VP8 payload header (RFC 7741 §4.3): P bit (bit 0 of first byte) is 0 for keyframes.
  out.keyframe = out.start && out.partitionId === 0 && p < end && (buf[p]! & 0x01) === 0;
  return true;
}

/** True when the VP8 RTP packet starts a keyframe. Allocation-free shortcut of {@link parseVp8Descriptor}. */
export function isVp8Keyframe(buf: Uint8Array, len: number): boolean {
  const hl = rtpHeaderLength(buf, len);
  if (hl < 0) return false;
  const end = len - rtpPaddingLength(buf, len);
  let p = hl;
  if (p >= end) return false;
  const b0 = buf[p++]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
  if ((b0 & 0x80) !== 0) {
    if (p >= end) return false;
    const x = buf[p++]!;
    if ((x & 0x80) !== 0) {
      if (p >= end) return false;
      p += (buf[p]! & 0x80) !== 0 ? 2 : 1;
    }
    if ((x & 0x40) !== 0) p++;
    if ((x & 0x30) !== 0) p++;
  }
  return p < end && (buf[p]! & 0x01) === 0;
}

/**
 * The frame size of a VP8 keyframe's first packet (RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a, then
 * 14-bit width and height, little-endian, under 2 scaling bits), as `width * 65536 + height`; -1 when the packet
 * does not start a keyframe or is too short.
 */
export function vp8KeyframeSize(buf: Uint8Array, len: number): number {
  const hl = rtpHeaderLength(buf, len);
  if (hl < 0) return -1;
  const end = len - rtpPaddingLength(buf, len);
  let p = hl;
  if (p >= end) return -1;
  const b0 = buf[p++]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return -1;
  if ((b0 & 0x80) !== 0) {
    if (p >= end) return -1;
    const x = buf[p++]!;
    if ((x & 0x80) !== 0) {
      if (p >= end) return -1;
      p += (buf[p]! & 0x80) !== 0 ? 2 : 1;
    }
    if ((x & 0x40) !== 0) p++;
    if ((x & 0x30) !== 0) p++;
  }
  if (p + 10 > end || (buf[p]! & 0x01) !== 0) return -1;
  if (buf[p + 3] !== 0x9d || buf[p + 4] !== 0x01 || buf[p + 5] !== 0x2a) return -1;
  const width = (buf[p + 6]! | (buf[p + 7]! << 8)) & 0x3fff;
  const height = (buf[p + 8]! | (buf[p + 9]! << 8)) & 0x3fff;
  return width * 65536 + height;
}

/** Rewrites the picture id in place, keeping its width (7 or 15 bits). `payloadOff` is the RTP payload start. */
export function setVp8PictureId(buf: Uint8Array, payloadOff: number, d: Vp8Descriptor, pictureId: number): void {
  if (d.pictureIdOffset < 0) return;
  const p = payloadOff + d.pictureIdOffset;
  if (d.pictureId16) {
    buf[p] = 0x80 | ((pictureId >>> 8) & 0x7f);
    buf[p + 1] = pictureId & 0xff;
  } else {
    buf[p] = pictureId & 0x7f;
  }
}

/** Rewrites TL0PICIDX in place. */
export function setVp8Tl0PicIdx(buf: Uint8Array, payloadOff: number, d: Vp8Descriptor, tl0: number): void {
  if (d.tl0PicIdxOffset < 0) return;
  buf[payloadOff + d.tl0PicIdxOffset] = tl0 & 0xff;
}

/** Modular 16-bit difference `a - b` in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}
/** True when 16-bit sequence `a` is newer than `b`. */
export function seqNewer(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}
/** Modular 32-bit difference `a - b` as a signed 32-bit number. */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}
