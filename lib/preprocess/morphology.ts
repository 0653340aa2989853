/**
 * Image operations for the breast mask, on plain typed arrays (row-major, width x height).
 *
 * Written by hand: no maintained npm package does Otsu, binary morphology, connected components
 * and hole filling on 16-bit / float typed arrays without pulling in a heavy runtime (OpenCV
 * wasm) or converting to 8-bit; these are short and tested against hand-made inputs.
 */

import type { BoxPx } from "../types";

/** Separable Gaussian blur (edges replicated). Returns a new Float32Array. */
export function gaussianBlur(src: ArrayLike<number>, widthPx: number, heightPx: number, sigmaPx: number): Float32Array {
  const n = widthPx * heightPx;
  const out = new Float32Array(n);
  if (!(sigmaPx > 0)) {
    for (let i = 0; i < n; i++) out[i] = src[i];
    return out;
  }
  const radius = Math.max(1, Math.ceil(3 * sigmaPx));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const v = Math.exp(-(k * k) / (2 * sigmaPx * sigmaPx));
    kernel[k + radius] = v;
    sum += v;
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const tmp = new Float32Array(n);
  for (let y = 0; y < heightPx; y++) {
    const row = y * widthPx;
    for (let x = 0; x < widthPx; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const xx = x + k < 0 ? 0 : x + k >= widthPx ? widthPx - 1 : x + k;
        acc += kernel[k + radius] * src[row + xx];
      }
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < heightPx; y++) {
    for (let x = 0; x < widthPx; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const yy = y + k < 0 ? 0 : y + k >= heightPx ? heightPx - 1 : y + k;
        acc += kernel[k + radius] * tmp[yy * widthPx + x];
      }
      out[y * widthPx + x] = acc;
    }
  }
  return out;
}

/**
 * Otsu's threshold on a histogram: the bin index t maximising the between-class variance of
 * {bins < t} and {bins >= t}. Returns t in [1, bins - 1] (0 when the histogram is constant).
 */
export function otsuThresholdBin(histogram: ArrayLike<number>): number {
  const bins = histogram.length;
  let total = 0;
  let sumAll = 0;
  for (let i = 0; i < bins; i++) {
    total += histogram[i];
    sumAll += i * histogram[i];
  }
  if (total === 0) return 0;
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestT = 0;
  for (let t = 1; t < bins; t++) {
    w0 += histogram[t - 1];
    sum0 += (t - 1) * histogram[t - 1];
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return bestT;
}

/**
 * Otsu's threshold on values: histogram of `bins` bins over [min, max]; returns the value
 * threshold (a value v is foreground when v >= threshold).
 */
export function otsuThreshold(values: ArrayLike<number>, bins = 1024): number {
  if (values.length === 0) return -Infinity;
  const { hist, edge } = valueHistogram(values, bins);
  // all values equal: valueHistogram puts them in bin 0, and the threshold is that value
  return edge(hist[0] === values.length ? 0 : otsuThresholdBin(hist));
}

/**
 * Binary erosion or dilation with a (2r+1) x (2r+1) square, done as two separable 1-D passes.
 * Outside the image counts as background (so erosion eats from the border, dilation does not
 * grow from it).
 */
function morph(mask: Uint8Array, widthPx: number, heightPx: number, radiusPx: number, dilate: boolean): Uint8Array {
  if (radiusPx <= 0) return mask.slice();
  const tmp = new Uint8Array(mask.length);
  const out = new Uint8Array(mask.length);
  // Running count of set pixels in the window: O(n) regardless of the radius.
  const pass = (src: Uint8Array, dst: Uint8Array, len: number, lines: number, stride: number, step: number): void => {
    const win = 2 * radiusPx + 1;
    for (let l = 0; l < lines; l++) {
      const base = l * stride;
      let count = 0;
      for (let k = 0; k < Math.min(radiusPx, len); k++) count += src[base + k * step];
      for (let i = 0; i < len; i++) {
        const add = i + radiusPx;
        if (add < len) count += src[base + add * step];
        const drop = i - radiusPx - 1;
        if (drop >= 0) count -= src[base + drop * step];
        dst[base + i * step] = dilate ? (count > 0 ? 1 : 0) : count === win ? 1 : 0;
      }
    }
  };
  const bin = mask.map((v) => (v ? 1 : 0));
  pass(bin, tmp, widthPx, heightPx, widthPx, 1);
  pass(tmp, out, heightPx, widthPx, 1, widthPx);
  return out;
}

export function erode(mask: Uint8Array, widthPx: number, heightPx: number, radiusPx: number): Uint8Array {
  return morph(mask, widthPx, heightPx, radiusPx, false);
}

export function dilate(mask: Uint8Array, widthPx: number, heightPx: number, radiusPx: number): Uint8Array {
  return morph(mask, widthPx, heightPx, radiusPx, true);
}

/** One connected component: its bounding box [x0, x1) x [y0, y1) and its pixel count. */
export interface Component extends BoxPx {
  areaPx: number;
}

/**
 * Connected components of the set (non-zero) pixels of a `widthPx x heightPx` image, 4- or
 * 8-connected. Returns the label image (0 = background; labels 1..k in raster order of each
 * component's first pixel) and per component (components[label - 1]) its bounding box and pixel
 * count. Flood fill with an explicit stack: O(pixels). The one labelling of the project (the
 * breast mask, heat-map boxes).
 */
export function labelComponents(
  mask: ArrayLike<number>,
  widthPx: number,
  heightPx: number,
  connectivity: 4 | 8 = 8,
): { labels: Int32Array; components: Component[] } {
  if (mask.length !== widthPx * heightPx) throw new Error(`labelComponents: ${mask.length} pixels is not ${widthPx} x ${heightPx}`);
  const labels = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  const components: Component[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = components.length + 1;
    const c: Component = { x0: widthPx, y0: heightPx, x1: 0, y1: 0, areaPx: 0 };
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const p = stack[--top];
      const x = p % widthPx;
      const y = (p - x) / widthPx;
      c.areaPx++;
      if (x < c.x0) c.x0 = x;
      if (y < c.y0) c.y0 = y;
      if (x + 1 > c.x1) c.x1 = x + 1;
      if (y + 1 > c.y1) c.y1 = y + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= heightPx) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if (dx === 0 && dy === 0) continue;
          if (connectivity === 4 && dx !== 0 && dy !== 0) continue;
          const xx = x + dx;
          if (xx < 0 || xx >= widthPx) continue;
          const q = yy * widthPx + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
    components.push(c);
  }
  return { labels, components };
}

/** Keep only the largest 8-connected component (ties: the first in raster order). */
export function largestComponent(mask: Uint8Array, widthPx: number, heightPx: number): Uint8Array {
  const { labels, components } = labelComponents(mask, widthPx, heightPx, 8);
  const out = new Uint8Array(mask.length);
  if (components.length === 0) return out;
  let best = 1;
  for (let l = 2; l <= components.length; l++) if (components[l - 1].areaPx > components[best - 1].areaPx) best = l;
  for (let i = 0; i < out.length; i++) out[i] = labels[i] === best ? 1 : 0;
  return out;
}

/** Fill holes: background not 4-connected to the image border becomes foreground. */
export function fillHoles(mask: Uint8Array, widthPx: number, heightPx: number): Uint8Array {
  const outside = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  let top = 0;
  const seed = (p: number): void => {
    if (!mask[p] && !outside[p]) {
      outside[p] = 1;
      stack[top++] = p;
    }
  };
  for (let x = 0; x < widthPx; x++) {
    seed(x);
    seed((heightPx - 1) * widthPx + x);
  }
  for (let y = 0; y < heightPx; y++) {
    seed(y * widthPx);
    seed(y * widthPx + widthPx - 1);
  }
  while (top > 0) {
    const p = stack[--top];
    const x = p % widthPx;
    const y = (p - x) / widthPx;
    if (x > 0) seed(p - 1);
    if (x < widthPx - 1) seed(p + 1);
    if (y > 0) seed(p - widthPx);
    if (y < heightPx - 1) seed(p + widthPx);
  }
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = outside[i] ? 0 : 1;
  return out;
}

/** Bounding box [x0, x1) x [y0, y1) of the set pixels, or null when empty. */
export function maskBoundingBox(
  mask: Uint8Array,
  widthPx: number,
  heightPx: number,
): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = widthPx;
  let y0 = heightPx;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < heightPx; y++) {
    const row = y * widthPx;
    for (let x = 0; x < widthPx; x++) {
      if (mask[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Intersection over union of two masks of the same size. */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`maskIoU: sizes differ (${a.length} vs ${b.length})`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] ? 1 : 0;
    const q = b[i] ? 1 : 0;
    inter += p & q;
    union += p | q;
  }
  return union === 0 ? 1 : inter / union;
}

/**
 * Three-class Otsu on a histogram: bin indices t1 < t2 maximising the between-class variance of
 * {bins < t1}, {t1 <= bins < t2}, {bins >= t2} (exhaustive search, O(bins^2)).
 */
export function otsuThresholdBins3(histogram: ArrayLike<number>): [number, number] {
  const bins = histogram.length;
  const P = new Float64Array(bins + 1);
  const S = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i++) {
    P[i + 1] = P[i] + histogram[i];
    S[i + 1] = S[i] + i * histogram[i];
  }
  const total = P[bins];
  if (total === 0) return [0, 0];
  // Between-class variance = sum_k S_k^2 / P_k - S^2 / total; the last term is constant.
  const term = (a: number, b: number): number => {
    const w = P[b] - P[a];
    if (w <= 0) return -Infinity;
    const s = S[b] - S[a];
    return (s * s) / w;
  };
  let best = -Infinity;
  let bt: [number, number] = [0, 0];
  for (let t1 = 1; t1 < bins - 1; t1++) {
    const a = term(0, t1);
    if (a === -Infinity) continue;
    for (let t2 = t1 + 1; t2 < bins; t2++) {
      const b = term(t1, t2);
      const c = term(t2, bins);
      if (b === -Infinity || c === -Infinity) continue;
      const v = a + b + c;
      if (v > best) {
        best = v;
        bt = [t1, t2];
      }
    }
  }
  return bt;
}

/** Histogram of `bins` bins over [min, max] of the values, with the value of a bin edge. */
export function valueHistogram(values: ArrayLike<number>, bins: number): { hist: Float64Array; edge: (bin: number) => number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const hist = new Float64Array(bins);
  if (!(hi > lo)) {
    hist[0] = values.length;
    return { hist, edge: () => lo };
  }
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    let b = Math.floor((values[i] - lo) * scale);
    if (b >= bins) b = bins - 1;
    hist[b]++;
  }
  return { hist, edge: (bin) => lo + bin / scale };
}
