import { describe, expect, it } from 'vitest';
import {
  findRtpExtension,
  extLength,
  extOffset,
  isRtcp,
  isValidRtp,
  isVp8Keyframe,
  parseVp8Descriptor,
  readAudioLevel,
  readTransportSeq,
  removeRtpExtension,
  rtpCsrcCount,
  rtpExtensionEquals,
  rtpHasExtension,
  rtpHasPadding,
  rtpHeaderLength,
  rtpMarker,
  rtpPaddingLength,
  rtpPayloadLength,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  rtpVersion,
  seqDiff,
  seqNewer,
  setRtpExtensionId,
  setRtpMarker,
  setRtpPayloadType,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
  setVp8PictureId,
  setVp8Tl0PicIdx,
  tsDiff,
  Vp8Descriptor,
  vp8KeyframeSize,
  writeTransportSeq,
} from './rtp.js';
import { buildRtp, oneByteExt, twoByteExt, vp8Payload } from './test-helpers/packets.js';

describe('RTP header', () => {
  it('reads every fixed header field', () => {
    const p = buildRtp({ pt: 96, seq: 0xfffe, ts: 0xfffffff0, ssrc: 0xdeadbeef, marker: true, payload: [1, 2, 3] });
    expect(rtpVersion(p)).toBe(2);
    expect(rtpHasPadding(p)).toBe(false);
    expect(rtpHasExtension(p)).toBe(false);
    expect(rtpCsrcCount(p)).toBe(0);
    expect(rtpMarker(p)).toBe(true);
    expect(rtpPayloadType(p)).toBe(96);
    expect(rtpSeq(p)).toBe(0xfffe);
    expect(rtpTimestamp(p)).toBe(0xfffffff0);
    expect(rtpSsrc(p)).toBe(0xdeadbeef);
    expect(rtpHeaderLength(p, p.length)).toBe(12);
    expect(rtpPayloadLength(p, p.length)).toBe(3);
  });

  it('counts CSRCs and the extension block in the header length', () => {
    const p = buildRtp({ csrcs: [1, 2], ext: oneByteExt([[3, [0xaa, 0xbb]]]), payload: [9] });
    expect(rtpCsrcCount(p)).toBe(2);
    expect(rtpHasExtension(p)).toBe(true);
    expect(rtpHeaderLength(p, p.length)).toBe(12 + 8 + 4 + 4);
    expect(p[rtpHeaderLength(p, p.length)]).toBe(9);
  });

  it('excludes padding from the payload length and treats padding-only packets as empty', () => {
    const p = buildRtp({ payload: [1, 2, 3, 4], padding: 4 });
    expect(rtpHasPadding(p)).toBe(true);
    expect(rtpPaddingLength(p, p.length)).toBe(4);
    expect(rtpPayloadLength(p, p.length)).toBe(4);
    const probe = buildRtp({ payload: [], padding: 200 });
    expect(rtpPayloadLength(probe, probe.length)).toBe(0);
    expect(isValidRtp(probe, probe.length)).toBe(true);
  });

  it('rejects truncated headers, wrong versions and padding longer than the packet', () => {
    const p = buildRtp({ csrcs: [1], ext: oneByteExt([[1, [1]]]), payload: [1] });
    expect(isValidRtp(p, 12)).toBe(false);
    expect(rtpHeaderLength(p, 14)).toBe(-1);
    const v1 = Buffer.from(p);
    v1[0] = (v1[0]! & 0x3f) | 0x40;
    expect(isValidRtp(v1, v1.length)).toBe(false);
    const badPad = buildRtp({ payload: [1, 2], padding: 1 });
    badPad[badPad.length - 1] = 200;
    expect(isValidRtp(badPad, badPad.length)).toBe(false);
    expect(isValidRtp(p, p.length)).toBe(true);
  });

  it('rewrites ssrc, seq, timestamp and payload type in place without touching the marker or payload', () => {
    const p = buildRtp({ pt: 96, seq: 1, ts: 2, ssrc: 3, marker: true, payload: [7, 8] });
    setRtpSsrc(p, 0xffffffff);
    setRtpSeq(p, 0xabcd);
    setRtpTimestamp(p, 0x80000001);
    setRtpPayloadType(p, 100);
    expect(rtpSsrc(p)).toBe(0xffffffff);
    expect(rtpSeq(p)).toBe(0xabcd);
    expect(rtpTimestamp(p)).toBe(0x80000001);
    expect(rtpPayloadType(p)).toBe(100);
    expect(rtpMarker(p)).toBe(true);
    setRtpMarker(p, false);
    expect(rtpMarker(p)).toBe(false);
    expect(rtpPayloadType(p)).toBe(100);
    expect([...p.subarray(12)]).toEqual([7, 8]);
  });

  it('tells RTCP from RTP by the second byte (RFC 5761)', () => {
    expect(isRtcp(Buffer.from([0x81, 200, 0, 1, 0, 0, 0, 0]), 8)).toBe(true);
    expect(isRtcp(Buffer.from([0x81, 206, 0, 1, 0, 0, 0, 0]), 8)).toBe(true);
    const rtp = buildRtp({ pt: 96, marker: true });
    expect(isRtcp(rtp, rtp.length)).toBe(false);
    const rtp2 = buildRtp({ pt: 111, marker: false });
    expect(isRtcp(rtp2, rtp2.length)).toBe(false);
  });
});

describe('sequence arithmetic', () => {
  it('computes modular 16-bit differences across wraparound', () => {
    expect(seqDiff(0, 65535)).toBe(1);
    expect(seqDiff(65535, 0)).toBe(-1);
    expect(seqDiff(100, 100)).toBe(0);
    expect(seqDiff(32767, 0)).toBe(32767);
    expect(seqNewer(2, 65530)).toBe(true);
    expect(seqNewer(65530, 2)).toBe(false);
  });
  it('computes modular 32-bit timestamp differences across wraparound', () => {
    expect(tsDiff(10, 0xfffffff6)).toBe(20);
    expect(tsDiff(0xfffffff6, 10)).toBe(-20);
  });
});

describe('header extensions', () => {
  it('finds one-byte extensions past padding bytes', () => {
    const p = buildRtp({ ext: oneByteExt([[1, [0x11]], 0, 0, [5, [0xa1, 0xa2]], [3, [0xc1, 0xc2, 0xc3]]]) });
    const f = findRtpExtension(p, p.length, 5);
    expect(f).toBeGreaterThan(0);
    expect(extLength(f)).toBe(2);
    expect([...p.subarray(extOffset(f), extOffset(f) + 2)]).toEqual([0xa1, 0xa2]);
    expect(extLength(findRtpExtension(p, p.length, 3))).toBe(3);
    expect(findRtpExtension(p, p.length, 7)).toBe(-1);
  });

  it('finds two-byte extensions, including zero-length and long elements', () => {
    const long = Array.from({ length: 40 }, (_, i) => i);
    const p = buildRtp({ ext: twoByteExt([[1, []], [200, long], [3, [0x33, 0x44]]]) });
    expect(extLength(findRtpExtension(p, p.length, 1))).toBe(0);
    const f = findRtpExtension(p, p.length, 200);
    expect(extLength(f)).toBe(40);
    expect(p[extOffset(f) + 39]).toBe(39);
    expect(readTransportSeq(p, p.length, 3)).toBe(0x3344);
  });

  it('returns -1 when the packet has no extension block', () => {
    const p = buildRtp({});
    expect(findRtpExtension(p, p.length, 1)).toBe(-1);
    expect(readTransportSeq(p, p.length, 1)).toBe(-1);
  });

  it('stops at the reserved one-byte id 15', () => {
    const p = buildRtp({ ext: oneByteExt([[2, [1]], [15, [0]], [4, [1]]]) });
    expect(findRtpExtension(p, p.length, 2)).toBeGreaterThan(0);
    expect(findRtpExtension(p, p.length, 4)).toBe(-1);
  });

  it('rewrites a transport-wide sequence number in place', () => {
    const p = buildRtp({ ext: oneByteExt([[5, [0x00, 0x01]]]), payload: [1, 2] });
    expect(writeTransportSeq(p, p.length, 5, 0xfffe)).toBe(true);
    expect(readTransportSeq(p, p.length, 5)).toBe(0xfffe);
    expect(writeTransportSeq(p, p.length, 6, 1)).toBe(false);
    expect([...p.subarray(p.length - 2)]).toEqual([1, 2]);
  });

  it('changes an extension id in place, refusing ids outside the one-byte range', () => {
    const p = buildRtp({ ext: oneByteExt([[5, [0x12, 0x34]]]) });
    expect(setRtpExtensionId(p, p.length, 5, 3)).toBe(true);
    expect(findRtpExtension(p, p.length, 5)).toBe(-1);
    expect(readTransportSeq(p, p.length, 3)).toBe(0x1234);
    expect(setRtpExtensionId(p, p.length, 3, 15)).toBe(false);
    const q = buildRtp({ ext: twoByteExt([[5, [0x12, 0x34]]]) });
    expect(setRtpExtensionId(q, q.length, 5, 100)).toBe(true);
    expect(readTransportSeq(q, q.length, 100)).toBe(0x1234);
  });

  it('removes an extension by turning it into padding, leaving the others readable', () => {
    const p = buildRtp({ ext: oneByteExt([[1, [0xaa]], [2, [0xbb, 0xcc]], [3, [0xdd]]]), payload: [9] });
    const len = p.length;
    expect(removeRtpExtension(p, len, 2)).toBe(true);
    expect(p.length).toBe(len);
    expect(findRtpExtension(p, len, 2)).toBe(-1);
    expect(p[extOffset(findRtpExtension(p, len, 1))]).toBe(0xaa);
    expect(p[extOffset(findRtpExtension(p, len, 3))]).toBe(0xdd);
    expect(removeRtpExtension(p, len, 2)).toBe(false);
    const q = buildRtp({ ext: twoByteExt([[1, [1, 2, 3]], [2, [4]]]) });
    expect(removeRtpExtension(q, q.length, 1)).toBe(true);
    expect(q[extOffset(findRtpExtension(q, q.length, 2))]).toBe(4);
  });

  it('reads the RFC 6464 audio level with its voice-activity bit', () => {
    const p = buildRtp({ pt: 111, ext: oneByteExt([[1, [0x80 | 30]]]) });
    const v = readAudioLevel(p, p.length, 1);
    expect(v & 0x80).toBe(0x80);
    expect(v & 0x7f).toBe(30);
    expect(readAudioLevel(p, p.length, 2)).toBe(-1);
  });
});

describe('rtpExtensionEquals', () => {
  it('compares an extension value (a rid) with a string in place, ignoring zero padding after it', () => {
    const p = buildRtp({ ext: oneByteExt([[10, [0x68]], [11, [0x66, 0x75, 0x6c, 0x6c]], [12, [0x71, 0]]]) });
    expect(rtpExtensionEquals(p, findRtpExtension(p, p.length, 10), 'h')).toBe(true);
    expect(rtpExtensionEquals(p, findRtpExtension(p, p.length, 10), 'f')).toBe(false);
    expect(rtpExtensionEquals(p, findRtpExtension(p, p.length, 11), 'full')).toBe(true);
    expect(rtpExtensionEquals(p, findRtpExtension(p, p.length, 11), 'ful')).toBe(false);
    expect(rtpExtensionEquals(p, findRtpExtension(p, p.length, 12), 'q')).toBe(true);
    expect(rtpExtensionEquals(p, findRtpExtension(p, p.length, 13), '')).toBe(false); // absent
  });
});

describe('VP8 payload descriptor', () => {
  const d = new Vp8Descriptor();

  it('detects a keyframe from S=1, PID=0 and a clear P bit', () => {
    const p = buildRtp({ payload: vp8Payload({ start: true, keyframe: true }) });
    const hl = rtpHeaderLength(p, p.length);
    expect(parseVp8Descriptor(p, hl, p.length - hl, d)).toBe(true);
    expect(d.keyframe).toBe(true);
    expect(isVp8Keyframe(p, p.length)).toBe(true);
  });

  it('does not call an interframe, a continuation packet or a later partition a keyframe', () => {
    const inter = buildRtp({ payload: vp8Payload({ start: true, keyframe: false }) });
    const cont = buildRtp({ payload: vp8Payload({ start: false, keyframe: true }) });
    const part = buildRtp({ payload: vp8Payload({ start: true, keyframe: true, partitionId: 1 }) });
    for (const p of [inter, cont, part]) {
      expect(isVp8Keyframe(p, p.length)).toBe(false);
      expect(parseVp8Descriptor(p, 12, p.length - 12, d)).toBe(true);
      expect(d.keyframe).toBe(false);
    }
  });

  it('parses a 15-bit picture id, TL0PICIDX, TID/Y and KEYIDX', () => {
    const p = buildRtp({
      payload: vp8Payload({ start: true, keyframe: true, pictureId: 0x1234, tl0: 77, tid: 2, layerSync: true, keyIdx: 5 }),
    });
    expect(parseVp8Descriptor(p, 12, p.length - 12, d)).toBe(true);
    expect(d.pictureId).toBe(0x1234);
    expect(d.pictureId16).toBe(true);
    expect(d.tl0PicIdx).toBe(77);
    expect(d.tid).toBe(2);
    expect(d.layerSync).toBe(true);
    expect(d.keyIdx).toBe(5);
    expect(d.size).toBe(6);
    expect(d.keyframe).toBe(true);
    expect(isVp8Keyframe(p, p.length)).toBe(true);
  });

  it('parses a 7-bit picture id and rewrites picture id and TL0PICIDX in place', () => {
    const p = buildRtp({ payload: vp8Payload({ start: true, keyframe: false, pictureId: 100, pictureId7: true, tl0: 1 }) });
    parseVp8Descriptor(p, 12, p.length - 12, d);
    expect(d.pictureId).toBe(100);
    expect(d.pictureId16).toBe(false);
    setVp8PictureId(p, 12, d, 129);
    setVp8Tl0PicIdx(p, 12, d, 300);
    parseVp8Descriptor(p, 12, p.length - 12, d);
    expect(d.pictureId).toBe(1); // 7-bit wrap
    expect(d.tl0PicIdx).toBe(300 & 0xff);
    const q = buildRtp({ payload: vp8Payload({ start: true, keyframe: false, pictureId: 5 }) });
    parseVp8Descriptor(q, 12, q.length - 12, d);
    setVp8PictureId(q, 12, d, 0x7fff);
    parseVp8Descriptor(q, 12, q.length - 12, d);
    expect(d.pictureId).toBe(0x7fff);
  });

  it('reads the frame size of a keyframe (after any descriptor extension), nothing from other packets', () => {
    const plain = buildRtp({ payload: vp8Payload({ start: true, keyframe: true, width: 1280, height: 720 }) });
    const ext = buildRtp({ ext: oneByteExt([[3, [1, 2]]]), payload: vp8Payload({ start: true, keyframe: true, pictureId: 300, tl0: 4, tid: 1, width: 320, height: 180 }), padding: 3 });
    expect(vp8KeyframeSize(plain, plain.length)).toBe(1280 * 65536 + 720);
    expect(vp8KeyframeSize(ext, ext.length)).toBe(320 * 65536 + 180);
    const inter = buildRtp({ payload: vp8Payload({ start: true, keyframe: false }) });
    const cont = buildRtp({ payload: vp8Payload({ start: false, keyframe: true, width: 640, height: 360 }) });
    const noStartCode = buildRtp({ payload: [0x10, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    const short = buildRtp({ payload: vp8Payload({ start: true, keyframe: true, size: 8 }) });
    for (const p of [inter, cont, noStartCode, short]) expect(vp8KeyframeSize(p, p.length)).toBe(-1);
  });

  it('rejects a descriptor truncated inside its extension fields', () => {
    const p = Buffer.from([0x90, 0x80]); // X=1, I=1 but no picture id byte
    expect(parseVp8Descriptor(p, 0, p.length, d)).toBe(false);
  });
});
