import { describe, expect, it } from 'vitest';
import { NO_PREFERENCES, selectLayer, type SelectableLayer } from './layerSelection.js';

const NOW = 10_000;

/** A layer of `width`×`height` at `fps`, sending now unless `active` is false. */
function layer(index: number, width: number, height: number, fps: number, active = true): SelectableLayer & { width: number } {
  return { index, width, pixels: width * height, frameRate: fps, active: () => active };
}

/** Chrome's three layers of a 1280x720 camera (q/h/f at 1/4, 1/2, 1). */
const q = layer(0, 320, 180, 30);
const h = layer(1, 640, 360, 30);
const f = layer(2, 1280, 720, 30);
const ALL = [q, h, f];

const res = (width: number, height: number) => ({ resolution: { width, height }, frameRate: null });

describe('selectLayer', () => {
  it('takes the top layer without preferences', () => {
    expect(selectLayer(ALL, NO_PREFERENCES, NOW)).toBe(f);
  });

  it('takes the largest layer whose pixel count is not above the preferred resolution', () => {
    expect(selectLayer(ALL, res(320, 240), NOW)).toBe(q); // 76 800 px: q has 57 600, h 230 400
    expect(selectLayer(ALL, res(640, 360), NOW)).toBe(h);
    expect(selectLayer(ALL, res(640, 480), NOW)).toBe(h);
    expect(selectLayer(ALL, res(1280, 720), NOW)).toBe(f);
    expect(selectLayer(ALL, res(1920, 1080), NOW)).toBe(f);
  });

  it('takes the smallest layer when every layer is larger than preferred', () => {
    expect(selectLayer(ALL, res(160, 90), NOW)).toBe(q);
  });

  it('ranks by measured size, not by the order of the offer', () => {
    expect(selectLayer([f, q, h], res(640, 360), NOW)).toBe(h);
    expect(selectLayer([f, q, h], NO_PREFERENCES, NOW)).toBe(f);
  });

  it('skips layers the publisher stopped sending: falls back to the best one still sent', () => {
    const fOff = layer(2, 1280, 720, 30, false);
    expect(selectLayer([q, h, fOff], NO_PREFERENCES, NOW)).toBe(h);
    const hOff = layer(1, 640, 360, 30, false);
    expect(selectLayer([q, hOff, fOff], res(640, 360), NOW)).toBe(q);
  });

  it('prefers active layers of known size; before any size is known, the last layer of the offer', () => {
    const unknown = [layer(0, 0, 0, 0), layer(1, 0, 0, 0), layer(2, 0, 0, 0)];
    expect(selectLayer(unknown, res(320, 240), NOW)).toBe(unknown[2]);
    const fNew = layer(2, 0, 0, 0); // just started, its keyframe not seen yet
    expect(selectLayer([q, h, fNew], NO_PREFERENCES, NOW)).toBe(h);
    const none = [layer(0, 320, 180, 30, false), layer(1, 640, 360, 30, false)];
    expect(selectLayer(none, NO_PREFERENCES, NOW)).toBe(none[1]);
  });

  it('frame rate: takes the best layer whose measured rate is not above the preferred one, when layers differ', () => {
    const slowQ = layer(0, 320, 180, 15);
    expect(selectLayer([slowQ, h, f], { resolution: null, frameRate: 15 }, NOW)).toBe(slowQ);
    expect(selectLayer([slowQ, h, f], { resolution: null, frameRate: 30 }, NOW)).toBe(f);
    expect(selectLayer([slowQ, h, f], { resolution: null, frameRate: 29 }, NOW)).toBe(f); // 30 measured still fits 29 (slack)
    expect(selectLayer([slowQ, h, f], { resolution: res(640, 360).resolution, frameRate: 15 }, NOW)).toBe(slowQ);
  });

  it('frame rate: has no effect when every layer runs faster (same rate on all layers: temporal layers are not selected)', () => {
    expect(selectLayer(ALL, { resolution: null, frameRate: 7.5 }, NOW)).toBe(f);
    expect(selectLayer(ALL, { resolution: res(640, 360).resolution, frameRate: 1 }, NOW)).toBe(h);
  });

  it('returns the only layer of a stream without simulcast whatever is preferred', () => {
    const one = [layer(0, 640, 480, 30)];
    expect(selectLayer(one, res(160, 120), NOW)).toBe(one[0]);
    expect(selectLayer(one, { resolution: null, frameRate: 5 }, NOW)).toBe(one[0]);
  });
});
