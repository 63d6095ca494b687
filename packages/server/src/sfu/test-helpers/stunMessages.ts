// Hand-built STUN messages for the tests of stun.ts and TiebreakerProxy (what a browser's ICE agent sends).
import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Stun } from '../stun.js';

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

/** A check as a browser sends it: USERNAME, role, PRIORITY, MESSAGE-INTEGRITY (with `key`), FINGERPRINT. */
export function bindingRequest(o: { username: string; key: string; role?: number; tiebreaker?: bigint; type?: number; mapped?: [string, number] }): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(o.type ?? Stun.BINDING_REQUEST, 0);
  header.writeUInt32BE(0x2112a442, 4);
  Buffer.from('0123456789ab').copy(header, 8);
  const parts: Buffer[] = [];
  if (o.type === undefined || o.type === Stun.BINDING_REQUEST) {
    parts.push(attr(Stun.USERNAME, Buffer.from(o.username)));
    const tb = Buffer.alloc(8);
    tb.writeBigUInt64BE(o.tiebreaker ?? 0n);
    parts.push(attr(o.role ?? Stun.ICE_CONTROLLING, tb));
    const prio = Buffer.alloc(4);
    prio.writeUInt32BE(1845501951);
    parts.push(attr(0x0024, prio));
  }
  if (o.mapped) {
    const v = Buffer.alloc(8);
    v[1] = 0x01;
    v.writeUInt16BE(o.mapped[1] ^ 0x2112, 2);
    v.writeUInt32BE((o.mapped[0].split('.').reduce((n, x) => (n << 8) | Number(x), 0) ^ 0x2112a442) >>> 0, 4);
    parts.push(attr(Stun.XOR_MAPPED_ADDRESS, v));
  }
  let body = Buffer.concat(parts);
  header.writeUInt16BE(body.length + 24, 2);
  const mac = createHmac('sha1', o.key).update(Buffer.concat([header, body])).digest();
  body = Buffer.concat([body, attr(Stun.MESSAGE_INTEGRITY, mac)]);
  header.writeUInt16BE(body.length + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0);
  return Buffer.concat([header, body, attr(Stun.FINGERPRINT, fp)]);
}

/** True when the FINGERPRINT (last attribute) matches the message. */
export function fingerprintOk(buf: Buffer): boolean {
  const at = buf.length - 8;
  return buf.readUInt16BE(at) === Stun.FINGERPRINT && ((crc32(buf.subarray(0, at)) ^ 0x5354554e) >>> 0) === buf.readUInt32BE(at + 4);
}

