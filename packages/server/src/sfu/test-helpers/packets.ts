/** Builders of synthetic RTP packets for the sfu unit tests (test-only; excluded from the build). */

/** An extension element `[id, bytes]`, or 0 for one padding byte. */
export type ExtElement = [number, number[]] | 0;

/** Extension block: profile and body bytes (unpadded). */
export interface ExtBlock {
  profile: number;
  body: number[];
}

/** One-byte form (0xBEDE). */
export function oneByteExt(elements: ExtElement[]): ExtBlock {
  const body: number[] = [];
  for (const e of elements) {
    if (e === 0) body.push(0);
    else body.push((e[0] << 4) | (e[1].length - 1), ...e[1]);
  }
  return { profile: 0xbede, body };
}

/** Two-byte form (0x1000). */
export function twoByteExt(elements: ExtElement[]): ExtBlock {
  const body: number[] = [];
  for (const e of elements) {
    if (e === 0) body.push(0);
    else body.push(e[0], e[1].length, ...e[1]);
  }
  return { profile: 0x1000, body };
}

/** Options of {@link buildRtp}. */
export interface RtpOptions {
  pt?: number;
  seq?: number;
  ts?: number;
  ssrc?: number;
  marker?: boolean;
  csrcs?: number[];
  ext?: ExtBlock;
  payload?: number[] | Uint8Array;
  padding?: number;
}

/** Builds one RTP packet. */
export function buildRtp(o: RtpOptions): Buffer {
  const csrcs = o.csrcs ?? [];
  const extBody = o.ext ? [...o.ext.body] : [];
  while (extBody.length % 4 !== 0) extBody.push(0);
  const extLen = o.ext ? 4 + extBody.length : 0;
  const payload = o.payload ?? [];
  const pad = o.padding ?? 0;
  const buf = Buffer.alloc(12 + csrcs.length * 4 + extLen + payload.length + pad);
  buf[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (o.ext ? 0x10 : 0) | csrcs.length;
  buf[1] = (o.marker ? 0x80 : 0) | ((o.pt ?? 96) & 0x7f);
  buf.writeUInt16BE((o.seq ?? 0) & 0xffff, 2);
  buf.writeUInt32BE((o.ts ?? 0) >>> 0, 4);
  buf.writeUInt32BE((o.ssrc ?? 0x11223344) >>> 0, 8);
  let p = 12;
  for (const c of csrcs) {
    buf.writeUInt32BE(c >>> 0, p);
    p += 4;
  }
  if (o.ext) {
    buf.writeUInt16BE(o.ext.profile, p);
    buf.writeUInt16BE(extBody.length / 4, p + 2);
    Buffer.from(extBody).copy(buf, p + 4);
    p += extLen;
  }
  Buffer.from(payload).copy(buf, p);
  p += payload.length;
  if (pad > 0) buf[buf.length - 1] = pad;
  return buf;
}

/** Options of {@link vp8Payload}. */
export interface Vp8Options {
  start: boolean;
  keyframe: boolean;
  partitionId?: number;
  pictureId?: number;
  pictureId7?: boolean;
  tl0?: number;
  tid?: number;
  layerSync?: boolean;
  keyIdx?: number;
  size?: number;
  /** Frame size written after a keyframe's start code (RFC 6386 §9.1), when given. */
  width?: number;
  height?: number;
}

/** Builds a VP8 RTP payload: descriptor, then a payload header whose P bit says key/inter frame, then filler. */
export function vp8Payload(o: Vp8Options): number[] {
  const ext = o.pictureId !== undefined || o.tl0 !== undefined || o.tid !== undefined || o.keyIdx !== undefined;
  const out: number[] = [(ext ? 0x80 : 0) | (o.start ? 0x10 : 0) | ((o.partitionId ?? 0) & 7)];
  if (ext) {
    out.push(
      (o.pictureId !== undefined ? 0x80 : 0) |
        (o.tl0 !== undefined ? 0x40 : 0) |
        (o.tid !== undefined ? 0x20 : 0) |
        (o.keyIdx !== undefined ? 0x10 : 0),
    );
    if (o.pictureId !== undefined) {
      if (o.pictureId7) out.push(o.pictureId & 0x7f);
      else out.push(0x80 | ((o.pictureId >> 8) & 0x7f), o.pictureId & 0xff);
    }
    if (o.tl0 !== undefined) out.push(o.tl0 & 0xff);
    if (o.tid !== undefined || o.keyIdx !== undefined)
      out.push(((o.tid ?? 0) << 6) | (o.layerSync ? 0x20 : 0) | ((o.keyIdx ?? 0) & 0x1f));
  }
  // VP8 payload header: size0|H|ver|P ; P=0 for keyframes. Keyframes carry the start code 9d 01 2a.
  out.push(o.keyframe ? 0x10 : 0x11, 0x00, 0x00);
  if (o.keyframe) out.push(0x9d, 0x01, 0x2a);
  if (o.keyframe && o.width !== undefined && o.height !== undefined) out.push(o.width & 0xff, (o.width >> 8) & 0x3f, o.height & 0xff, (o.height >> 8) & 0x3f);
  for (let i = out.length; i < (o.size ?? 20); i++) out.push(i & 0xff);
  return out;
}
