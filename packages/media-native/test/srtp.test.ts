// Tests of src/srtp.cc (SRTP/SRTCP, RFC 3711 / RFC 7714) through a test-only addon.
//
// Build the addon first (it is skipped, with a message, when missing):
//   node /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir=/usr -C packages/media-native/test
// (inside an npm script plain `node-gyp rebuild -C packages/media-native/test` works: npm puts its node-gyp on
// PATH and passes nodedir from .npmrc). Output: packages/media-native/test/build/Release/srtp_test.node.
//
// What is checked: published vectors (RFC 3711 B.2/B.3, RFC 6188 7.2 key derivation, RFC 7714 sections 16/17,
// libsrtp's srtp_driver reference packets, which go through the whole master-key path), a cross-check against an
// independent implementation written here on node:crypto (random packets with CSRCs, extensions and padding, many
// sequence numbers across a ROC wrap), round trips, tampering, replay and malformed input for all four profiles.
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

type Session = object;
type Result = Buffer | number;
interface SrtpTestAddon {
  createSession(profile: number, key: Uint8Array, salt: Uint8Array): Session | null;
  setSessionKeys(
    s: Session,
    rtpKey: Uint8Array,
    rtpSalt: Uint8Array,
    rtpAuth: Uint8Array | null,
    rtcpKey: Uint8Array,
    rtcpSalt: Uint8Array,
    rtcpAuth: Uint8Array | null,
  ): boolean;
  setNextRtcpIndex(s: Session, index: number): void;
  protectRtp(s: Session, packet: Uint8Array, extraCap?: number): Result;
  unprotectRtp(s: Session, packet: Uint8Array): Result;
  protectRtcp(s: Session, packet: Uint8Array, extraCap?: number): Result;
  unprotectRtcp(s: Session, packet: Uint8Array): Result;
  deriveKey(key: Uint8Array, salt: Uint8Array, label: number, len: number): Buffer | null;
  keyLengths(profile: number): [number, number] | null;
  profileName(profile: number): string | null;
  memory(profile: number, sessions: number, ssrcs: number): Record<string, number>;
}

const addonPath = fileURLToPath(new URL('./build/Release/srtp_test.node', import.meta.url));
const addon: SrtpTestAddon | undefined = existsSync(addonPath)
  ? (createRequire(import.meta.url)(addonPath) as SrtpTestAddon)
  : undefined;
if (!addon) {
  console.warn(
    `[srtp.test] skipped: ${addonPath} is not built. Build it with ` +
      '`node /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir=/usr -C packages/media-native/test`',
  );
}

const BAD_PACKET = -1;
const AUTH_FAILED = -2;
const REPLAYED = -3;

const CM80 = 0x0001;
const CM32 = 0x0002;
const GCM128 = 0x0007;
const GCM256 = 0x0008;
const PROFILES = [
  { id: CM80, name: 'AES_CM_128_HMAC_SHA1_80', keyLen: 16, saltLen: 14, gcm: false, rtpTag: 10 },
  { id: CM32, name: 'AES_CM_128_HMAC_SHA1_32', keyLen: 16, saltLen: 14, gcm: false, rtpTag: 4 },
  { id: GCM128, name: 'AEAD_AES_128_GCM', keyLen: 16, saltLen: 12, gcm: true, rtpTag: 16 },
  { id: GCM256, name: 'AEAD_AES_256_GCM', keyLen: 32, saltLen: 12, gcm: true, rtpTag: 16 },
] as const;
type Profile = (typeof PROFILES)[number];

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const a = (): SrtpTestAddon => addon as SrtpTestAddon;

// Checked element access (the repository compiles with noUncheckedIndexedAccess).
function at<T>(arr: readonly T[], i: number): T {
  const v = arr[i];
  if (v === undefined) throw new Error(`index ${i} out of range`);
  return v;
}
function flip(b: Buffer, i: number, mask: number): void {
  b.writeUInt8(b.readUInt8(i) ^ mask, i);
}
function xorInto(dst: Buffer, src: Buffer, n: number): void {
  for (let i = 0; i < n; i++) flip(dst, i, src.readUInt8(i));
}

function buf(r: Result): Buffer {
  if (typeof r === 'number') throw new Error(`expected a packet, got error ${r}`);
  return r;
}

function session(profile: number, key: Uint8Array, salt: Uint8Array): Session {
  const s = a().createSession(profile, key, salt);
  if (!s) throw new Error('createSession failed');
  return s;
}

// Deterministic PRNG (xorshift32) so failures reproduce.
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}
function randomBytes(r: (n: number) => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r(256);
  return b;
}

interface RtpShape {
  seq: number;
  ssrc: number;
  cc?: number;
  ext?: number; // header extension length in 32-bit words, or undefined for none
  payload: number;
  padding?: number; // padding bytes at the end of the payload (P bit), 0 for none
}
function rtpPacket(r: (n: number) => number, shape: RtpShape): Buffer {
  const cc = shape.cc ?? 0;
  const extWords = shape.ext;
  const pad = shape.padding ?? 0;
  const hdrLen = 12 + 4 * cc + (extWords === undefined ? 0 : 4 + 4 * extWords);
  const p = Buffer.alloc(hdrLen + shape.payload + pad);
  p[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (extWords !== undefined ? 0x10 : 0) | cc;
  p[1] = (r(2) << 7) | 96;
  p.writeUInt16BE(shape.seq & 0xffff, 2);
  p.writeUInt32BE(r(0x7fffffff), 4);
  p.writeUInt32BE(shape.ssrc >>> 0, 8);
  randomBytes(r, 4 * cc).copy(p, 12);
  if (extWords !== undefined) {
    const extAt = 12 + 4 * cc;
    p.writeUInt16BE(0xbede, extAt);
    p.writeUInt16BE(extWords, extAt + 2);
    randomBytes(r, 4 * extWords).copy(p, extAt + 4);
  }
  randomBytes(r, shape.payload).copy(p, hdrLen);
  if (pad > 0) p[p.length - 1] = pad;
  return p;
}
function rtpHeaderLength(p: Buffer): number {
  const b0 = p.readUInt8(0);
  let h = 12 + 4 * (b0 & 0x0f);
  if (b0 & 0x10) h += 4 + 4 * p.readUInt16BE(h + 2);
  return h;
}
function rtcpPacket(r: (n: number) => number, ssrc: number, bodyWords: number): Buffer {
  const p = randomBytes(r, 8 + 4 * bodyWords);
  p[0] = 0x80 | r(32);
  p[1] = 200 + r(5);
  p.writeUInt16BE(1 + bodyWords, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  return p;
}

// ---- Independent reference implementation on node:crypto (RFC 3711 sections 3-4, RFC 7714 sections 8-11) ----

function refPrf(masterKey: Buffer, masterSalt: Buffer, label: number, len: number): Buffer {
  // x = (label || r) XOR master_salt, right-aligned in 112 bits; a 96-bit AEAD salt is first multiplied by 2^16.
  const x = Buffer.alloc(16);
  masterSalt.copy(x, 0);
  flip(x, 7, label);
  const c = createCipheriv(masterKey.length === 16 ? 'aes-128-ctr' : 'aes-256-ctr', masterKey, x);
  return c.update(Buffer.alloc(len));
}

class RefSession {
  readonly rtpKey: Buffer;
  readonly rtpSalt: Buffer;
  readonly rtpAuth: Buffer;
  readonly rtcpKey: Buffer;
  readonly rtcpSalt: Buffer;
  readonly rtcpAuth: Buffer;
  private readonly tx = new Map<number, { roc: number; last: number }>();
  rtcpIndex = 0;

  constructor(
    readonly profile: Profile,
    masterKey: Buffer,
    masterSalt: Buffer,
  ) {
    const k = profile.keyLen;
    const s = profile.saltLen;
    this.rtpKey = refPrf(masterKey, masterSalt, 0, k);
    this.rtpAuth = refPrf(masterKey, masterSalt, 1, 20);
    this.rtpSalt = refPrf(masterKey, masterSalt, 2, s);
    this.rtcpKey = refPrf(masterKey, masterSalt, 3, k);
    this.rtcpAuth = refPrf(masterKey, masterSalt, 4, 20);
    this.rtcpSalt = refPrf(masterKey, masterSalt, 5, s);
  }

  private gcmName(): 'aes-128-gcm' | 'aes-256-gcm' {
    return this.profile.keyLen === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
  }

  // Packets must come with increasing sequence numbers (wrapping): the ROC increments on a wrap.
  protectRtp(p: Buffer): Buffer {
    const seq = p.readUInt16BE(2);
    const ssrc = p.readUInt32BE(8);
    let st = this.tx.get(ssrc);
    if (!st) {
      st = { roc: 0, last: seq };
      this.tx.set(ssrc, st);
    } else {
      if (seq < st.last && st.last - seq > 0x8000) st.roc = (st.roc + 1) >>> 0;
      st.last = seq;
    }
    const roc = st.roc;
    const h = rtpHeaderLength(p);
    const header = p.subarray(0, h);
    const payload = p.subarray(h);
    if (this.profile.gcm) {
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(roc, 6);
      iv.writeUInt16BE(seq, 10);
      xorInto(iv, this.rtpSalt, 12);
      const c = createCipheriv(this.gcmName(), this.rtpKey, iv);
      c.setAAD(header);
      const ct = Buffer.concat([c.update(payload), c.final()]);
      return Buffer.concat([header, ct, c.getAuthTag()]);
    }
    const iv = Buffer.alloc(16);
    this.rtpSalt.copy(iv, 0);
    const ivSsrc = Buffer.alloc(16);
    ivSsrc.writeUInt32BE(ssrc, 4);
    ivSsrc.writeUInt32BE(roc, 8);
    ivSsrc.writeUInt16BE(seq, 12);
    xorInto(iv, ivSsrc, 16);
    const ct = createCipheriv('aes-128-ctr', this.rtpKey, iv).update(payload);
    const authed = Buffer.concat([header, ct]);
    const rocBytes = Buffer.alloc(4);
    rocBytes.writeUInt32BE(roc);
    const tag = createHmac('sha1', this.rtpAuth).update(authed).update(rocBytes).digest();
    return Buffer.concat([authed, tag.subarray(0, this.profile.rtpTag)]);
  }

  protectRtcp(p: Buffer): Buffer {
    const index = this.rtcpIndex;
    this.rtcpIndex = (this.rtcpIndex + 1) & 0x7fffffff;
    const ssrc = p.readUInt32BE(4);
    const word = Buffer.alloc(4);
    word.writeUInt32BE((0x80000000 | index) >>> 0);
    const header = p.subarray(0, 8);
    const body = p.subarray(8);
    if (this.profile.gcm) {
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(index, 8);
      xorInto(iv, this.rtcpSalt, 12);
      const c = createCipheriv(this.gcmName(), this.rtcpKey, iv);
      c.setAAD(Buffer.concat([header, word]));
      const ct = Buffer.concat([c.update(body), c.final()]);
      return Buffer.concat([header, ct, c.getAuthTag(), word]);
    }
    const iv = Buffer.alloc(16);
    this.rtcpSalt.copy(iv, 0);
    const x = Buffer.alloc(16);
    x.writeUInt32BE(ssrc, 4);
    x.writeUInt32BE(index, 10);
    xorInto(iv, x, 16);
    const ct = createCipheriv('aes-128-ctr', this.rtcpKey, iv).update(body);
    const authed = Buffer.concat([header, ct, word]);
    const tag = createHmac('sha1', this.rtcpAuth).update(authed).digest().subarray(0, 10);
    return Buffer.concat([authed, tag]);
  }

  // Decrypts an SRTP packet with a known ROC (checks the native output from the other direction).
  unprotectRtp(p: Buffer, roc: number): Buffer | null {
    const seq = p.readUInt16BE(2);
    const ssrc = p.readUInt32BE(8);
    const h = rtpHeaderLength(p);
    if (this.profile.gcm) {
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(roc, 6);
      iv.writeUInt16BE(seq, 10);
      xorInto(iv, this.rtpSalt, 12);
      const d = createDecipheriv(this.gcmName(), this.rtpKey, iv);
      d.setAAD(p.subarray(0, h));
      d.setAuthTag(p.subarray(p.length - 16));
      try {
        return Buffer.concat([p.subarray(0, h), d.update(p.subarray(h, p.length - 16)), d.final()]);
      } catch {
        return null;
      }
    }
    const t = this.profile.rtpTag;
    const rocBytes = Buffer.alloc(4);
    rocBytes.writeUInt32BE(roc);
    const tag = createHmac('sha1', this.rtpAuth).update(p.subarray(0, p.length - t)).update(rocBytes).digest();
    if (!tag.subarray(0, t).equals(p.subarray(p.length - t))) return null;
    const iv = Buffer.alloc(16);
    this.rtpSalt.copy(iv, 0);
    const x = Buffer.alloc(16);
    x.writeUInt32BE(ssrc, 4);
    x.writeUInt32BE(roc, 8);
    x.writeUInt16BE(seq, 12);
    xorInto(iv, x, 16);
    return Buffer.concat([
      p.subarray(0, h),
      createDecipheriv('aes-128-ctr', this.rtpKey, iv).update(p.subarray(h, p.length - t)),
    ]);
  }
}

// ---- Published vectors ----

// RFC 3711 Appendix B.3 (key derivation, AES-128 PRF).
const B3 = {
  masterKey: hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
  masterSalt: hex('0EC675AD498AFEEBB6960B3AABE6'),
  cipherKey: hex('C61E7A93744F39EE10734AFE3FF7A087'),
  cipherSalt: hex('30CBBC08863D8C85D49DB34A9AE1'),
  authKey94: hex(`CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
                  E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
                  6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`),
};
// RFC 6188 section 7.2 (AES_256_CM_PRF key derivation).
const RFC6188 = {
  masterKey: hex('f0f04914b513f2763a1b1fa130f10e29 98f6f6e43e4309d1e622a0e332b9f1b6'),
  masterSalt: hex('3b04803de51ee7c96423ab5b78d2'),
  cipherKey: hex('5ba1064e30ec51613cad926c5a28ef73 1ec7fb397f70a960653caf06554cd8c4'),
  cipherSalt: hex('fa31791685ca444a9e07c6c64e93'),
  authKey: hex('fd9c32d39ed5fbb5a9dc96b30818454d1313dc05'),
};
// libsrtp test/srtp_driver.c reference packets (master key in: KDF, cipher and auth together).
const LIBSRTP = {
  cmKey: hex('e1f97a0d3e018be0d64fa32c06de4139'),
  cmSalt: hex('0ec675ad498afeebb6960b3aabe6'),
  gcmKey: hex('000102030405060708090a0b0c0d0e0f'),
  gcmSalt: hex('a0a1a2a3a4a5a6a7a8a9aaab'),
  rtp: hex('800f1234decafbadcafebabe' + 'ab'.repeat(16)),
  rtcp: hex('81c8000bcafebabe' + 'ab'.repeat(16)),
  srtpCm80: hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb'),
  srtcpCm80: hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798'),
  srtpGcm128: hex(`800f1234decafbadcafebabe c5002ede04cfdd2eb91159e0880aa06e
                   d2976826f796b201df3131a127e8a392`),
  srtcpGcm128: hex(`81c8000bcafebabe c98b8b5df0392a55852b6c21ac8e7025
                    c52c6fbea2b3b446ea31123ba88ce61e 80000001`),
};
// RFC 7714 sections 16 and 17 (session keys given directly; the same key and salt for SRTP and SRTCP).
const RFC7714 = {
  key128: hex('000102030405060708090a0b0c0d0e0f'),
  key256: hex('000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f'),
  salt: hex('517569642070726f2071756f'),
  rtp: hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
            69736120 696e2070 61727465 73207472 6573`),
  srtp128: hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f
                42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`),
  srtp256: hex(`8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3
                b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`),
  rtcp: hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
             deadbeef deadbeef deadbeef deadbeef deadbeef`),
  srtcpIndex: 0x5d4,
  srtcp128: hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1
                 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`),
  srtcp256: hex(`81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1
                 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4`),
  // Section 17.3: tagged only (E = 0).
  srtcp128TagOnly: hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
                        deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4`),
};

function rfc7714Session(profile: number): Session {
  const key = profile === GCM128 ? RFC7714.key128 : RFC7714.key256;
  // Init with any master key of the right size, then install the RFC's session keys.
  const s = session(profile, Buffer.alloc(key.length, 9), Buffer.alloc(12, 9));
  expect(a().setSessionKeys(s, key, RFC7714.salt, null, key, RFC7714.salt, null)).toBe(true);
  return s;
}

describe.skipIf(!addon)('SRTP (src/srtp.cc)', () => {
  describe('profiles', () => {
    it('reports key/salt lengths and OpenSSL names', () => {
      expect(a().keyLengths(CM80)).toEqual([16, 14]);
      expect(a().keyLengths(CM32)).toEqual([16, 14]);
      expect(a().keyLengths(GCM128)).toEqual([16, 12]);
      expect(a().keyLengths(GCM256)).toEqual([32, 12]);
      expect(a().keyLengths(3)).toBeNull();
      expect(a().profileName(CM80)).toBe('SRTP_AES128_CM_SHA1_80');
      expect(a().profileName(CM32)).toBe('SRTP_AES128_CM_SHA1_32');
      expect(a().profileName(GCM128)).toBe('SRTP_AEAD_AES_128_GCM');
      expect(a().profileName(GCM256)).toBe('SRTP_AEAD_AES_256_GCM');
      expect(a().profileName(5)).toBeNull();
    });

    it('refuses keys or salts of the wrong length and unknown profiles', () => {
      expect(a().createSession(CM80, Buffer.alloc(16), Buffer.alloc(12))).toBeNull();
      expect(a().createSession(GCM128, Buffer.alloc(16), Buffer.alloc(14))).toBeNull();
      expect(a().createSession(GCM256, Buffer.alloc(16), Buffer.alloc(12))).toBeNull();
      expect(a().createSession(4, Buffer.alloc(16), Buffer.alloc(14))).toBeNull();
      expect(a().createSession(GCM256, Buffer.alloc(32), Buffer.alloc(12))).not.toBeNull();
    });
  });

  describe('key derivation', () => {
    it('matches RFC 3711 B.3 (cipher key, salt and the 94-octet auth key)', () => {
      expect(a().deriveKey(B3.masterKey, B3.masterSalt, 0x00, 16)).toEqual(B3.cipherKey);
      expect(a().deriveKey(B3.masterKey, B3.masterSalt, 0x02, 14)).toEqual(B3.cipherSalt);
      expect(a().deriveKey(B3.masterKey, B3.masterSalt, 0x01, 94)).toEqual(B3.authKey94);
    });

    it('matches RFC 6188 7.2 (AES-256 PRF)', () => {
      expect(a().deriveKey(RFC6188.masterKey, RFC6188.masterSalt, 0x00, 32)).toEqual(RFC6188.cipherKey);
      expect(a().deriveKey(RFC6188.masterKey, RFC6188.masterSalt, 0x02, 14)).toEqual(RFC6188.cipherSalt);
      expect(a().deriveKey(RFC6188.masterKey, RFC6188.masterSalt, 0x01, 20)).toEqual(RFC6188.authKey);
    });

    it('pads a 12-octet AEAD master salt on the right (RFC 7714 erratum 4938)', () => {
      const salt12 = hex('a0a1a2a3a4a5a6a7a8a9aaab');
      const salt14 = Buffer.concat([salt12, Buffer.alloc(2)]);
      for (const label of [0, 2, 3, 5]) {
        expect(a().deriveKey(LIBSRTP.gcmKey, salt12, label, 16)).toEqual(a().deriveKey(LIBSRTP.gcmKey, salt14, label, 16));
      }
    });
  });

  describe('RFC 3711 B.2 AES-CM keystream', () => {
    it('produces the keystream segment (first and last 48 octets of 1044512)', () => {
      const s = session(CM80, Buffer.alloc(16), Buffer.alloc(14));
      const sessionKey = hex('2B7E151628AED2A6ABF7158809CF4F3C');
      const sessionSalt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
      const auth = Buffer.alloc(20, 1);
      expect(a().setSessionKeys(s, sessionKey, sessionSalt, auth, sessionKey, sessionSalt, auth)).toBe(true);
      // SSRC 0, ROC 0, SEQ 0: the IV is the salt itself; a zero payload encrypts to the keystream.
      const packet = Buffer.alloc(12 + 1044512);
      packet[0] = 0x80;
      const out = buf(a().protectRtp(s, packet));
      expect(out.length).toBe(packet.length + 10);
      const ks = out.subarray(12, 12 + 1044512);
      expect(ks.subarray(0, 48)).toEqual(
        hex('E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0'),
      );
      expect(ks.subarray(ks.length - 48)).toEqual(
        hex('EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44'),
      );
    });
  });

  describe('libsrtp reference packets (master key in)', () => {
    it('AES_CM_128_HMAC_SHA1_80: SRTP and SRTCP protect and unprotect', () => {
      const tx = session(CM80, LIBSRTP.cmKey, LIBSRTP.cmSalt);
      expect(a().protectRtp(tx, LIBSRTP.rtp)).toEqual(LIBSRTP.srtpCm80);
      a().setNextRtcpIndex(tx, 1); // libsrtp's first SRTCP index is 1
      expect(a().protectRtcp(tx, LIBSRTP.rtcp)).toEqual(LIBSRTP.srtcpCm80);
      const rx = session(CM80, LIBSRTP.cmKey, LIBSRTP.cmSalt);
      expect(a().unprotectRtp(rx, LIBSRTP.srtpCm80)).toEqual(LIBSRTP.rtp);
      expect(a().unprotectRtcp(rx, LIBSRTP.srtcpCm80)).toEqual(LIBSRTP.rtcp);
    });

    it('AEAD_AES_128_GCM: SRTP and SRTCP protect and unprotect', () => {
      const tx = session(GCM128, LIBSRTP.gcmKey, LIBSRTP.gcmSalt);
      expect(a().protectRtp(tx, LIBSRTP.rtp)).toEqual(LIBSRTP.srtpGcm128);
      a().setNextRtcpIndex(tx, 1);
      expect(a().protectRtcp(tx, LIBSRTP.rtcp)).toEqual(LIBSRTP.srtcpGcm128);
      const rx = session(GCM128, LIBSRTP.gcmKey, LIBSRTP.gcmSalt);
      expect(a().unprotectRtp(rx, LIBSRTP.srtpGcm128)).toEqual(LIBSRTP.rtp);
      expect(a().unprotectRtcp(rx, LIBSRTP.srtcpGcm128)).toEqual(LIBSRTP.rtcp);
    });
  });

  describe('RFC 7714 vectors', () => {
    for (const [profile, srtp, srtcp] of [
      [GCM128, RFC7714.srtp128, RFC7714.srtcp128],
      [GCM256, RFC7714.srtp256, RFC7714.srtcp256],
    ] as const) {
      const bits = profile === GCM128 ? 128 : 256;
      it(`section 16 SRTP AEAD_AES_${bits}_GCM encryption and decryption`, () => {
        expect(a().protectRtp(rfc7714Session(profile), RFC7714.rtp)).toEqual(srtp);
        expect(a().unprotectRtp(rfc7714Session(profile), srtp)).toEqual(RFC7714.rtp);
      });
      it(`section 17 SRTCP AEAD_AES_${bits}_GCM encryption and decryption`, () => {
        const tx = rfc7714Session(profile);
        a().setNextRtcpIndex(tx, RFC7714.srtcpIndex);
        expect(a().protectRtcp(tx, RFC7714.rtcp)).toEqual(srtcp);
        expect(a().unprotectRtcp(rfc7714Session(profile), srtcp)).toEqual(RFC7714.rtcp);
      });
    }

    it('section 17.3 SRTCP tagged but not encrypted (E = 0) verifies, and fails when tampered', () => {
      expect(a().unprotectRtcp(rfc7714Session(GCM128), RFC7714.srtcp128TagOnly)).toEqual(RFC7714.rtcp);
      const bad = Buffer.from(RFC7714.srtcp128TagOnly);
      flip(bad, 12, 1);
      expect(a().unprotectRtcp(rfc7714Session(GCM128), bad)).toBe(AUTH_FAILED);
    });

    it('rejects the section 16 vector with a flipped ciphertext, tag or header bit', () => {
      for (const pos of [3, 20, RFC7714.srtp128.length - 1]) {
        const bad = Buffer.from(RFC7714.srtp128);
        flip(bad, pos, 0x40);
        expect(a().unprotectRtp(rfc7714Session(GCM128), bad)).toBe(AUTH_FAILED);
      }
    });
  });

  for (const profile of PROFILES) {
    describe(profile.name, () => {
      const masterKey = randomBytes(rng(profile.id * 7919), profile.keyLen);
      const masterSalt = randomBytes(rng(profile.id * 104729), profile.saltLen);

      it('matches the node:crypto reference for random packets across a ROC wrap (0 -> 1)', () => {
        const r = rng(0x5eed + profile.id);
        const ref = new RefSession(profile, masterKey, masterSalt);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const ssrcs = [0x11223344, 0xdeadbeef, 0x01];
        const seqs = new Map<number, number>([
          [0x11223344, 65536 - 300],
          [0xdeadbeef, 65536 - 100],
          [0x01, 12345],
        ]);
        let checked = 0;
        for (let i = 0; i < 1500; i++) {
          const ssrc = at(ssrcs, r(ssrcs.length));
          const seq = (seqs.get(ssrc) ?? 0) + 1 + (r(10) === 0 ? r(5) : 0); // some losses
          seqs.set(ssrc, seq);
          const plain = rtpPacket(r, {
            seq,
            ssrc,
            cc: r(4) === 0 ? r(16) : 0,
            ext: r(3) === 0 ? r(8) : undefined,
            payload: r(5) === 0 ? r(4) : r(1200),
            padding: r(8) === 0 ? 1 + r(30) : 0,
          });
          const expected = ref.protectRtp(plain);
          const got = buf(a().protectRtp(tx, plain));
          expect(got.equals(expected), `packet ${i} seq ${seq & 0xffff} ssrc ${ssrc.toString(16)}`).toBe(true);
          expect(buf(a().unprotectRtp(rx, got)).equals(plain)).toBe(true);
          checked++;
        }
        expect(checked).toBe(1500);
        // Two of the streams wrapped: their packets now carry ROC 1, which the reference decrypts only with ROC 1.
        const after = rtpPacket(r, { seq: (seqs.get(0x11223344) as number) + 1, ssrc: 0x11223344, payload: 50 });
        const p = buf(a().protectRtp(tx, after));
        expect(ref.unprotectRtp(p, 1)).toEqual(after);
        expect(ref.unprotectRtp(p, 0)).toBeNull();
      });

      it('matches the node:crypto reference for SRTCP (index from 0, E bit set)', () => {
        const r = rng(0xc0ffee + profile.id);
        const ref = new RefSession(profile, masterKey, masterSalt);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        for (let i = 0; i < 300; i++) {
          const plain = rtcpPacket(r, at([0xabcdef01, 0x02, 0xfffffffe], r(3)), r(60));
          const expected = ref.protectRtcp(plain);
          const got = buf(a().protectRtcp(tx, plain));
          expect(got.equals(expected), `rtcp ${i}`).toBe(true);
          expect(got.length).toBe(plain.length + (profile.gcm ? 20 : 14));
          expect(buf(a().unprotectRtcp(rx, got)).equals(plain)).toBe(true);
        }
        // High indexes (all 31 bits used in the IV) and the wrap to 0.
        ref.rtcpIndex = 0x7ffffffe;
        a().setNextRtcpIndex(tx, 0x7ffffffe);
        const rx2 = session(profile.id, masterKey, masterSalt);
        for (let i = 0; i < 3; i++) {
          const plain = rtcpPacket(r, 0x0badcafe, 4);
          const got = buf(a().protectRtcp(tx, plain));
          expect(got.equals(ref.protectRtcp(plain)), `rtcp index ${0x7ffffffe + i}`).toBe(true);
          expect(got.readUInt32BE(got.length - (profile.gcm ? 4 : 14))).toBe((0x80000000 | ((0x7ffffffe + i) & 0x7fffffff)) >>> 0);
          if (i === 0) expect(buf(a().unprotectRtcp(rx2, got)).equals(plain)).toBe(true);
        }
      });

      it('round-trips with reordering across a wrap, and rejects replays and too-old packets', () => {
        const r = rng(42 + profile.id);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const ssrc = 0x5501a0b2;
        const start = 65536 - 300;
        const plain: Buffer[] = [];
        const prot: Buffer[] = [];
        for (let i = 0; i < 700; i++) {
          plain.push(rtpPacket(r, { seq: start + i, ssrc, payload: 20 + r(100) }));
          prot.push(buf(a().protectRtp(tx, at(plain, i))));
        }
        // Deliver in a locally shuffled order (displacement < 40), skipping a few.
        const keys = [...Array(700).keys()].map((i) => i + r(40));
        const order = [...Array(700).keys()].sort((x, y) => at(keys, x) - at(keys, y) || x - y);
        const skipped = new Set([5, 77, 299, 300, 301, 650]);
        const firstPostWrap = order.findIndex((i) => i >= 300 && !skipped.has(i));
        expect(order.slice(firstPostWrap).some((i) => i < 300 && !skipped.has(i))).toBe(true); // late pre-wrap packets
        for (const i of order) {
          if (skipped.has(i)) continue;
          expect(buf(a().unprotectRtp(rx, at(prot, i))).equals(at(plain, i)), `seq index ${i}`).toBe(true);
        }
        // Every delivered packet is now a replay.
        for (const i of [0, 298, 302, 699, 400]) expect(a().unprotectRtp(rx, at(prot, i))).toBe(REPLAYED);
        // A skipped packet inside the 128-packet window is still accepted once; outside it is refused.
        expect(buf(a().unprotectRtp(rx, at(prot, 650))).equals(at(plain, 650))).toBe(true);
        expect(a().unprotectRtp(rx, at(prot, 650))).toBe(REPLAYED);
        expect(a().unprotectRtp(rx, at(prot, 301))).toBe(REPLAYED); // 398 behind the highest
      });

      it('estimates the ROC for packets arriving late across a wrap (v = ROC - 1)', () => {
        const r = rng(31 + profile.id);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5];
        const plain = new Map<number, Buffer>();
        const prot = new Map<number, Buffer>();
        for (const seq of seqs) {
          const p = rtpPacket(r, { seq, ssrc: 77, payload: 40 });
          plain.set(seq, p);
          prot.set(seq, buf(a().protectRtp(tx, p)));
        }
        for (const seq of [65530, 65531, 0, 1, 65532, 2, 65535, 3, 4, 5, 65533, 65534]) {
          expect(a().unprotectRtp(rx, prot.get(seq) as Buffer), `seq ${seq}`).toEqual(plain.get(seq));
        }
        for (const seq of seqs) expect(a().unprotectRtp(rx, prot.get(seq) as Buffer), `replay ${seq}`).toBe(REPLAYED);
        // The sender side also protects a late (retransmitted) pre-wrap packet with ROC 0.
        const late = rtpPacket(r, { seq: 65529, ssrc: 77, payload: 10 });
        const ref = new RefSession(profile, masterKey, masterSalt);
        expect(ref.unprotectRtp(buf(a().protectRtp(tx, late)), 0)).toEqual(late);
      });

      it('uses a 128-packet RTP replay window', () => {
        const r = rng(63 + profile.id);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const prot: Buffer[] = [];
        for (let i = 0; i <= 300; i++) prot.push(buf(a().protectRtp(tx, rtpPacket(r, { seq: 1000 + i, ssrc: 8, payload: 8 }))));
        // Hold back 10 (290 behind at the end), 202 (98 behind: the bit a mod-64 window would confuse with 10),
        // 172 (128 behind) and 173 (127 behind).
        const held = new Set([10, 172, 173, 202]);
        for (let i = 0; i <= 300; i++) if (!held.has(i)) expect(a().unprotectRtp(rx, at(prot, i))).not.toBeTypeOf('number');
        expect(a().unprotectRtp(rx, at(prot, 10))).toBe(REPLAYED);
        expect(a().unprotectRtp(rx, at(prot, 172))).toBe(REPLAYED);
        expect(a().unprotectRtp(rx, at(prot, 173))).not.toBeTypeOf('number');
        expect(a().unprotectRtp(rx, at(prot, 202))).not.toBeTypeOf('number');
        expect(a().unprotectRtp(rx, at(prot, 202))).toBe(REPLAYED);
        expect(a().unprotectRtp(rx, at(prot, 173))).toBe(REPLAYED);
      });

      it('rejects tampering anywhere without moving the replay state', () => {
        const r = rng(7 + profile.id);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const p0 = rtpPacket(r, { seq: 100, ssrc: 9, cc: 2, ext: 1, payload: 64 });
        const s0 = buf(a().protectRtp(tx, p0));
        for (let pos = 0; pos < s0.length; pos += 3) {
          const bad = Buffer.from(s0);
          flip(bad, pos, 1 << r(8));
          if (pos === 0) bad.writeUInt8((s0.readUInt8(0) & 0xc0) | ((s0.readUInt8(0) ^ 0x01) & 0x3f), 0); // keep the version, change CC
          const res = a().unprotectRtp(rx, bad);
          expect(res === AUTH_FAILED || res === BAD_PACKET, `byte ${pos}: ${String(res)}`).toBe(true);
        }
        expect(buf(a().unprotectRtp(rx, s0)).equals(p0)).toBe(true);
        // A forged packet far ahead does not advance the window: the next genuine packet still passes.
        const ahead = buf(a().protectRtp(tx, rtpPacket(r, { seq: 101, ssrc: 9, payload: 10 })));
        const forged = Buffer.from(ahead);
        forged.writeUInt16BE(20000, 2);
        expect(a().unprotectRtp(rx, forged)).toBe(AUTH_FAILED);
        expect(a().unprotectRtp(rx, ahead)).not.toBeTypeOf('number');

        const c0 = rtcpPacket(r, 77, 6);
        const sc = buf(a().protectRtcp(tx, c0));
        for (let pos = 0; pos < sc.length; pos += 2) {
          const bad = Buffer.from(sc);
          flip(bad, pos, 1 << r(8));
          if (pos === 0) bad.writeUInt8((sc.readUInt8(0) & 0xc0) | ((sc.readUInt8(0) ^ 0x01) & 0x3f), 0);
          expect(a().unprotectRtcp(rx, bad), `rtcp byte ${pos}`).toBe(AUTH_FAILED);
        }
        expect(buf(a().unprotectRtcp(rx, sc)).equals(c0)).toBe(true);
        expect(a().unprotectRtcp(rx, sc)).toBe(REPLAYED);
      });

      it('applies the SRTCP replay window per sender SSRC', () => {
        const r = rng(99 + profile.id);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const packets: Buffer[] = [];
        for (let i = 0; i < 80; i++) packets.push(buf(a().protectRtcp(tx, rtcpPacket(r, 1000, 3))));
        expect(a().unprotectRtcp(rx, at(packets, 79))).not.toBeTypeOf('number');
        expect(a().unprotectRtcp(rx, at(packets, 20))).not.toBeTypeOf('number'); // 59 behind: inside the window
        expect(a().unprotectRtcp(rx, at(packets, 20))).toBe(REPLAYED);
        expect(a().unprotectRtcp(rx, at(packets, 10))).toBe(REPLAYED); // 69 behind: outside
        // Another sender restarting at a low index (as libsrtp peers do, per SSRC) is not a replay.
        const tx2 = session(profile.id, masterKey, masterSalt);
        expect(a().unprotectRtcp(rx, buf(a().protectRtcp(tx2, rtcpPacket(r, 2000, 1))))).not.toBeTypeOf('number');
      });

      it('keeps ROC state per SSRC for many SSRCs (table growth)', () => {
        const r = rng(1234 + profile.id);
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const ref = new RefSession(profile, masterKey, masterSalt);
        for (let round = 0; round < 3; round++) {
          for (let k = 0; k < 40; k++) {
            const seq = 65535 - 1 + round; // 65534, 65535, 0 (wrap)
            const plain = rtpPacket(r, { seq, ssrc: 0x1000 + k, payload: 30 });
            const got = buf(a().protectRtp(tx, plain));
            expect(got.equals(ref.protectRtp(plain))).toBe(true);
            expect(buf(a().unprotectRtp(rx, got)).equals(plain)).toBe(true);
          }
        }
      });

      it('rejects short, malformed and garbage input, and refuses a too-small capacity', () => {
        const r = rng(555 + profile.id);
        const s = session(profile.id, masterKey, masterSalt);
        const good = rtpPacket(r, { seq: 1, ssrc: 2, cc: 1, ext: 2, payload: 10 });
        const trailer = profile.rtpTag;
        // Capacity: exactly enough works; one byte short fails.
        expect(a().protectRtp(s, good, trailer - 1)).toBe(BAD_PACKET);
        expect(buf(a().protectRtp(s, good, trailer)).length).toBe(good.length + trailer);
        const rtcpTrailer = profile.gcm ? 20 : 14;
        const goodRtcp = rtcpPacket(r, 5, 2);
        expect(a().protectRtcp(s, goodRtcp, rtcpTrailer - 1)).toBe(BAD_PACKET);
        expect(buf(a().protectRtcp(s, goodRtcp, rtcpTrailer)).length).toBe(goodRtcp.length + rtcpTrailer);

        const malformedRtp = [
          Buffer.alloc(0),
          hex('80'),
          hex('80000001000000000000'), // 10 bytes
          Buffer.concat([hex('40'), Buffer.alloc(20)]), // version 1
          Buffer.concat([hex('00'), Buffer.alloc(20)]), // version 0
          Buffer.concat([hex('8f'), Buffer.alloc(30)]), // 15 CSRCs do not fit
          Buffer.concat([hex('90'), Buffer.alloc(11)]), // X bit, no extension header
          Buffer.concat([hex('9000000100000000000000 01 bede00ff'), Buffer.alloc(40)]), // extension longer than packet
        ];
        for (const p of malformedRtp) {
          expect(a().protectRtp(s, p), p.toString('hex')).toBe(BAD_PACKET);
          expect(a().unprotectRtp(s, p), p.toString('hex')).toBe(BAD_PACKET);
        }
        // An SRTP packet whose header runs into the tag.
        const hdrOnly = Buffer.concat([hex('900000010000000000000001 bede0003'), Buffer.alloc(trailer + 4)]);
        expect(a().unprotectRtp(s, hdrOnly)).toBe(BAD_PACKET);
        // Too short to hold a tag.
        expect(a().unprotectRtp(s, Buffer.concat([hex('800000010000000000000001'), Buffer.alloc(trailer - 1)]))).toBe(
          BAD_PACKET,
        );
        // Shortest well-formed SRTP (header + tag) authenticates or fails, never crashes.
        expect(a().unprotectRtp(s, Buffer.concat([hex('800000010000000000000001'), Buffer.alloc(trailer)]))).toBe(
          AUTH_FAILED,
        );

        const malformedRtcp = [
          Buffer.alloc(0),
          hex('80c8'),
          hex('80c80001000000'), // 7 bytes
          Buffer.concat([hex('40c80001'), Buffer.alloc(40)]), // version 1
          Buffer.concat([hex('81c80001 00000001'), Buffer.alloc(rtcpTrailer - 1)]), // no room for trailer
        ];
        for (const p of malformedRtcp) {
          if (p.length < 8 || p.readUInt8(0) >> 6 !== 2) expect(a().protectRtcp(s, p), p.toString('hex')).toBe(BAD_PACKET);
          expect(a().unprotectRtcp(s, p), p.toString('hex')).toBe(BAD_PACKET);
        }
        // Random garbage never crashes and never authenticates.
        for (let i = 0; i < 2000; i++) {
          const g = randomBytes(r, r(80));
          const u = a().unprotectRtp(s, g);
          const c = a().unprotectRtcp(s, g);
          expect(typeof u === 'number' && u < 0 && u >= REPLAYED).toBe(true);
          expect(typeof c === 'number' && c < 0 && c >= REPLAYED).toBe(true);
          const pr = a().protectRtp(s, g);
          expect(typeof pr === 'number' ? pr === BAD_PACKET : pr.length === g.length + trailer).toBe(true);
        }
      });

      it('lets one session protect and unprotect (the cipher contexts switch direction)', () => {
        const r = rng(2024 + profile.id);
        const s = session(profile.id, masterKey, masterSalt);
        for (let i = 0; i < 20; i++) {
          const p = rtpPacket(r, { seq: 500 + i, ssrc: 0xabc, payload: 100 + i });
          expect(a().unprotectRtp(s, buf(a().protectRtp(s, p)))).toEqual(p);
          const c = rtcpPacket(r, 0xabc, 5);
          expect(a().unprotectRtcp(s, buf(a().protectRtcp(s, c)))).toEqual(c);
        }
      });

      it('handles empty payloads (header-only RTP, header-only RTCP)', () => {
        const tx = session(profile.id, masterKey, masterSalt);
        const rx = session(profile.id, masterKey, masterSalt);
        const ref = new RefSession(profile, masterKey, masterSalt);
        const rtp = hex('80600007 00000001 00000002');
        const out = buf(a().protectRtp(tx, rtp));
        expect(out).toEqual(ref.protectRtp(rtp));
        expect(a().unprotectRtp(rx, out)).toEqual(rtp);
        const rtcp = hex('80c90001 00000003');
        const outc = buf(a().protectRtcp(tx, rtcp));
        expect(outc).toEqual(ref.protectRtcp(rtcp));
        expect(a().unprotectRtcp(rx, outc)).toEqual(rtcp);
      });
    });
  }

  it('reports its memory footprint', () => {
    for (const p of PROFILES) {
      const m = a().memory(p.id, 500, 2);
      console.log(`[srtp] ${p.name}: ${JSON.stringify(m)}`);
      expect(m.sizeofSession).toBeLessThanOrEqual(16);
      expect(m.heapPerSession).toBeLessThan(4096);
    }
  });
});

describe.skipIf(!addon || process.env.CONVENE_SRTP_EVP !== undefined)('SRTP (src/srtp.cc) without the AES-NI fast path', () => {
  it('the EVP fallback for AES-GCM (CPUs without AES-NI) passes this whole file too', async () => {
    const { spawnSync } = await import('node:child_process');
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs', { paths: [root] });
    const r = spawnSync(process.execPath, [vitest, 'run', fileURLToPath(import.meta.url)], {
      cwd: root,
      env: { ...process.env, CONVENE_SRTP_EVP: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Tests\s+\d+ passed/);
  }, 90_000);
});
