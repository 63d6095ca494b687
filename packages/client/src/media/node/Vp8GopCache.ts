import { Vp8SyntheticEncoder, type Vp8Frame } from './Vp8SyntheticEncoder.js';

/** Settings that make two synthetic streams byte-identical. */
export interface Vp8GopSettings {
  width: number;
  height: number;
  targetFrameBytes: number;
  /** Frames per group of pictures: one key frame then `length - 1` inter frames. */
  length: number;
}

const caches = new Map<string, Vp8GopCache>();

/**
 * One group of pictures (key frame + inter frames), encoded once and shared by every source
 * with the same settings: a load test with hundreds of bots pays for one encoder, not hundreds.
 * Replaying from frame 0 is always valid (it is a key frame), which is how on-demand key
 * frames are served; frames are encoded lazily the first time any source reaches them.
 */
export class Vp8GopCache {
  readonly settings: Vp8GopSettings;
  readonly #encoder: Vp8SyntheticEncoder;
  readonly #frames: Vp8Frame[] = [];

  private constructor(settings: Vp8GopSettings) {
    this.settings = settings;
    this.#encoder = new Vp8SyntheticEncoder({ width: settings.width, height: settings.height, targetFrameBytes: settings.targetFrameBytes });
  }

  /** The shared cache for these settings. */
  static for(settings: Vp8GopSettings): Vp8GopCache {
    const key = `${settings.width}x${settings.height}/${settings.targetFrameBytes}/${settings.length}`;
    let c = caches.get(key);
    if (!c) {
      c = new Vp8GopCache(settings);
      caches.set(key, c);
    }
    return c;
  }

  /** Frame `i` of the group (0 = the key frame), `i` taken modulo the group length. */
  frame(i: number): Vp8Frame {
    const index = i % this.settings.length;
    while (this.#frames.length <= index) this.#frames.push(this.#encoder.encode(this.#frames.length === 0));
    return this.#frames[index] as Vp8Frame;
  }
}
