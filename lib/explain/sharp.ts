import type { BoxPx } from "../types";
import type { TileRect } from "./heatmap";
import { attentionHeatmapWithCoverage } from "./heatmap";
import { boxArea, nms, quantile, type ScoredBox } from "./boxes";
import { labelComponents } from "../preprocess/morphology";
import { PROTOCOL_RESOLUTION_PX } from "./detection";

/**
 * The `sharp` box method: the same tile attention as the protocol, turned into boxes that fit
 * the lesion instead of the union of the tiles around it. Four independent options, each of
 * which can be switched back to the protocol's behaviour (see docs/EXPLAIN.md for the measured
 * comparison and `selectSharpParams` in select.ts for how the values are chosen on validation):
 *
 * 1. `overlap`: the tile overlap of the map (0.75 = the protocol's; 0.875 halves the stride).
 * 2. `iterations`: per-tile normalisation before averaging. Each tile's attention is spread over
 *    its pixels in proportion to the current map, normalised per tile so that the tile keeps
 *    exactly its own attention, then the per-pixel mean over the covering tiles is taken:
 *        s <- s * mean_{tiles i covering x} ( a_i / mean_{y in tile i} s(y) )
 *    (Richardson-Lucy / EM deconvolution with the tile box as kernel). From a flat start the
 *    first step is the protocol's plain overlap mean; more steps move each tile's attention to
 *    where its neighbours agree, i.e. onto the intersection of the hot tiles instead of their
 *    union. `iterations = 1` is the plain mean.
 * 3. `peakFraction`: a threshold relative to each component's peak instead of one global
 *    quantile. Local maxima (plateau-aware) are visited from the highest; each grows (8-connected,
 *    over pixels no earlier region took) over the pixels >= base + f (peak - base), base = the
 *    median of the map over the breast. `null` = the protocol's global 0.95 quantile.
 * 4. `momentK`: boxes from the attention-weighted second moments of each region (weights =
 *    height above base): centre +- k sigma per axis (k = sqrt(3) = the box of a uniform
 *    region). `null` = the region's bounding box (the protocol's).
 * Plus `source`: the map of the attention (the protocol's) or of the positive part of each tile's
 *   contribution to the logit (attention x the tile's value on the fusion weights: where the
 *   head saw cancer, not only where it looked).
 * And the score: `scoreBy` the region's mass (sum of height above base) or its peak height above
 *   base (a density: large diffuse regions do not outrank small sharp ones), times the bag
 *   probability of the head when `probabilityWeighted`, so that hot spots of breasts the head calls negative rank low
 *   (softmax attention sums to one in every breast). false = the mass alone.
 *
 * Minimum region size, NMS and the box cap are the protocol's (1024 px^2 at 4096 scaled, IoU 0.5,
 * 100 boxes). The map is computed at `mapScale` times the working resolution (boxes are returned
 * in working pixels).
 */
export interface SharpParams {
  /** What is mapped: the tiles' attention (the protocol's) or their positive contribution to the logit. */
  source: "attention" | "contribution";
  overlap: number;
  mapScale: number;
  iterations: number;
  peakFraction: number | null;
  momentK: number | null;
  /**
   * Smallest box side, in pixels at the protocol's 4096 px (scaled like the minimum area): a
   * box narrower or lower is grown about its centre to this side (clipped to the image). null =
   * no minimum. Why: where the head's attention saturates (a tile holding part of a large mass
   * is as hot as one holding all of it), the tiles' attention says where a lesion is but not
   * how large; the deconvolved map then collapses onto the lesion's centre and the box comes out
   * smaller than the lesion (docs/EXPLAIN.md, "Box size"). A side chosen on validation is the
   * size prior that remains.
   */
  minSideProtocolPx: number | null;
  /** Box score: the region's mass (sum of height above base; the protocol's summed attention) or its peak height above base. */
  scoreBy: "mass" | "peak";
  probabilityWeighted: boolean;
  /** Protocol constants (not tuned). */
  quantile: number;
  minAreaProtocolPx: number;
  maxBoxes: number;
  nmsIou: number;
}

/** The protocol's constants with every option off: reproduces the protocol's boxes at mapScale 1. */
export const PROTOCOL_LIKE: SharpParams = {
  source: "attention",
  overlap: 0.75,
  mapScale: 1,
  iterations: 1,
  peakFraction: null,
  momentK: null,
  minSideProtocolPx: null,
  scoreBy: "mass",
  probabilityWeighted: false,
  quantile: 0.95,
  minAreaProtocolPx: 1024,
  maxBoxes: 100,
  nmsIou: 0.5,
};

/**
 * Defaults, used when no selection is possible (a validation split without lesions) and by the
 * single-lesion test: half the protocol's stride, 60 EM steps, the global quantile, 2.5 sigma
 * boxes scored by peak x probability (the best entry on 50 validation breasts of the `paper`
 * preset, docs/EXPLAIN.md).
 */
export const SHARP_DEFAULTS: SharpParams = {
  ...PROTOCOL_LIKE,
  overlap: 0.875,
  mapScale: 0.25,
  iterations: 60,
  peakFraction: null,
  momentK: 2.5,
  scoreBy: "peak",
  probabilityWeighted: true,
};

/** Describe the options in one line (for tables and captions). */
export function describeSharp(p: SharpParams): string {
  return [
    ...(p.source === "contribution" ? ["positive contribution"] : []),
    `overlap ${p.overlap}`,
    p.iterations > 1 ? `per-tile normalisation x${p.iterations}` : "plain mean",
    p.peakFraction === null ? `global q${p.quantile}` : `peak-relative ${p.peakFraction}`,
    p.momentK === null ? "component box" : `moment box k=${p.momentK.toFixed(2)}`,
    ...(p.minSideProtocolPx ? [`side >= ${p.minSideProtocolPx} px at 4096`] : []),
    `score = ${p.scoreBy}${p.probabilityWeighted ? " x probability" : ""}`,
  ].join(", ");
}

/** A tile's edges on a map of side n (same rounding as attentionHeatmap). */
function tileOnMap(t: TileRect, scale: number, n: number): [number, number, number, number] {
  const c = (v: number): number => Math.min(n, Math.max(0, Math.round(v * scale)));
  return [c(t.xPx), c(t.yPx), c(t.xPx + t.sizePx), c(t.yPx + t.sizePx)];
}

/**
 * The per-tile-normalised map (option 2): `iterations` EM / Richardson-Lucy steps from a flat
 * start; iterations = 1 gives the plain overlap mean of attentionHeatmap exactly. Values >= 0
 * are required (attention is). Each step costs O(pixels + tiles) (summed-area table forward,
 * difference array back).
 */
export function redistributedMap(
  workingSizePx: number,
  tiles: readonly TileRect[],
  values: ArrayLike<number>,
  opts: { outSizePx: number; iterations: number },
): { values: Float32Array; coverage: Uint16Array; sizePx: number } {
  if (opts.iterations < 1 || !Number.isInteger(opts.iterations)) throw new Error(`redistributedMap: iterations must be an integer >= 1, got ${opts.iterations}`);
  for (let i = 0; i < values.length; i++) if (!(values[i] >= 0)) throw new Error(`redistributedMap: tile value ${i} is ${values[i]}; values must be >= 0`);
  const n = opts.outSizePx;
  const scale = n / workingSizePx;
  const first = attentionHeatmapWithCoverage(workingSizePx, tiles, Array.from(values), { outSizePx: n });
  let s = first.values;
  const rects = tiles.map((t) => tileOnMap(t, scale, n));
  const w = n + 1;
  const sat = new Float64Array(w * w);
  const ratio = new Array<number>(tiles.length);
  for (let it = 1; it < opts.iterations; it++) {
    // summed-area table of s
    for (let y = 0; y < n; y++) {
      let row = 0;
      for (let x = 0; x < n; x++) {
        row += s[y * n + x];
        sat[(y + 1) * w + x + 1] = sat[y * w + x + 1] + row;
      }
    }
    for (let i = 0; i < rects.length; i++) {
      const [x0, y0, x1, y1] = rects[i];
      const area = (x1 - x0) * (y1 - y0);
      if (area <= 0) {
        ratio[i] = 0;
        continue;
      }
      const mean = (sat[y1 * w + x1] - sat[y0 * w + x1] - sat[y1 * w + x0] + sat[y0 * w + x0]) / area;
      ratio[i] = mean > 1e-30 ? values[i] / mean : 0;
    }
    const back = attentionHeatmapWithCoverage(workingSizePx, tiles, ratio, { outSizePx: n }).values;
    const next = new Float32Array(n * n);
    for (let p = 0; p < next.length; p++) next[p] = s[p] * back[p];
    s = next;
  }
  return { values: s, coverage: first.coverage, sizePx: n };
}

/** A region of a map: its pixels and peak. */
export interface MapRegion {
  pixels: number[];
  peak: number;
}

/**
 * Regions grown from local maxima with a threshold relative to each peak (option 3): see the
 * module comment. Plateaus count as one maximum when no neighbour of the plateau is higher.
 */
export function peakRegions(map: ArrayLike<number>, sizePx: number, mask: ArrayLike<number>, fraction: number, base: number): MapRegion[] {
  const n = sizePx;
  const N = n * n;
  const order: number[] = [];
  for (let p = 0; p < N; p++) if (mask[p] && map[p] > base) order.push(p);
  order.sort((a, b) => map[b] - map[a] || a - b);
  const label = new Int32Array(N); // region index + 1
  const isMax = new Int8Array(N); // 0 unknown, 1 maximum plateau, -1 not
  const regions: MapRegion[] = [];
  const stack: number[] = [];
  const neighbours = (p: number, f: (q: number) => void): void => {
    const x = p % n;
    const y = (p - x) / n;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= n) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= n || (dx === 0 && dy === 0)) continue;
        const q = yy * n + xx;
        if (mask[q]) f(q);
      }
    }
  };
  for (const p of order) {
    if (label[p] !== 0) continue;
    if (isMax[p] === 0) {
      // the plateau of p: is any neighbour strictly higher?
      const v = map[p];
      const plateau = [p];
      isMax[p] = 2; // visiting
      let higher = false;
      for (let k = 0; k < plateau.length; k++) {
        neighbours(plateau[k], (q) => {
          if (map[q] > v) higher = true;
          else if (map[q] === v && isMax[q] === 0) {
            isMax[q] = 2;
            plateau.push(q);
          }
        });
      }
      for (const q of plateau) isMax[q] = higher ? -1 : 1;
    }
    if (isMax[p] !== 1) continue;
    const peak = map[p];
    const level = base + fraction * (peak - base);
    const r = regions.length + 1;
    const pixels: number[] = [];
    label[p] = r;
    stack.push(p);
    while (stack.length) {
      const q = stack.pop()!;
      pixels.push(q);
      neighbours(q, (u) => {
        if (label[u] === 0 && map[u] >= level) {
          label[u] = r;
          stack.push(u);
        }
      });
    }
    regions.push({ pixels, peak });
  }
  return regions;
}

/** Bounding box of region pixels on a map of side n ([x0, x1) x [y0, y1)). */
function extentBox(pixels: readonly number[], n: number): BoxPx {
  let x0 = n;
  let y0 = n;
  let x1 = 0;
  let y1 = 0;
  for (const p of pixels) {
    const x = p % n;
    const y = (p - x) / n;
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x + 1 > x1) x1 = x + 1;
    if (y + 1 > y1) y1 = y + 1;
  }
  return { x0, y0, x1, y1 };
}

/**
 * Box from the weighted second moments of a region (option 4): centre +- k sigma per axis, on
 * pixel centres (a uniform region of w pixels has sigma^2 = (w^2 - 1) / 12, so the 1/12 of a
 * pixel's own extent is added back), clipped to the map. Falls back to the extent when the
 * weights sum to 0.
 */
export function momentBox(pixels: readonly number[], weights: readonly number[], n: number, k: number): BoxPx {
  // sum of weights[i] * (x - cx)^power and the same in y, over the pixels' centres
  const moment = (power: number, cx: number, cy: number): [number, number] => {
    let mx = 0;
    let my = 0;
    for (let i = 0; i < pixels.length; i++) {
      const p = pixels[i];
      mx += weights[i] * ((p % n) + 0.5 - cx) ** power;
      my += weights[i] * (Math.floor(p / n) + 0.5 - cy) ** power;
    }
    return [mx, my];
  };
  let sw = 0;
  for (const w of weights) sw += w;
  if (!(sw > 0)) return extentBox(pixels, n);
  const [sx, sy] = moment(1, 0, 0);
  const cx = sx / sw;
  const cy = sy / sw;
  const [vx, vy] = moment(2, cx, cy);
  const hx = k * Math.sqrt(vx / sw + 1 / 12);
  const hy = k * Math.sqrt(vy / sw + 1 / 12);
  return { x0: Math.max(0, cx - hx), y0: Math.max(0, cy - hy), x1: Math.min(n, cx + hx), y1: Math.min(n, cy + hy) };
}

/** Grow a box about its centre so that each side is at least `side` (clipped to [0, n]). */
export function growToSide(b: BoxPx, side: number, n: number): BoxPx {
  const grow = (lo: number, hi: number): [number, number] => {
    if (hi - lo >= side) return [lo, hi];
    const c = (lo + hi) / 2;
    return [Math.max(0, c - side / 2), Math.min(n, c + side / 2)];
  };
  const [x0, x1] = grow(b.x0, b.x1);
  const [y0, y1] = grow(b.y0, b.y1);
  return { x0, y0, x1, y1 };
}

/** The regions of a map by option 3 (peak-relative) or the protocol's global quantile, and the map's base (its median over the mask). */
export interface MapRegions {
  regions: MapRegion[];
  base: number;
  sizePx: number;
}

/** Option 3 of `sharpBoxesFromMap`: the regions, which depend only on the map and `peakFraction` (and `quantile`). */
export function sharpRegions(map: Float32Array, sizePx: number, mask: ArrayLike<number>, p: Pick<SharpParams, "peakFraction" | "quantile">): MapRegions {
  const n = sizePx;
  const base = quantile(map, 0.5, mask);
  if (!Number.isFinite(base)) return { regions: [], base, sizePx: n };
  if (p.peakFraction !== null) return { regions: peakRegions(map, n, mask, p.peakFraction, base), base, sizePx: n };
  const thr = quantile(map, p.quantile, mask);
  const binary = new Uint8Array(n * n);
  for (let i = 0; i < binary.length; i++) if (mask[i] && map[i] >= thr) binary[i] = 1;
  const { labels, components } = labelComponents(binary, n, n);
  const px: number[][] = components.map(() => []);
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0) px[labels[i] - 1].push(i);
  return { regions: px.map((pixels) => ({ pixels, peak: pixels.reduce((m, q) => Math.max(m, map[q]), -Infinity) })), base, sizePx: n };
}

/** Option 4 and the scores of `sharpBoxesFromMap`: boxes of given regions, in map pixels. */
export function sharpBoxesFromRegions(map: Float32Array, r: MapRegions, p: SharpParams, probability = 1): ScoredBox[] {
  const n = r.sizePx;
  const k = n / PROTOCOL_RESOLUTION_PX;
  const minArea = p.minAreaProtocolPx * k * k;
  const boxes: ScoredBox[] = [];
  for (const region of r.regions) {
    if (region.pixels.length < minArea) continue;
    const weights = region.pixels.map((q) => Math.max(0, map[q] - r.base));
    const mass = weights.reduce((a, b) => a + b, 0);
    const b0 = p.momentK === null ? extentBox(region.pixels, n) : momentBox(region.pixels, weights, n, p.momentK);
    const b = p.minSideProtocolPx ? growToSide(b0, p.minSideProtocolPx * k, n) : b0;
    if (boxArea(b) < minArea) continue;
    const s = p.scoreBy === "peak" ? region.peak - r.base : mass;
    boxes.push({ ...b, score: s * (p.probabilityWeighted ? probability : 1) });
  }
  return nms(boxes, p.nmsIou).slice(0, p.maxBoxes);
}

/**
 * Boxes from a map by the sharp options 3 and 4 (and the protocol's constants), in map pixels.
 * `probability` multiplies the scores when `probabilityWeighted`.
 */
export function sharpBoxesFromMap(map: Float32Array, sizePx: number, mask: ArrayLike<number>, p: SharpParams, probability = 1): ScoredBox[] {
  return sharpBoxesFromRegions(map, sharpRegions(map, sizePx, mask, p), p, probability);
}

/** The per-tile values a SharpParams maps: attention, or max(0, contribution). */
export function sharpSource(p: Pick<SharpParams, "source">, attention: ArrayLike<number>, contribution?: ArrayLike<number>): ArrayLike<number> {
  if (p.source === "attention") return attention;
  if (!contribution) throw new Error("sharp: source 'contribution' needs the tiles' contributions");
  return Float32Array.from(contribution, (v) => (v > 0 ? v : 0));
}

/**
 * The sharp boxes of one image from its tiles and their attention (or contribution, by
 * `p.source`), in working pixels: the map (options 1-2 are in the tiles and `iterations`), then
 * `sharpBoxesFromMap`.
 */
export function sharpBoxes(
  workingSizePx: number,
  tiles: readonly TileRect[],
  attention: ArrayLike<number>,
  p: SharpParams,
  probability = 1,
  contribution?: ArrayLike<number>,
): { boxes: ScoredBox[]; map: Float32Array; coverage: Uint16Array; mapSizePx: number } {
  const values = sharpSource(p, attention, contribution);
  const n = Math.max(1, Math.round(workingSizePx * p.mapScale));
  if (tiles.length === 0) return { boxes: [], map: new Float32Array(n * n), coverage: new Uint16Array(n * n), mapSizePx: n };
  const m = redistributedMap(workingSizePx, tiles, values, { outSizePx: n, iterations: p.iterations });
  const back = workingSizePx / n;
  const boxes = sharpBoxesFromMap(m.values, n, m.coverage, p, probability).map((b) => ({ x0: b.x0 * back, y0: b.y0 * back, x1: b.x1 * back, y1: b.y1 * back, score: b.score }));
  return { boxes, map: m.values, coverage: m.coverage, mapSizePx: n };
}
