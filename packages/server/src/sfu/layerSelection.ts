/**
 * Which simulcast layer a subscriber receives, from its preferred resolution and frame rate (the reference's
 * Subscriber `preferredResolution` / `preferredFrameRate`). Both are maxima: the best layer within them.
 */

/** What a subscriber asks for; null: no limit. */
export interface LayerPreferences {
  resolution: { width: number; height: number } | null;
  frameRate: number | null;
}

/** What the choice looks at (a {@link ProducerLayer} has it). */
export interface SelectableLayer {
  readonly index: number;
  /** Pixels per frame, 0 while unknown. */
  readonly pixels: number;
  /** Measured frames per second, 0 while unknown. */
  readonly frameRate: number;
  active(nowMs: number): boolean;
}

/** No preference. */
export const NO_PREFERENCES: LayerPreferences = { resolution: null, frameRate: null };

/**
 * A measured rate this close above the preferred one still fits (a 30 fps layer measures 29–31 fps).
 * Layers are compared with `frameRate <= preferred * FRAME_RATE_SLACK + 0.5`.
 */
const FRAME_RATE_SLACK = 1.1;

/**
 * The layer to forward, among those the publisher sends now (active) and whose frame size is known (seen on a
 * keyframe) — or, failing that, among the active ones, or all:
 * - resolution: the largest layer (by pixel count) not above the preferred one; when every layer is larger, the
 *   smallest;
 * - frame rate: among those, the layers whose measured rate is not above the preferred one, when there are any.
 *   When every layer runs faster (browsers send all layers at the capture rate), the preference cannot be met:
 *   lowering the rate within a layer needs temporal layers, which the SFU does not select (yet).
 * Ties go to the larger frame rate, then to the later layer. Allocation-free (runs on every consumer's tick).
 * @example
 *   const layer = selectLayer(producer.layers, { resolution: { width: 320, height: 240 }, frameRate: null }, now);
 */
export function selectLayer<L extends SelectableLayer>(layers: readonly L[], prefs: LayerPreferences, nowMs: number): L {
  if (layers.length === 0) throw new TypeError('selectLayer(): no layers');
  let level = 0;
  for (const l of layers) level = Math.max(level, rank(l, nowMs));
  const maxPixels = prefs.resolution ? prefs.resolution.width * prefs.resolution.height : Infinity;
  const maxRate = prefs.frameRate !== null ? prefs.frameRate * FRAME_RATE_SLACK + 0.5 : Infinity;
  let fitsSize = false;
  let fitsRate = false;
  for (const l of layers) {
    if (rank(l, nowMs) !== level || l.pixels > maxPixels) continue;
    fitsSize = true;
    if (l.frameRate > 0 && l.frameRate <= maxRate) fitsRate = true;
  }
  let best: L | undefined;
  for (const l of layers) {
    if (rank(l, nowMs) !== level) continue;
    if (!fitsSize) {
      // Every layer is larger than wanted: the smallest one.
      if (!best || l.pixels < best.pixels) best = l;
      continue;
    }
    if (l.pixels > maxPixels || (fitsRate && !(l.frameRate > 0 && l.frameRate <= maxRate))) continue;
    if (!best || l.pixels > best.pixels || (l.pixels === best.pixels && l.frameRate >= best.frameRate)) best = l;
  }
  return best ?? layers[layers.length - 1]!;
}

/** 2: active with a known size; 1: active; 0: not sent now. */
function rank(l: SelectableLayer, nowMs: number): number {
  if (!l.active(nowMs)) return 0;
  return l.pixels > 0 ? 2 : 1;
}
