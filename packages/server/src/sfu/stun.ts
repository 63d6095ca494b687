/**
 * The few STUN (RFC 8489) operations {@link TiebreakerProxy} needs on ICE connectivity checks: read the
 * USERNAME, verify and rewrite MESSAGE-INTEGRITY (short-term credentials: the key is the ICE password) and
 * FINGERPRINT, replace a zero ICE-CONTROLLING/ICE-CONTROLLED tiebreaker, rewrite XOR-MAPPED-ADDRESS.
 * Buffers are edited in place.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { crc32 } from 'node:zlib';

const MAGIC_COOKIE = 0x2112a442;
const HEADER = 20;
const FINGERPRINT_XOR = 0x5354554e;

/** STUN message types and attributes used here. */
export const Stun = {
  BINDING_REQUEST: 0x0001,
  BINDING_SUCCESS: 0x0101,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  XOR_MAPPED_ADDRESS: 0x0020,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

interface Attr {
  type: number;
  /** Offset of the attribute header (type) in the message. */
  at: number;
  /** Offset of the value. */
  value: number;
  length: number;
}

/** True when `buf` is one whole STUN message (RFC 8489 §6: leading zero bits, magic cookie, length). */
export function isStun(buf: Buffer): boolean {
  return buf.length >= HEADER && (buf[0]! & 0xc0) === 0 && buf.readUInt32BE(4) === MAGIC_COOKIE && buf.readUInt16BE(2) + HEADER === buf.length && buf.readUInt16BE(2) % 4 === 0;
}

/** The message type (method and class), e.g. {@link Stun.BINDING_REQUEST}. */
export function stunType(buf: Buffer): number {
  return buf.readUInt16BE(0);
}

function attributes(buf: Buffer): Attr[] {
  const out: Attr[] = [];
  let p = HEADER;
  while (p + 4 <= buf.length) {
    const type = buf.readUInt16BE(p);
    const length = buf.readUInt16BE(p + 2);
    if (p + 4 + length > buf.length) break;
    out.push({ type, at: p, value: p + 4, length });
    p += 4 + length + ((4 - (length % 4)) % 4);
  }
  return out;
}

/** The USERNAME attribute as text, or undefined. */
export function stunUsername(buf: Buffer): string | undefined {
  const a = attributes(buf).find((x) => x.type === Stun.USERNAME);
  return a ? buf.toString('utf8', a.value, a.value + a.length) : undefined;
}

/** HMAC-SHA1 of the message up to MESSAGE-INTEGRITY, with the header length covering it (RFC 8489 §14.5). */
function integrity(buf: Buffer, mi: Attr, key: string): Buffer {
  const saved = buf.readUInt16BE(2);
  buf.writeUInt16BE(mi.value + 20 - HEADER, 2);
  const mac = createHmac('sha1', key).update(buf.subarray(0, mi.at)).digest();
  buf.writeUInt16BE(saved, 2);
  return mac;
}

/** True when the message carries a MESSAGE-INTEGRITY that `key` (the ICE password) produced. */
export function verifyIntegrity(buf: Buffer, key: string): boolean {
  const mi = attributes(buf).find((x) => x.type === Stun.MESSAGE_INTEGRITY);
  if (!mi || mi.length !== 20) return false;
  return timingSafeEqual(integrity(buf, mi, key), buf.subarray(mi.value, mi.value + 20));
}

/** Recomputes MESSAGE-INTEGRITY with `key` and then FINGERPRINT, after the message was edited. */
function sign(buf: Buffer, attrs: Attr[], key: string): void {
  const mi = attrs.find((x) => x.type === Stun.MESSAGE_INTEGRITY);
  if (mi && mi.length === 20) integrity(buf, mi, key).copy(buf, mi.value);
  const fp = attrs.find((x) => x.type === Stun.FINGERPRINT);
  if (fp && fp.length === 4) buf.writeUInt32BE((crc32(buf.subarray(0, fp.at)) ^ FINGERPRINT_XOR) >>> 0, fp.value);
}

/**
 * Replaces a zero ICE-CONTROLLING or ICE-CONTROLLED tiebreaker with `tiebreaker` (non-zero) and signs the
 * request again with `key`. Returns false (and leaves the message as it was) when there is no zero tiebreaker
 * or when the message's own integrity does not verify with `key` — an unauthenticated request is never
 * turned into an authenticated one.
 */
export function repairZeroTiebreaker(buf: Buffer, key: string, tiebreaker: bigint): boolean {
  const attrs = attributes(buf);
  const role = attrs.find((x) => (x.type === Stun.ICE_CONTROLLING || x.type === Stun.ICE_CONTROLLED) && x.length === 8);
  if (!role || buf.readBigUInt64BE(role.value) !== 0n || tiebreaker === 0n) return false;
  if (!verifyIntegrity(buf, key)) return false;
  buf.writeBigUInt64BE(tiebreaker, role.value);
  sign(buf, attrs, key);
  return true;
}

/**
 * Rewrites the XOR-MAPPED-ADDRESS of a response to `address:port` (same address family only) and signs the
 * response again with `key`. Returns false when there is nothing to rewrite.
 */
export function rewriteMappedAddress(buf: Buffer, address: string, port: number, key: string): boolean {
  const attrs = attributes(buf);
  const x = attrs.find((a) => a.type === Stun.XOR_MAPPED_ADDRESS);
  if (!x || x.length !== 8 || buf[x.value + 1] !== 0x01 || !isIPv4(address)) return false;
  buf.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), x.value + 2);
  const ip = address.split('.').reduce((n, o) => (n << 8) | Number(o), 0) >>> 0;
  buf.writeUInt32BE((ip ^ MAGIC_COOKIE) >>> 0, x.value + 4);
  sign(buf, attrs, key);
  return true;
}
