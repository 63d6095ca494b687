import { Vp8BoolEncoder } from './vp8BoolCoder.js';
import {
  COEFF_BANDS,
  COEFF_UPDATE_PROBS,
  DCT_CATEGORIES,
  DEFAULT_COEFF_PROBS,
  MODE_CONTEXTS,
  MV_UPDATE_PROBS,
  ZIGZAG,
} from './vp8Tables.js';

/** Options of {@link Vp8SyntheticEncoder}. */
export interface Vp8SyntheticEncoderOptions {
  /** Frame width in pixels (default 640). */
  width?: number;
  /** Frame height in pixels (default 480). */
  height?: number;
  /**
   * Target size of each frame in bytes; frames are filled up to about this size with textured
   * macroblocks (real, decodable residual). 0 = as small as the content allows (≈100 B).
   */
  targetFrameBytes?: number;
  /** Seed of the texture generator, so runs are reproducible. */
  seed?: number;
}

/** One encoded VP8 frame. */
export interface Vp8Frame {
  /** The complete VP8 frame (frame tag, key-frame header, both partitions). */
  data: Uint8Array;
  keyframe: boolean;
  /** Index of this frame since the encoder was created. */
  index: number;
}

// Block types of the token probabilities (RFC 6386 §13.3).
const TYPE_Y_AFTER_Y2 = 0;
const TYPE_Y2 = 1;
const TYPE_CHROMA = 2;

// Quantizer index 0: DC/AC steps are all 4, the Y2 DC step 8 (RFC 6386 §14.1), which makes
// the DC arithmetic below exact.
const Y2_DC_STEP = 8;
const Y_AC_STEP = 4;
const UV_DC_STEP = 4;

const BACKGROUND = { y: 128, u: 128, v: 128 } as const;
const BOX_MBS = 3; // the moving box is 3×3 macroblocks (48×48 px)

/** Per-macroblock decision made before entropy coding. */
interface MbPlan {
  intra: boolean;
  target: { y: number; u: number; v: number };
  texture: boolean;
}

/**
 * A tiny VP8 encoder for synthetic video: no motion search, no DCT, but a bitstream any VP8
 * decoder accepts (Chromium's libvpx included).
 *
 * Picture: a mid-grey background with a coloured 48×48 box that moves one macroblock per
 * frame, plus textured macroblocks (random AC coefficients) that bring each frame up to the
 * target size. Every coded macroblock is intra DC_PRED with the DC residual computed from an
 * exact model of the decoder's reconstruction, so the picture never drifts; every other
 * macroblock of an inter frame is ZEROMV and skipped (a copy of the previous frame).
 *
 * Quantizer index 0, loop filter off, one token partition, default probabilities (no updates).
 *
 * @example
 * const enc = new Vp8SyntheticEncoder({ width: 640, height: 480, targetFrameBytes: 4000 });
 * const key = enc.encode(true);   // key frame
 * const next = enc.encode(false); // inter frame
 */
export class Vp8SyntheticEncoder {
  readonly width: number;
  readonly height: number;
  readonly mbCols: number;
  readonly mbRows: number;
  /** Target frame size in bytes; may be changed between frames. */
  targetFrameBytes: number;

  #index = 0;
  #hasReference = false;
  #rng: number;
  // Reconstruction model of the decoder: planes padded to whole macroblocks.
  readonly #yPlane: Uint8Array;
  readonly #uPlane: Uint8Array;
  readonly #vPlane: Uint8Array;
  readonly #yStride: number;
  readonly #uvStride: number;
  // Where the box was in the previous frame (column, row of its top-left macroblock).
  #prevBox: { col: number; row: number } | null = null;
  #fillCursor = 0;
  #bytesPerTexturedMb = 200;

  constructor(options: Vp8SyntheticEncoderOptions = {}) {
    const width = options.width ?? 640;
    const height = options.height ?? 480;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width > 16383 || height > 16383) {
      throw new TypeError(`invalid VP8 frame size ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    this.mbCols = Math.ceil(width / 16);
    this.mbRows = Math.ceil(height / 16);
    this.targetFrameBytes = options.targetFrameBytes ?? 0;
    this.#rng = (options.seed ?? 0x2545f491) >>> 0 || 1;
    this.#yStride = this.mbCols * 16;
    this.#uvStride = this.mbCols * 8;
    this.#yPlane = new Uint8Array(this.#yStride * this.mbRows * 16);
    this.#uPlane = new Uint8Array(this.#uvStride * this.mbRows * 8);
    this.#vPlane = new Uint8Array(this.#uvStride * this.mbRows * 8);
  }

  /** Number of frames encoded so far. */
  get frameCount(): number {
    return this.#index;
  }

  /** Position (top-left macroblock) of the box in frame `index`: it sweeps the frame row by row. */
  boxPosition(index: number): { col: number; row: number } {
    const cols = Math.max(1, this.mbCols - BOX_MBS + 1);
    const rows = Math.max(1, this.mbRows - BOX_MBS + 1);
    const step = index % (cols * rows);
    return { col: step % cols, row: Math.floor(step / cols) % rows };
  }

  /** Colour of the box in frame `index` (its luma cycles so consecutive frames differ). */
  boxColour(index: number): { y: number; u: number; v: number } {
    return { y: 200 + (index % 8) * 6, u: 90, v: 200 };
  }

  /** Encodes the next frame; the first frame is always a key frame. */
  encode(keyframe: boolean): Vp8Frame {
    const key = keyframe || !this.#hasReference;
    const index = this.#index++;
    const plans = this.#plan(index, key);

    const header = new Vp8BoolEncoder(2048);
    const tokens = new Vp8BoolEncoder(Math.max(1024, this.targetFrameBytes * 2));
    const coded = plans.filter((p) => p !== null && (p.texture || p.intra)).length;
    const skipProb = clampProb(Math.round((256 * coded) / plans.length));

    this.#writeFrameHeader(header, key, skipProb);

    // Token contexts: "has non-zero coefficients" of the blocks above (per column) and left.
    const aboveCtx = new Uint8Array(this.mbCols * 9);
    const leftCtx = new Uint8Array(9);
    // Whether the macroblock above is inter-coded (the mode context of ZEROMV depends on it).
    const aboveInter = new Uint8Array(this.mbCols);
    let aboveLeftInter = 0;
    let mb = 0;
    for (let row = 0; row < this.mbRows; row++) {
      leftCtx.fill(0);
      let leftInter = 0;
      aboveLeftInter = 0;
      for (let col = 0; col < this.mbCols; col++, mb++) {
        const plan = plans[mb] ?? null;
        const actx = aboveCtx.subarray(col * 9, col * 9 + 9);
        const aboveIsInter = aboveInter[col] ?? 0;
        let isInter = 0;
        if (key || (plan !== null && plan.intra)) {
          const target = plan?.target ?? BACKGROUND;
          const residual = this.#reconstructIntra(col, row, target, plan?.texture ?? false);
          const skip = !residual.coded;
          header.writeBool(skip, skipProb);
          if (key) {
            // kf_ymode_tree with the fixed key-frame probabilities: DC_PRED = 1,0,0.
            header.writeBool(1, 145);
            header.writeBool(0, 156);
            header.writeBool(0, 163);
            header.writeBool(0, 142); // uv DC_PRED
          } else {
            header.writeBool(0, INTER_PROB_INTRA);
            header.writeBool(0, 112); // ymode_tree, default ymode_prob: DC_PRED = 0
            header.writeBool(0, 162); // uv_mode_tree: DC_PRED = 0
          }
          if (skip) {
            actx.fill(0);
            leftCtx.fill(0);
          } else {
            writeMacroblockTokens(tokens, residual, actx, leftCtx);
          }
        } else {
          isInter = 1;
          header.writeBool(1, skipProb); // skipped: ZEROMV copy of the previous frame
          header.writeBool(1, INTER_PROB_INTRA); // inter
          header.writeBool(0, INTER_PROB_LAST); // reference = last frame
          const cnt = 2 * aboveIsInter + 2 * leftInter + aboveLeftInter;
          header.writeBool(0, MODE_CONTEXTS[cnt]?.[0] ?? 128); // ZEROMV
          actx.fill(0);
          leftCtx.fill(0);
        }
        aboveLeftInter = aboveIsInter;
        aboveInter[col] = isInter;
        leftInter = isInter;
      }
    }

    const first = header.finish();
    const second = tokens.finish();
    const headerLen = key ? 10 : 3;
    const data = new Uint8Array(headerLen + first.length + second.length);
    const tag = (key ? 0 : 1) | (0 << 1) | (1 << 4) | (first.length << 5);
    data[0] = tag & 0xff;
    data[1] = (tag >> 8) & 0xff;
    data[2] = (tag >> 16) & 0xff;
    if (key) {
      data[3] = 0x9d;
      data[4] = 0x01;
      data[5] = 0x2a;
      data[6] = this.width & 0xff;
      data[7] = (this.width >> 8) & 0x3f;
      data[8] = this.height & 0xff;
      data[9] = (this.height >> 8) & 0x3f;
    }
    data.set(first, headerLen);
    data.set(second, headerLen + first.length);
    this.#hasReference = true;
    // Learn the cost of a textured macroblock so the next frames land closer to the target.
    const textured = plans.filter((p) => p?.texture === true).length;
    if (textured > 0) {
      const measured = (data.length - this.#baseBytes(key)) / textured;
      this.#bytesPerTexturedMb = Math.max(20, 0.7 * this.#bytesPerTexturedMb + 0.3 * measured);
    }
    return { data, keyframe: key, index };
  }

  /** Luma of the decoder's reconstruction at (x, y), from the encoder's model (for tests). */
  modelLuma(x: number, y: number): number {
    return this.#yPlane[y * this.#yStride + x] ?? 0;
  }

  /** Rough size of a frame without texture: headers, mode bits, the box. */
  #baseBytes(key: boolean): number {
    const total = this.mbCols * this.mbRows;
    return key ? 200 + total / 8 : 200 + total / 32;
  }

  /** Decides what each macroblock becomes in this frame (null = skipped ZEROMV copy). */
  #plan(index: number, key: boolean): (MbPlan | null)[] {
    const total = this.mbCols * this.mbRows;
    const plans: (MbPlan | null)[] = new Array<MbPlan | null>(total).fill(null);
    const box = this.boxPosition(index);
    const colour = this.boxColour(index);
    const inBox = (col: number, row: number, b: { col: number; row: number } | null): boolean =>
      b !== null && col >= b.col && col < b.col + BOX_MBS && row >= b.row && row < b.row + BOX_MBS;
    for (let row = 0; row < this.mbRows; row++) {
      for (let col = 0; col < this.mbCols; col++) {
        const mb = row * this.mbCols + col;
        if (inBox(col, row, box)) plans[mb] = { intra: true, target: colour, texture: false };
        else if (key || inBox(col, row, this.#prevBox)) plans[mb] = { intra: true, target: BACKGROUND, texture: false };
      }
    }
    this.#prevBox = box;
    // Texture macroblocks (outside the box) until the estimated frame size reaches the target.
    let budget = this.targetFrameBytes - this.#baseBytes(key);
    for (let n = 0; n < total && budget > 0; n++) {
      const mb = (this.#fillCursor + n) % total;
      const col = mb % this.mbCols;
      const row = Math.floor(mb / this.mbCols);
      if (inBox(col, row, box)) continue;
      plans[mb] = { intra: true, target: BACKGROUND, texture: true };
      budget -= this.#bytesPerTexturedMb;
      this.#fillCursor = (mb + 1) % total;
    }
    return plans;
  }

  /**
   * Computes the residual of an intra DC_PRED macroblock that reaches `target`, and applies it
   * to the reconstruction model exactly as a decoder would.
   */
  #reconstructIntra(col: number, row: number, target: { y: number; u: number; v: number }, texture: boolean): MbResidual {
    const res = newResidual();
    // Luma: DC_PRED from the row above and the column to the left (RFC 6386 §12.2).
    const yPred = this.#dcPred(this.#yPlane, this.#yStride, col * 16, row * 16, 16, col > 0, row > 0, 128);
    const yDelta = clampInt(target.y - yPred, -120, 120);
    // Y2 DC token t: dequantized 8t, inverse WHT gives (8t+3)>>3 = t per block, the IDCT
    // (t+4)>>3 per pixel, so t = 8·delta moves every pixel by exactly delta.
    res.y2[0] = 8 * yDelta;
    const blockDc = (Y2_DC_STEP * res.y2[0] + 3) >> 3;
    for (let b = 0; b < 16; b++) {
      const coeffs = res.y[b] as Int16Array;
      if (texture) {
        for (let i = 1; i < 16; i++) {
          if (this.#random() % 3 === 0) coeffs[i] = (this.#random() % 41) - 20;
        }
      }
      const x0 = col * 16 + (b % 4) * 4;
      const y0 = row * 16 + Math.floor(b / 4) * 4;
      const dq = new Int32Array(16);
      dq[0] = blockDc;
      for (let i = 1; i < 16; i++) dq[ZIGZAG[i] as number] = (coeffs[i] ?? 0) * Y_AC_STEP;
      idctAdd(dq, this.#yPlane, this.#yStride, x0, y0, yPred);
    }
    // Chroma: DC_PRED per 8×8 plane, DC token t: dequantized 4t, IDCT (4t+4)>>3 → t = 2·delta.
    for (const [plane, goal, out] of [
      [this.#uPlane, target.u, res.u],
      [this.#vPlane, target.v, res.v],
    ] as const) {
      const pred = this.#dcPred(plane, this.#uvStride, col * 8, row * 8, 8, col > 0, row > 0, 128);
      const delta = clampInt(goal - pred, -120, 120);
      for (let b = 0; b < 4; b++) {
        const coeffs = out[b] as Int16Array;
        coeffs[0] = 2 * delta;
        const dq = new Int32Array(16);
        dq[0] = coeffs[0] * UV_DC_STEP;
        idctAdd(dq, plane, this.#uvStride, col * 8 + (b % 2) * 4, row * 8 + Math.floor(b / 2) * 4, pred);
      }
    }
    res.coded = res.y2[0] !== 0 || texture || res.u.some((c) => c[0] !== 0) || res.v.some((c) => c[0] !== 0);
    return res;
  }

  #dcPred(plane: Uint8Array, stride: number, x: number, y: number, size: number, left: boolean, up: boolean, none: number): number {
    if (!left && !up) return none;
    let sum = 0;
    if (up) for (let i = 0; i < size; i++) sum += plane[(y - 1) * stride + x + i] ?? 0;
    if (left) for (let i = 0; i < size; i++) sum += plane[(y + i) * stride + x - 1] ?? 0;
    const shift = Math.log2(size) - 1 + (up ? 1 : 0) + (left ? 1 : 0);
    return (sum + (1 << (shift - 1))) >> shift;
  }

  #random(): number {
    // xorshift32
    let x = this.#rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rng = x >>> 0;
    return this.#rng;
  }

  #writeFrameHeader(w: Vp8BoolEncoder, key: boolean, skipProb: number): void {
    if (key) {
      w.writeLiteral(0, 1); // color_space
      w.writeLiteral(0, 1); // clamping_type
    }
    w.writeLiteral(0, 1); // segmentation_enabled
    w.writeLiteral(0, 1); // filter_type
    w.writeLiteral(0, 6); // loop_filter_level: 0 disables the loop filter
    w.writeLiteral(0, 3); // sharpness_level
    w.writeLiteral(0, 1); // loop_filter_adj_enable
    w.writeLiteral(0, 2); // log2_nbr_of_dct_partitions: one token partition
    w.writeLiteral(0, 7); // y_ac_qi
    for (let i = 0; i < 5; i++) w.writeLiteral(0, 1); // no delta quantizers
    if (key) {
      w.writeLiteral(1, 1); // refresh_entropy_probs
    } else {
      w.writeLiteral(0, 1); // refresh_golden_frame
      w.writeLiteral(0, 1); // refresh_alternate_frame
      w.writeLiteral(0, 2); // copy_buffer_to_golden
      w.writeLiteral(0, 2); // copy_buffer_to_alternate
      w.writeLiteral(0, 1); // sign_bias_golden
      w.writeLiteral(0, 1); // sign_bias_alternate
      w.writeLiteral(1, 1); // refresh_entropy_probs
      w.writeLiteral(1, 1); // refresh_last
    }
    // token_prob_update: no updates, each flag coded with its own update probability.
    for (const t of COEFF_UPDATE_PROBS) for (const b of t) for (const c of b) for (const p of c) w.writeBool(0, p);
    w.writeLiteral(1, 1); // mb_no_coeff_skip
    w.writeLiteral(skipProb, 8); // prob_skip_false
    if (!key) {
      w.writeLiteral(INTER_PROB_INTRA, 8);
      w.writeLiteral(INTER_PROB_LAST, 8);
      w.writeLiteral(128, 8); // prob_gf
      w.writeLiteral(0, 1); // intra_16x16_prob_update_flag
      w.writeLiteral(0, 1); // intra_chroma_prob_update_flag
      for (const comp of MV_UPDATE_PROBS) for (const p of comp) w.writeBool(0, p);
    }
  }
}

// prob_intra: probability of "intra" among macroblocks of an inter frame; prob_last likewise.
const INTER_PROB_INTRA = 32;
const INTER_PROB_LAST = 255;

/** Quantized coefficients of one macroblock, each block in zig-zag (token) order. */
interface MbResidual {
  y2: Int16Array;
  y: Int16Array[];
  u: Int16Array[];
  v: Int16Array[];
  coded: boolean;
}

function newResidual(): MbResidual {
  const blocks = (n: number): Int16Array[] => Array.from({ length: n }, () => new Int16Array(16));
  return { y2: new Int16Array(16), y: blocks(16), u: blocks(4), v: blocks(4), coded: false };
}

/** Writes the tokens of a coded macroblock: Y2, 16 Y, 4 U, 4 V blocks (RFC 6386 §13). */
function writeMacroblockTokens(w: Vp8BoolEncoder, res: MbResidual, above: Uint8Array, left: Uint8Array): void {
  // Context slots: 0..3 Y columns/rows, 4..5 U, 6..7 V, 8 Y2.
  let nz = writeBlockTokens(w, TYPE_Y2, (above[8] ?? 0) + (left[8] ?? 0), 0, res.y2);
  above[8] = left[8] = nz;
  for (let b = 0; b < 16; b++) {
    const x = b % 4;
    const y = b >> 2;
    nz = writeBlockTokens(w, TYPE_Y_AFTER_Y2, (above[x] ?? 0) + (left[y] ?? 0), 1, res.y[b] as Int16Array);
    above[x] = left[y] = nz;
  }
  for (const [base, blocks] of [
    [4, res.u],
    [6, res.v],
  ] as const) {
    for (let b = 0; b < 4; b++) {
      const x = base + (b % 2);
      const y = base + (b >> 1);
      nz = writeBlockTokens(w, TYPE_CHROMA, (above[x] ?? 0) + (left[y] ?? 0), 0, blocks[b] as Int16Array);
      above[x] = left[y] = nz;
    }
  }
}

/**
 * Writes one block's tokens with the default probabilities; returns 1 when anything but an
 * immediate end-of-block was coded (the decoder's "non-zero" context for the next blocks).
 */
function writeBlockTokens(w: Vp8BoolEncoder, type: number, ctx: number, first: number, coeffs: Int16Array): number {
  const probs = DEFAULT_COEFF_PROBS[type] as readonly (readonly (readonly number[])[])[];
  let last = -1;
  for (let i = 15; i >= first; i--) {
    if (coeffs[i] !== 0) {
      last = i;
      break;
    }
  }
  let p = probs[COEFF_BANDS[first] as number]?.[ctx] as readonly number[];
  if (last < 0) {
    w.writeBool(0, p[0] as number); // EOB
    return 0;
  }
  let afterZero = false;
  for (let i = first; i <= last; i++) {
    const v = coeffs[i] ?? 0;
    if (!afterZero) w.writeBool(1, p[0] as number); // not EOB
    let nextCtx: number;
    if (v === 0) {
      w.writeBool(0, p[1] as number);
      nextCtx = 0;
      afterZero = true;
    } else {
      w.writeBool(1, p[1] as number);
      const a = Math.abs(v);
      if (a === 1) {
        w.writeBool(0, p[2] as number);
        nextCtx = 1;
      } else {
        w.writeBool(1, p[2] as number);
        if (a <= 4) {
          w.writeBool(0, p[3] as number);
          if (a === 2) {
            w.writeBool(0, p[4] as number);
          } else {
            w.writeBool(1, p[4] as number);
            w.writeBool(a === 4, p[5] as number);
          }
        } else {
          w.writeBool(1, p[3] as number);
          let cat: number;
          if (a <= 10) {
            w.writeBool(0, p[6] as number);
            cat = a <= 6 ? 0 : 1;
            w.writeBool(cat, p[7] as number);
          } else {
            w.writeBool(1, p[6] as number);
            if (a <= 34) {
              w.writeBool(0, p[8] as number);
              cat = a <= 18 ? 2 : 3;
              w.writeBool(cat - 2, p[9] as number);
            } else {
              w.writeBool(1, p[8] as number);
              cat = a <= 66 ? 4 : 5;
              w.writeBool(cat - 4, p[10] as number);
            }
          }
          const c = DCT_CATEGORIES[cat] as { base: number; probs: readonly number[] };
          const extra = a - c.base;
          const n = c.probs.length;
          for (let b = 0; b < n; b++) w.writeBool((extra >> (n - 1 - b)) & 1, c.probs[b] as number);
        }
        nextCtx = 2;
      }
      w.writeBool(v < 0, 128); // sign
      afterZero = false;
    }
    if (i + 1 < 16) p = probs[COEFF_BANDS[i + 1] as number]?.[nextCtx] as readonly number[];
  }
  if (last < 15) w.writeBool(0, p[0] as number); // EOB
  return 1;
}

/** libvpx's `vp8_short_idct4x4llm_c` on raster-order dequantized coefficients, added to a flat prediction. */
function idctAdd(input: Int32Array, plane: Uint8Array, stride: number, x0: number, y0: number, pred: number): void {
  const C1 = 20091; // cospi8sqrt2minus1
  const S1 = 35468; // sinpi8sqrt2
  const tmp = new Int32Array(16);
  for (let i = 0; i < 4; i++) {
    const i0 = input[i] ?? 0;
    const i4 = input[4 + i] ?? 0;
    const i8 = input[8 + i] ?? 0;
    const i12 = input[12 + i] ?? 0;
    const a1 = i0 + i8;
    const b1 = i0 - i8;
    const c1 = ((i4 * S1) >> 16) - (i12 + ((i12 * C1) >> 16));
    const d1 = i4 + ((i4 * C1) >> 16) + ((i12 * S1) >> 16);
    tmp[i] = toShort(a1 + d1);
    tmp[12 + i] = toShort(a1 - d1);
    tmp[4 + i] = toShort(b1 + c1);
    tmp[8 + i] = toShort(b1 - c1);
  }
  for (let r = 0; r < 4; r++) {
    const t0 = tmp[r * 4] ?? 0;
    const t1 = tmp[r * 4 + 1] ?? 0;
    const t2 = tmp[r * 4 + 2] ?? 0;
    const t3 = tmp[r * 4 + 3] ?? 0;
    const a1 = t0 + t2;
    const b1 = t0 - t2;
    const c1 = ((t1 * S1) >> 16) - (t3 + ((t3 * C1) >> 16));
    const d1 = t1 + ((t1 * C1) >> 16) + ((t3 * S1) >> 16);
    const row = (y0 + r) * stride + x0;
    plane[row] = clampPixel(pred + toShort((a1 + d1 + 4) >> 3));
    plane[row + 3] = clampPixel(pred + toShort((a1 - d1 + 4) >> 3));
    plane[row + 1] = clampPixel(pred + toShort((b1 + c1 + 4) >> 3));
    plane[row + 2] = clampPixel(pred + toShort((b1 - c1 + 4) >> 3));
  }
}

function toShort(v: number): number {
  return (v << 16) >> 16;
}

function clampPixel(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function clampInt(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function clampProb(p: number): number {
  return p < 1 ? 1 : p > 255 ? 255 : p;
}
