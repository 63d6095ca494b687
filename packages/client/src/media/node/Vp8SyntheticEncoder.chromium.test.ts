// The synthetic VP8 bitstream decoded by Chromium's own VP8 decoder (WebCodecs): every pixel
// of the luma plane must equal the encoder's model of the reconstruction.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { Vp8SyntheticEncoder } from './Vp8SyntheticEncoder.js';
import { hasChromium, launchChromium, type ChromiumHarness } from './test-helpers/chromium.js';

let chromium: ChromiumHarness;
let page: Page;

beforeAll(async () => {
  chromium = await launchChromium();
  page = await chromium.newPage();
}, 30_000);

afterAll(async () => {
  await chromium?.close();
});

/** Decodes frames with WebCodecs in the page; returns each frame's size and luma plane (base64). */
async function decodeInChromium(frames: { data: Uint8Array; keyframe: boolean }[]) {
  return page.evaluate(async (input) => {
    const decoded: Promise<{ width: number; height: number; luma: string }>[] = [];
    let error = '';
    const decoder = new VideoDecoder({
      output: (f) => {
        decoded.push(
          (async () => {
            const buf = new Uint8Array(f.allocationSize());
            const layout = await f.copyTo(buf);
            const { offset, stride } = layout[0] as PlaneLayout;
            let s = '';
            for (let y = 0; y < f.codedHeight; y++) {
              for (let x = 0; x < f.codedWidth; x++) s += String.fromCharCode(buf[offset + y * stride + x] as number);
            }
            const r = { width: f.displayWidth, height: f.displayHeight, luma: btoa(s) };
            f.close();
            return r;
          })(),
        );
      },
      error: (e) => {
        error = String(e);
      },
    });
    decoder.configure({ codec: 'vp8' });
    input.forEach((fr, i) => decoder.decode(new EncodedVideoChunk({ type: fr.keyframe ? 'key' : 'delta', timestamp: i * 33_333, data: new Uint8Array(fr.data) })));
    await decoder.flush().catch((e: unknown) => {
      error ||= String(e);
    });
    return { frames: await Promise.all(decoded), error };
  }, frames.map((f) => ({ data: Array.from(f.data), keyframe: f.keyframe })));
}

function modelLuma(enc: Vp8SyntheticEncoder): Buffer {
  const out = Buffer.alloc(enc.width * enc.height);
  for (let y = 0; y < enc.height; y++) for (let x = 0; x < enc.width; x++) out[y * enc.width + x] = enc.modelLuma(x, y);
  return out;
}

describe.skipIf(!hasChromium)('synthetic VP8 in Chromium (WebCodecs)', () => {
  test.each([
    { name: 'content only (≈100-byte inter frames)', targetFrameBytes: 0 },
    { name: 'textured up to 6 kB per frame', targetFrameBytes: 6000 },
  ])('key and inter frames decode pixel-exact to the encoder model: $name', async ({ targetFrameBytes }) => {
    const enc = new Vp8SyntheticEncoder({ width: 320, height: 240, targetFrameBytes });
    const frames: { data: Uint8Array; keyframe: boolean }[] = [];
    const models: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      frames.push(enc.encode(i === 8)); // key frames at 0 and 8
      models.push(modelLuma(enc));
    }
    expect(frames.map((f) => f.keyframe)).toEqual([true, false, false, false, false, false, false, false, true, false, false, false]);
    const { frames: decoded, error } = await decodeInChromium(frames);
    expect(error).toBe('');
    expect(decoded).toHaveLength(12);
    decoded.forEach((d, i) => {
      expect(d.width).toBe(320);
      expect(d.height).toBe(240);
      const luma = Buffer.from(d.luma, 'base64');
      let mismatched = 0;
      for (let k = 0; k < luma.length; k++) if (luma[k] !== models[i]?.[k]) mismatched++;
      expect(mismatched, `frame ${i}`).toBe(0);
    });
    // Consecutive frames differ (the box moves), so a receiver can tell them apart.
    expect(models[1]?.equals(models[2] as Buffer)).toBe(false);
  }, 30_000);

  test('a 640x480 stream at 500 kbit/s decodes with the moving box where the encoder put it', async () => {
    const enc = new Vp8SyntheticEncoder({ width: 640, height: 480, targetFrameBytes: Math.round(500_000 / 8 / 30) });
    const frames = Array.from({ length: 10 }, (_, i) => enc.encode(i === 0));
    const { frames: decoded, error } = await decodeInChromium(frames);
    expect(error).toBe('');
    const last = Buffer.from((decoded[9] as { luma: string }).luma, 'base64');
    const box = enc.boxPosition(9);
    const colour = enc.boxColour(9);
    const cx = box.col * 16 + 24;
    const cy = box.row * 16 + 24;
    expect(last[cy * 640 + cx]).toBe(colour.y);
  }, 30_000);
});
