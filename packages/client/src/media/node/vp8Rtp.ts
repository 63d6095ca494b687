// VP8 over RTP (RFC 7741): payload descriptor, packetization and the receiver-side checks.

/** Default largest RTP payload (descriptor + VP8 data) of a packet, to stay well under a 1500-byte MTU. */
export const DEFAULT_MAX_PAYLOAD = 1200;

/**
 * Splits one VP8 frame into RTP payloads, each starting with a 4-byte payload descriptor:
 * X=1, S=1 on the first packet, PID=0; I=1 with a 15-bit picture id (RFC 7741 §4.2).
 */
export function packetizeVp8(frame: Uint8Array, pictureId: number, maxPayload = DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  const chunk = maxPayload - 4;
  if (chunk < 1) throw new TypeError('maxPayload too small');
  const out: Uint8Array[] = [];
  const pid = pictureId & 0x7fff;
  for (let off = 0; off < frame.length || out.length === 0; off += chunk) {
    const part = frame.subarray(off, Math.min(frame.length, off + chunk));
    const p = new Uint8Array(4 + part.length);
    p[0] = 0x80 | (off === 0 ? 0x10 : 0); // X, S, PID=0
    p[1] = 0x80; // I
    p[2] = 0x80 | (pid >> 8); // M=1: 15-bit picture id
    p[3] = pid & 0xff;
    p.set(part, 4);
    out.push(p);
  }
  return out;
}

/** What a receiver learns from one VP8 RTP payload. */
export interface Vp8PayloadInfo {
  /** First packet of a frame (S=1, PID=0). */
  frameStart: boolean;
  /** The frame starting here is a key frame (only meaningful when `frameStart`). */
  keyframe: boolean;
  pictureId: number | null;
  /** Key-frame dimensions, when this packet starts a key frame. */
  width: number | null;
  height: number | null;
  /** Offset of the VP8 data after the descriptor. */
  dataOffset: number;
}

/** Parses the payload descriptor and, on a frame start, the VP8 frame tag; null if malformed. */
export function parseVp8Payload(p: Uint8Array): Vp8PayloadInfo | null {
  if (p.length < 1) return null;
  const b0 = p[0] ?? 0;
  let off = 1;
  let pictureId: number | null = null;
  if (b0 & 0x80) {
    const x = p[off++] ?? 0;
    if (x & 0x80) {
      const m = p[off] ?? 0;
      if (m & 0x80) {
        pictureId = ((m & 0x7f) << 8) | (p[off + 1] ?? 0);
        off += 2;
      } else {
        pictureId = m & 0x7f;
        off += 1;
      }
    }
    if (x & 0x40) off++; // TL0PICIDX
    if (x & 0x30) off++; // TID/Y/KEYIDX
  }
  if (off > p.length) return null;
  const frameStart = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
  let keyframe = false;
  let width: number | null = null;
  let height: number | null = null;
  if (frameStart && off < p.length) {
    keyframe = ((p[off] ?? 1) & 0x01) === 0;
    if (keyframe && off + 10 <= p.length && p[off + 3] === 0x9d && p[off + 4] === 0x01 && p[off + 5] === 0x2a) {
      width = ((p[off + 6] ?? 0) | ((p[off + 7] ?? 0) << 8)) & 0x3fff;
      height = ((p[off + 8] ?? 0) | ((p[off + 9] ?? 0) << 8)) & 0x3fff;
    }
  }
  return { frameStart, keyframe, pictureId, width, height, dataOffset: off };
}
