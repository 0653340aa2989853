import type { BoxPx } from "../types";
import { labelComponents } from "../preprocess/morphology";

/**
 * Lesion boxes from a heat map (the protocol of Mourao et al., mil-pf.md section 9):
 * threshold at the 0.95 quantile, 8-connected components, drop small ones, score each box by the
 * attention summed inside it, non-maximum suppression, at most 100 boxes.
 *
 * Choices (documented here and in docs/EXPLAIN.md):
 * - The quantile is taken over the pixels that at least one tile covers (the breast), not over
 *   the background; pixels >= the quantile are kept (>= so that a flat top plateau survives;
 *   the authors smooth their maps first, which we do not).
 * - A component is dropped when its pixel count OR its bounding-box area is under `minAreaPx`
 *   (both tests appear in the public reference code). `minAreaPx` is in the map's own pixels:
 *   the caller scales the protocol's 1024 px^2 (stated at 4096 px) by (mapSize / 4096)^2.
 * - Score = sum of the map over the box (the reference code's "cumulative attention").
 * - NMS with IoU threshold 0.5 by default (the default of the reference code's box extractor;
 *   the protocol text itself gives no value), then the best `maxBoxes` are kept.
 */
export interface ScoredBox extends BoxPx {
  score: number;
}

export interface BoxOptions {
  /** Quantile of the map used as threshold (default 0.95). */
  quantile?: number;
  /** Minimum component size and box area, in map pixels^2 (default 1024). */
  minAreaPx?: number;
  /** Maximum number of boxes returned (default 100). */
  maxBoxes?: number;
  /** IoU above which NMS drops the lower-scored box (default 0.5). */
  nmsIou?: number;
  /** Pixels that belong to the map (non-zero = covered); default all finite pixels. */
  mask?: ArrayLike<number>;
}

/**
 * The q-quantile with linear interpolation between order statistics (numpy's default "linear"
 * method): position q (n - 1) in the sorted values. Non-finite values and pixels outside `mask`
 * are ignored. NaN when nothing is left. Uses selection (expected O(n)), not a full sort: a
 * 4096 px map has 16 M values.
 */
export function quantile(values: ArrayLike<number>, q: number, mask?: ArrayLike<number>): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  let n = 0;
  const kept = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (mask && !mask[i]) continue;
    const v = values[i];
    if (Number.isFinite(v)) kept[n++] = v;
  }
  if (n === 0) return NaN;
  const a = kept.subarray(0, n);
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const vLo = selectKth(a, lo);
  if (lo + 1 >= n || pos === lo) return vLo;
  // after selection every value right of `lo` is >= vLo: the next order statistic is their minimum
  let vHi = Infinity;
  for (let i = lo + 1; i < n; i++) if (a[i] < vHi) vHi = a[i];
  return vLo + (pos - lo) * (vHi - vLo);
}

/**
 * The k-th smallest value (0-based) of `a`, rearranging `a` so that a[k] holds it, values left of
 * k are <= it and values right of k are >= it. Quickselect with a three-way partition (fast on the
 * many ties of a heat map) and a deterministic middle pivot. Hand-written: no selection routine
 * in the project's dependencies.
 */
export function selectKth(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    // median of three as pivot
    const mid = (left + right) >>> 1;
    const x = a[left];
    const y = a[mid];
    const z = a[right];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    // three-way partition: [left, lt) < pivot, [lt, i) == pivot, (gt, right] > pivot
    let lt = left;
    let gt = right;
    let i = left;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i] = a[lt];
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    if (k < lt) right = lt - 1;
    else if (k > gt) left = gt + 1;
    else return a[k];
  }
  return a[k];
}

export function boxArea(b: BoxPx): number {
  return Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);
}

/** Intersection over union of two boxes (0 when both are empty). */
export function iou(a: BoxPx, b: BoxPx): number {
  const iw = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const ih = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression: boxes in decreasing score order; a box is kept unless its IoU
 * with an already kept box is above `iouThreshold`. Returns the kept boxes, best first.
 */
export function nms<B extends ScoredBox>(boxes: readonly B[], iouThreshold: number): B[] {
  const order = [...boxes].sort((a, b) => b.score - a.score);
  const kept: B[] = [];
  for (const b of order) {
    if (kept.every((k) => iou(k, b) <= iouThreshold)) kept.push(b);
  }
  return kept;
}

/** Sum of a square-or-rectangular map over a box (integer pixel edges, clipped). */
export function sumInBox(map: ArrayLike<number>, widthPx: number, heightPx: number, b: BoxPx): number {
  let s = 0;
  const x0 = Math.max(0, Math.floor(b.x0));
  const y0 = Math.max(0, Math.floor(b.y0));
  const x1 = Math.min(widthPx, Math.ceil(b.x1));
  const y1 = Math.min(heightPx, Math.ceil(b.y1));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = map[y * widthPx + x];
      if (Number.isFinite(v)) s += v;
    }
  }
  return s;
}

/** Boxes from a square map of side `sizePx` by the protocol above. */
export function boxesFromHeatmap(map: Float32Array, sizePx: number, opts: BoxOptions = {}): ScoredBox[] {
  if (map.length !== sizePx * sizePx) throw new Error(`boxesFromHeatmap: map of ${map.length} values is not ${sizePx} x ${sizePx}`);
  const q = opts.quantile ?? 0.95;
  const minArea = opts.minAreaPx ?? 1024;
  const maxBoxes = opts.maxBoxes ?? 100;
  const nmsIou = opts.nmsIou ?? 0.5;
  const threshold = quantile(map, q, opts.mask);
  if (!Number.isFinite(threshold)) return [];
  const binary = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) {
    if (opts.mask && !opts.mask[i]) continue;
    if (map[i] >= threshold) binary[i] = 1;
  }
  const { components } = labelComponents(binary, sizePx, sizePx);
  const scored: ScoredBox[] = [];
  for (const c of components) {
    if (c.areaPx < minArea || boxArea(c) < minArea) continue;
    scored.push({ x0: c.x0, y0: c.y0, x1: c.x1, y1: c.y1, score: sumInBox(map, sizePx, sizePx, c) });
  }
  return nms(scored, nmsIou).slice(0, maxBoxes);
}
