import { describe, expect, test } from 'vitest';
import { Vp8BoolDecoder, Vp8BoolEncoder } from './vp8BoolCoder.js';
import { Vp8SyntheticEncoder } from './Vp8SyntheticEncoder.js';
import { packetizeVp8, parseVp8Payload } from './vp8Rtp.js';

describe('VP8 boolean coder', () => {
  test('decodes exactly the bools and literals it encoded, at any probability', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const items: { bit: boolean; prob: number }[] = [];
    for (let i = 0; i < 20_000; i++) {
      const prob = 1 + Math.floor(rand() * 255);
      items.push({ bit: rand() * 256 >= prob, prob });
    }
    const enc = new Vp8BoolEncoder(16);
    for (const it of items) enc.writeBool(it.bit, it.prob);
    enc.writeLiteral(0x5a, 8);
    const dec = new Vp8BoolDecoder(enc.finish());
    const wrong = items.filter((it) => dec.readBool(it.prob) !== it.bit).length;
    expect(wrong).toBe(0);
    expect(dec.readLiteral(8)).toBe(0x5a);
  });
});

describe('Vp8SyntheticEncoder', () => {
  test('a key frame carries the start code, the dimensions and a first-partition size that fits the frame', () => {
    const f = new Vp8SyntheticEncoder({ width: 640, height: 360 }).encode(true);
    const d = f.data;
    expect(f.keyframe).toBe(true);
    expect(d[0]! & 1).toBe(0); // key frame
    expect((d[0]! >> 4) & 1).toBe(1); // show_frame
    expect([d[3], d[4], d[5]]).toEqual([0x9d, 0x01, 0x2a]);
    expect(d[6]! | (d[7]! << 8)).toBe(640);
    expect(d[8]! | (d[9]! << 8)).toBe(360);
    const firstPartition = (d[0]! | (d[1]! << 8) | (d[2]! << 16)) >> 5;
    expect(10 + firstPartition).toBeLessThan(d.length);
  });

  test('the first frame is a key frame even when an inter frame is asked for; later ones are inter frames', () => {
    const enc = new Vp8SyntheticEncoder({ width: 160, height: 120 });
    expect(enc.encode(false).keyframe).toBe(true);
    const inter = enc.encode(false);
    expect(inter.keyframe).toBe(false);
    expect(inter.data[0]! & 1).toBe(1);
  });

  test('frames come out near the target size once the encoder has calibrated', () => {
    const enc = new Vp8SyntheticEncoder({ width: 640, height: 480, targetFrameBytes: 4000 });
    const sizes = Array.from({ length: 30 }, (_, i) => enc.encode(i === 0).data.length);
    const steady = sizes.slice(10);
    const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
    expect(mean).toBeGreaterThan(4000 * 0.8);
    expect(mean).toBeLessThan(4000 * 1.2);
  });

  test('rejects sizes VP8 cannot code', () => {
    expect(() => new Vp8SyntheticEncoder({ width: 8, height: 8 })).toThrow(TypeError);
    expect(() => new Vp8SyntheticEncoder({ width: 20_000, height: 480 })).toThrow(TypeError);
  });
});

describe('VP8 RTP payloads (RFC 7741)', () => {
  test('a frame is split at the payload limit; only the first packet has S=1 and all carry the picture id', () => {
    const frame = new Uint8Array(3000).map((_, i) => i & 0xff);
    const packets = packetizeVp8(frame, 0x1234, 1200);
    expect(packets.map((p) => p.length)).toEqual([1200, 1200, 4 + 3000 - 2 * 1196]);
    const infos = packets.map((p) => parseVp8Payload(p));
    expect(infos.map((i) => i?.frameStart)).toEqual([true, false, false]);
    expect(infos.every((i) => i?.pictureId === 0x1234)).toBe(true);
    const joined = Buffer.concat(packets.map((p, i) => p.subarray(infos[i]!.dataOffset)));
    expect(joined.equals(Buffer.from(frame))).toBe(true);
  });

  test('a receiver detects a key frame and its dimensions from the first packet', () => {
    const enc = new Vp8SyntheticEncoder({ width: 320, height: 240 });
    const key = parseVp8Payload(packetizeVp8(enc.encode(true).data, 1)[0]!);
    const inter = parseVp8Payload(packetizeVp8(enc.encode(false).data, 2)[0]!);
    expect(key).toMatchObject({ frameStart: true, keyframe: true, width: 320, height: 240 });
    expect(inter).toMatchObject({ frameStart: true, keyframe: false, width: null });
  });

  test('descriptors with a 7-bit picture id, TL0PICIDX and KEYIDX are parsed to the right data offset', () => {
    // X=1 S=1 | I=1 L=1 K=1 | M=0 pid=5 | TL0PICIDX | KEYIDX | VP8 key frame tag
    const p = Uint8Array.of(0x90, 0xd0, 0x05, 0x07, 0x01, 0x00, 0x00, 0x00);
    expect(parseVp8Payload(p)).toMatchObject({ pictureId: 5, dataOffset: 5, frameStart: true, keyframe: true });
  });
});
