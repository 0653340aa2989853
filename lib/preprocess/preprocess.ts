import type { ImageTransform, Laterality } from "../types";
import { presentationToUint16 } from "../dicom/voi";
import { enlargePlaced } from "./bilinear";
import { resizeGrey16, type ResizeKernel } from "./grey16";
import { breastMask, DEFAULT_MASK_PARAMS, type MaskParams } from "./mask";
import { maskBoundingBox } from "./morphology";
import { decideOrientation, type OrientationDecision } from "./orient";
import { makeTransform } from "./transform";

/**
 * Per-image preprocessing, 16-bit throughout: orientation, breast mask, crop to the mask's box,
 * pad to a square (breast against the left edge, padding on the right; centred vertically),
 * resize to the working size, scale to [0, 1] (value / 65535), and the global view.
 */

/** A presentation-ready image: intensities in [0, 1] (Float32) or value / 65535 (Uint16),
 * MONOCHROME1 already inverted, VOI applied, background dark. */
export interface PresentationImage {
  pixels: Float32Array | Uint16Array;
  widthPx: number;
  heightPx: number;
  /** The laterality tag, when the dataset or the DICOM has one. */
  laterality?: Laterality | null;
  /** Source name for error messages (e.g. the DICOM path). */
  source?: string;
  /**
   * Optional image of the same size that orientation and the mask are computed on instead of
   * `pixels`: linear (un-windowed) values, e.g. toPresentation(img, {voi: "minmax"}). A display
   * window clips the faint skin line to black, which the mask would then miss.
   */
  maskPixels?: Float32Array | Uint16Array;
}

/**
 * Preprocessing presets. "milpf" (default): three-class Otsu mask with a small dilation, the
 * crop scaled by its max, breast against the left edge and centred vertically. "authors":
 * mil-pf-core's steps for exact reproduction: plain Otsu with dilation size/10, min-max
 * scaling of the crop, padding at the bottom and right (breast in the top-left corner), and
 * `keep_only_breast` (pixels outside the mask set to 0, here on the working image).
 */
export const PREPROCESS_PRESETS = ["milpf", "authors"] as const;
export type PreprocessPreset = (typeof PREPROCESS_PRESETS)[number];

/** The mask parameters of a preset (lib/preprocess/mask.ts). */
export function presetMaskParams(preset: PreprocessPreset): MaskParams {
  return preset === "authors" ? { ...DEFAULT_MASK_PARAMS, dilateFraction: 1 / 10, otsuClasses: 2 } : DEFAULT_MASK_PARAMS;
}

export interface PreprocessOptions {
  /** Preset (default "milpf"); `mask` overrides its mask parameters. */
  preset?: PreprocessPreset;
  /** Side of the square working image (4096 for real data; 1024 for the synthetic default). */
  workingSizePx: number;
  /** Side of the global view (the encoder's input size). */
  globalSizePx: number;
  /** Max side of the copy the mask is computed on. */
  maskMaxSidePx?: number;
  mask?: Partial<MaskParams>;
  /** Resampling kernel (sharp/libvips); "linear" is area-like when shrinking. */
  kernel?: ResizeKernel;
}

export interface PreprocessResult {
  /** Working image, workingSizePx^2, [0, 1] = value / 65535, max of the crop -> 65535. */
  working: Uint16Array;
  workingSizePx: number;
  /** Breast mask in the working frame (0/1). */
  mask: Uint8Array;
  transform: ImageTransform;
  /** Global view: the working image resized to globalSizePx^2. */
  global: Uint16Array;
  globalSizePx: number;
  orientation: OrientationDecision;
  /** Fraction of the working image inside the mask. */
  maskFraction: number;
}

function toUint16(pixels: Float32Array | Uint16Array): Uint16Array {
  if (pixels instanceof Uint16Array) return pixels;
  const out = new Uint16Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = presentationToUint16(pixels[i]); // NaN -> 0
  return out;
}

/**
 * Min and max of pixels[x + y * W] over [x0, x1) x [y0, y1) (min 65535, max 0 when empty). A
 * small function of its own so that V8 optimises the loop early (~11 M pixels per mammogram).
 */
function rectRange(pixels: Uint16Array, W: number, x0: number, x1: number, y0: number, y1: number): { minV: number; maxV: number } {
  let maxV = 0;
  let minV = 65535;
  for (let y = y0; y < y1; y++) {
    const row = y * W;
    for (let x = x0; x < x1; x++) {
      const v = pixels[row + x];
      if (v > maxV) maxV = v;
      if (v < minV) minV = v;
    }
  }
  return { minV, maxV };
}

/**
 * Bilinear taps at continuous position `pos` along an axis of `size` pixels (centres at i + 0.5):
 * the two neighbouring indices (clamped to the axis) and the weight of the second. A 0/1 mask
 * sampled at (x, y) is then (m[y0][x0] (1 - ax) + m[y0][x1] ax) (1 - ay) + (m[y1][x0] (1 - ax) + m[y1][x1] ax) ay.
 */
function bilinearTaps(pos: number, size: number): { i0: number; i1: number; a: number } {
  const f = pos - 0.5;
  let i0 = Math.floor(f);
  const a = f - i0;
  let i1 = i0 + 1;
  if (i0 < 0) i0 = 0;
  if (i1 > size - 1) i1 = size - 1;
  if (i0 > size - 1) i0 = size - 1;
  return { i0, i1, a };
}

export async function preprocessPixels(img: PresentationImage, opts: PreprocessOptions): Promise<PreprocessResult> {
  const what = img.source ?? "image";
  const W = img.widthPx;
  const H = img.heightPx;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 8 || H < 8)
    throw new Error(`${what}: image too small or bad size (${W} x ${H})`);
  if (img.pixels.length !== W * H) throw new Error(`${what}: ${img.pixels.length} pixels for ${W} x ${H}`);
  if (!(opts.workingSizePx >= 8) || !(opts.globalSizePx >= 8))
    throw new Error(`${what}: bad working/global size ${opts.workingSizePx}/${opts.globalSizePx}`);
  const kernel = opts.kernel ?? "linear";
  const full = toUint16(img.pixels);

  // 1. Small copy for orientation and mask.
  const maxSide = opts.maskMaxSidePx ?? 512;
  const f = Math.min(1, maxSide / Math.max(W, H));
  const lw = Math.max(8, Math.round(W * f));
  const lh = Math.max(8, Math.round(H * f));
  if (img.maskPixels && img.maskPixels.length !== W * H) throw new Error(`${what}: maskPixels has ${img.maskPixels.length} values for ${W} x ${H}`);
  const maskSource = img.maskPixels ? toUint16(img.maskPixels) : full;
  const low = lw === W && lh === H ? maskSource : await resizeGrey16({ pixels: maskSource, widthPx: W, heightPx: H }, lw, lh, kernel);

  // 2. Orientation (tag confirmed by column sums).
  const orientation = decideOrientation(low, lw, lh, img.laterality);
  const flipped = orientation.flip;

  // 3. Mask on the small copy (unflipped frame).
  const preset = opts.preset ?? "milpf";
  const { mask: lowMask } = breastMask(low, lw, lh, { ...presetMaskParams(preset), ...opts.mask });
  const box = maskBoundingBox(lowMask, lw, lh);
  if (!box) throw new Error(`${what}: no breast found (empty mask after Otsu threshold)`);

  // 4. Crop box in original pixels (rounded outwards), then in the flipped frame.
  const sx = W / lw;
  const sy = H / lh;
  const ox0 = Math.max(0, Math.floor(box.x0 * sx));
  const ox1 = Math.min(W, Math.ceil(box.x1 * sx));
  const oy0 = Math.max(0, Math.floor(box.y0 * sy));
  const oy1 = Math.min(H, Math.ceil(box.y1 * sy));
  const crop = flipped ? { x0: W - ox1, y0: oy0, x1: W - ox0, y1: oy1 } : { x0: ox0, y0: oy0, x1: ox1, y1: oy1 };
  const N = opts.workingSizePx;
  const transform = makeTransform({ originalWidthPx: W, originalHeightPx: H, flipped, crop, workingSizePx: N, alignTop: preset === "authors" });
  const S = transform.squareSizePx;
  const cw = crop.x1 - crop.x0;
  const ch = crop.y1 - crop.y0;

  // 5. Scale to [0, 1]: max of the crop -> 65535 ("milpf"), or min..max -> 0..65535 ("authors").
  const { minV, maxV } = rectRange(full, W, ox0, ox1, oy0, oy1);
  if (maxV === 0) throw new Error(`${what}: the breast region is all zero`);
  const offset = preset === "authors" ? minV : 0;
  if (maxV === offset) throw new Error(`${what}: the breast region is constant (${maxV})`);
  const gain = 65535 / (maxV - offset);

  // 6-7. Working image. Enlarging with "linear" (the default), bilinear.ts reads the crop straight
  // from the image through the flip, the zero padding and the scaling, and computes only the
  // window around the crop (with a margin beyond the taps' reach): outside it every tap is
  // padding (0). Otherwise flip + crop + pad into the square (the scaling is a function of the
  // 16-bit value alone: a table), and resize that with sharp.
  let working: Uint16Array;
  if (S < N && kernel === "linear") {
    const scale = N / S;
    const margin = Math.ceil(2 * scale) + 2;
    const window = {
      x0: transform.padXPx * scale - margin,
      y0: transform.padYPx * scale - margin,
      x1: (transform.padXPx + cw) * scale + margin,
      y1: (transform.padYPx + ch) * scale + margin,
    };
    const region = { x0: flipped ? W - 1 - crop.x0 : crop.x0, y0: crop.y0, width: cw, height: ch, padX: transform.padXPx, padY: transform.padYPx, flipped };
    working = enlargePlaced({ source: full, sourceWidthPx: W, widthPx: S, heightPx: S, region, offset, gain }, N, N, window);
  } else {
    const scaled = new Uint16Array(65536);
    for (let v0 = minV; v0 <= maxV; v0++) {
      const v = Math.round((v0 - offset) * gain);
      scaled[v0] = v > 65535 ? 65535 : v < 0 ? 0 : v;
    }
    const square = new Uint16Array(S * S);
    for (let yc = 0; yc < ch; yc++) {
      const srcRow = (crop.y0 + yc) * W;
      const dstRow = (yc + transform.padYPx) * S + transform.padXPx;
      if (flipped) {
        const end = srcRow + W - 1 - crop.x0;
        for (let xc = 0; xc < cw; xc++) square[dstRow + xc] = scaled[full[end - xc]];
      } else {
        const start = srcRow + crop.x0;
        for (let xc = 0; xc < cw; xc++) square[dstRow + xc] = scaled[full[start + xc]];
      }
    }
    working = await resizeGrey16({ pixels: square, widthPx: S, heightPx: S }, N, N, kernel);
  }

  // 8. Mask in the working frame: each working pixel centre mapped back to the small copy and
  // sampled bilinearly there (>= 0.5 is inside). The mapping is separable: the taps of every
  // column are worked out once, and columns are grouped in runs that share their two taps, so
  // that a run whose four taps agree (inside or outside the breast: most of them) is set at once.
  const mask = new Uint8Array(N * N);
  let inside = 0;
  const inv = 1 / transform.scale;
  const colX0 = new Int32Array(N);
  const colX1 = new Int32Array(N);
  const colA = new Float64Array(N);
  // runs [runStart[k], runEnd[k]) of in-crop columns with the same (x0, x1)
  const runStart: number[] = [];
  const runEnd: number[] = [];
  for (let xw = 0; xw < N; xw++) {
    const xf = (xw + 0.5) * inv - transform.padXPx + crop.x0;
    if (xf < crop.x0 || xf >= crop.x1) continue;
    const xOrig = flipped ? W - xf : xf;
    const t = bilinearTaps(xOrig / sx, lw);
    colX0[xw] = t.i0;
    colX1[xw] = t.i1;
    colA[xw] = t.a;
    const k = runStart.length - 1;
    if (k >= 0 && runEnd[k] === xw && colX0[xw - 1] === t.i0 && colX1[xw - 1] === t.i1) runEnd[k] = xw + 1;
    else {
      runStart.push(xw);
      runEnd.push(xw + 1);
    }
  }
  for (let yw = 0; yw < N; yw++) {
    const yOrig = (yw + 0.5) * inv - transform.padYPx + crop.y0;
    if (yOrig < crop.y0 || yOrig >= crop.y1) continue;
    const { i0: y0, i1: y1, a: ay } = bilinearTaps(yOrig / sy, lh);
    const r0 = y0 * lw;
    const r1 = y1 * lw;
    const out = yw * N;
    // adjacent inside runs are filled as one span (a row has a few spans, and ~N/8 runs)
    let spanA = 0;
    let spanB = 0;
    for (let k = 0; k < runStart.length; k++) {
      const a = runStart[k];
      const b = runEnd[k];
      const x0 = colX0[a];
      const x1 = colX1[a];
      const m00 = lowMask[r0 + x0];
      const m01 = lowMask[r0 + x1];
      const m10 = lowMask[r1 + x0];
      const m11 = lowMask[r1 + x1];
      // four equal taps: every sample of the run is that value (0, or 1 up to rounding), whichever the weights
      if (m00 === m01 && m10 === m11 && m00 === m10) {
        if (m00 !== 0) {
          if (spanB === a) spanB = b;
          else {
            if (spanB > spanA) mask.fill(1, out + spanA, out + spanB);
            inside += spanB - spanA;
            spanA = a;
            spanB = b;
          }
        }
        continue;
      }
      for (let xw = a; xw < b; xw++) {
        const ax = colA[xw];
        const top = m00 * (1 - ax) + m01 * ax;
        const bot = m10 * (1 - ax) + m11 * ax;
        if (top * (1 - ay) + bot * ay >= 0.5) {
          mask[out + xw] = 1;
          inside++;
        }
      }
    }
    if (spanB > spanA) mask.fill(1, out + spanA, out + spanB);
    inside += spanB - spanA;
  }
  // 9. "authors": keep_only_breast (outside the mask -> 0); then the global view (sharp).
  if (preset === "authors") for (let i = 0; i < N * N; i++) if (mask[i] === 0) working[i] = 0;
  const G = opts.globalSizePx;
  const global = await resizeGrey16({ pixels: working, widthPx: N, heightPx: N }, G, G, kernel);
  return { working, workingSizePx: N, mask, transform, global, globalSizePx: G, orientation, maskFraction: inside / (N * N) };
}
