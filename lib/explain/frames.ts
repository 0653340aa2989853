import type { BoxPx, ImageTransform } from "../types";
import { originalToWorking, workingToOriginal, type PointPx } from "../preprocess/transform";

export type { PointPx };

/**
 * Mapping between the working frame (the preprocessed square) and the original DICOM frame.
 * Continuous coordinates: pixel (i, j) covers [i, i+1) x [j, j+1); its centre is (i+0.5, j+0.5).
 *
 *   working -> square:   s = w / scale
 *   square  -> flipped:  f = s - pad + crop.start
 *   flipped -> original: x = flipped ? originalWidth - f : f      (y is never flipped)
 *
 * (The inverse of: flip, crop, pad to a square, resize by `scale`.)
 */
// Point mapping is lib/preprocess's (one definition of the transform for the whole project).
export function workingPointToOriginal(p: PointPx, t: ImageTransform): PointPx {
  return workingToOriginal(p, t);
}

export function originalPointToWorking(p: PointPx, t: ImageTransform): PointPx {
  return originalToWorking(p, t);
}

/** A working-frame box in the original frame (corners mapped, x re-ordered when flipped). */
export function workingBoxToOriginal<B extends BoxPx>(b: B, t: ImageTransform): B {
  const a = workingPointToOriginal({ xPx: b.x0, yPx: b.y0 }, t);
  const c = workingPointToOriginal({ xPx: b.x1, yPx: b.y1 }, t);
  return { ...b, x0: Math.min(a.xPx, c.xPx), x1: Math.max(a.xPx, c.xPx), y0: Math.min(a.yPx, c.yPx), y1: Math.max(a.yPx, c.yPx) };
}

export function originalBoxToWorking<B extends BoxPx>(b: B, t: ImageTransform): B {
  const a = originalPointToWorking({ xPx: b.x0, yPx: b.y0 }, t);
  const c = originalPointToWorking({ xPx: b.x1, yPx: b.y1 }, t);
  return { ...b, x0: Math.min(a.xPx, c.xPx), x1: Math.max(a.xPx, c.xPx), y0: Math.min(a.yPx, c.yPx), y1: Math.max(a.yPx, c.yPx) };
}

/** A map in the original DICOM frame, row-major `widthPx x heightPx`. */
export interface OriginalMap {
  widthPx: number;
  heightPx: number;
  values: Float32Array;
}

/**
 * Map a square working-frame heat map (side `mapSizePx`, any resolution of the working frame,
 * default `t.workingSizePx`) back onto the original DICOM pixel grid: inverse scale, unpad,
 * uncrop, unflip. Each original pixel takes the map pixel under its centre (nearest neighbour:
 * the map is already a smooth mean of overlapping tiles). Original pixels outside the crop get
 * `fill` (default 0).
 */
export function heatmapToOriginal(
  map: Float32Array,
  t: ImageTransform,
  opts: { mapSizePx?: number; fill?: number } = {},
): OriginalMap {
  const m = opts.mapSizePx ?? Math.round(Math.sqrt(map.length));
  if (m * m !== map.length) throw new Error(`heatmapToOriginal: map of ${map.length} values is not ${m} x ${m}`);
  const fill = opts.fill ?? 0;
  const W = t.originalWidthPx;
  const H = t.originalHeightPx;
  const out = new Float32Array(W * H).fill(fill);
  const k = (t.scale * m) / t.workingSizePx; // original px -> map px
  for (let y = 0; y < H; y++) {
    const fy = y + 0.5;
    if (fy < t.crop.y0 || fy >= t.crop.y1) continue;
    const my = Math.floor((fy - t.crop.y0 + t.padYPx) * k);
    if (my < 0 || my >= m) continue;
    for (let x = 0; x < W; x++) {
      const fx = t.flipped ? W - (x + 0.5) : x + 0.5;
      if (fx < t.crop.x0 || fx >= t.crop.x1) continue;
      const mx = Math.floor((fx - t.crop.x0 + t.padXPx) * k);
      if (mx < 0 || mx >= m) continue;
      out[y * W + x] = map[my * m + mx];
    }
  }
  return { widthPx: W, heightPx: H, values: out };
}
