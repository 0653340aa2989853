/**
 * Presentation of stored pixel values (DICOM PS3.3 C.11): Modality LUT (rescale slope/intercept),
 * then the VOI LUT (a VOI LUT Sequence table, or a window with VOI LUT Function LINEAR,
 * LINEAR_EXACT or SIGMOID per C.11.2.1.2), then the MONOCHROME1 inversion. Output in [0, 1]:
 * 0 = dark (background), 1 = bright (dense tissue).
 */
import { DicomError } from "./errors";
import type { DicomImage } from "./types";

export type VoiLutFunction = "LINEAR" | "LINEAR_EXACT" | "SIGMOID";

export interface Window {
  center: number;
  width: number;
}

/**
 * One value through a window, output range [0, 1] (ymin = 0, ymax = 1), exactly per
 * PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT) and C.11.2.1.3.1 (SIGMOID).
 */
export function applyWindow(x: number, center: number, width: number, fn: VoiLutFunction = "LINEAR"): number {
  switch (fn) {
    case "LINEAR": {
      const lo = center - 0.5 - (width - 1) / 2;
      const hi = center - 0.5 + (width - 1) / 2;
      if (x <= lo) return 0;
      if (x > hi) return 1;
      return (x - (center - 0.5)) / (width - 1) + 0.5;
    }
    case "LINEAR_EXACT": {
      if (x <= center - width / 2) return 0;
      if (x > center + width / 2) return 1;
      return (x - center) / width + 0.5;
    }
    case "SIGMOID":
      return 1 / (1 + Math.exp((-4 * (x - center)) / width));
  }
}

/** Whether a window width is allowed for the function (LINEAR needs >= 1, the others > 0). */
export function isValidWindow(w: Window, fn: VoiLutFunction): boolean {
  return Number.isFinite(w.center) && Number.isFinite(w.width) && (fn === "LINEAR" ? w.width >= 1 : w.width > 0);
}

/**
 * One modality value through a VOI LUT table: values below the first mapped value take the first
 * entry, above the last take the last entry (PS3.3 C.11.2.1.1); output scaled by 2^bits - 1.
 */
export function applyVoiLut(x: number, lut: { firstMapped: number; bits: number; data: Uint16Array }): number {
  const n = lut.data.length;
  let idx = Math.round(x) - lut.firstMapped;
  if (idx < 0) idx = 0;
  else if (idx >= n) idx = n - 1;
  return lut.data[idx] / (2 ** lut.bits - 1);
}

export interface PresentationOptions {
  /**
   * Which VOI transform: "auto" (default) = the VOI LUT Sequence if present, else the first
   * valid window, else "minmax"; "lut"/"window" force one (error if absent); "minmax" maps the
   * range of non-padding modality values linearly.
   */
  voi?: "auto" | "lut" | "window" | "minmax";
  /** Use this window instead of the file's (implies voi "window"). */
  window?: Window;
  /** Which of the file's windows (default 0). */
  windowIndex?: number;
  /** Override the file's VOI LUT Function. */
  voiLutFunction?: VoiLutFunction;
  /** Padding pixels: "zero" (default) sets them to 0 (background), "keep" leaves them mapped. */
  padding?: "zero" | "keep";
}

/** Which VOI transform toPresentation applies, and with what values (for display/logging). */
export type VoiChoice =
  | { kind: "lut"; lut: NonNullable<DicomImage["voiLut"]> }
  | { kind: "window"; window: Window; fn: VoiLutFunction }
  | { kind: "minmax"; min: number; max: number };

/** Rescale slope/intercept applied to every stored value (the modality LUT). */
export function modalityValues(img: DicomImage): Float32Array {
  const out = new Float32Array(img.pixels.length);
  const m = img.rescaleSlope;
  const b = img.rescaleIntercept;
  for (let i = 0; i < out.length; i++) out[i] = img.pixels[i] * m + b;
  return out;
}

/** The VOI LUT or window that `opts` selects, or null when it comes down to min-max (which needs the pixels). */
function lutOrWindow(img: DicomImage, opts: PresentationOptions): VoiChoice | null {
  const fn = opts.voiLutFunction ?? img.voiLutFunction;
  if (opts.window) {
    if (!isValidWindow(opts.window, fn)) throw new DicomError(img.file, `window width ${opts.window.width} is not valid for ${fn}`);
    return { kind: "window", window: opts.window, fn };
  }
  const mode = opts.voi ?? "auto";
  if (mode === "lut" || (mode === "auto" && img.voiLut)) {
    if (!img.voiLut) throw new DicomError(img.file, "no VOI LUT Sequence (0028,3010) in the file");
    return { kind: "lut", lut: img.voiLut };
  }
  if (mode === "window" || mode === "auto") {
    const idx = opts.windowIndex ?? 0;
    const candidates = mode === "window" || opts.windowIndex !== undefined ? img.windows.slice(idx, idx + 1) : img.windows;
    const w = candidates.find((c) => isValidWindow(c, fn));
    if (w) return { kind: "window", window: w, fn };
    if (mode === "window") throw new DicomError(img.file, `no valid window ${idx} for ${fn} (the file has ${img.windows.length})`);
  }
  return null;
}

export function chooseVoi(img: DicomImage, opts: PresentationOptions = {}, modality?: Float32Array, mask?: Uint8Array): VoiChoice {
  const fixed = lutOrWindow(img, opts);
  if (fixed) return fixed;
  const pad = mask ?? paddingMask(img);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < img.pixels.length; i++) {
    if (pad[i]) continue;
    const v = modality ? modality[i] : img.pixels[i] * img.rescaleSlope + img.rescaleIntercept;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) {
    min = 0;
    max = 0;
  }
  return { kind: "minmax", min, max };
}

/**
 * Presentation values in [0, 1] (0 = dark/background, 1 = bright/dense; MONOCHROME1 already
 * inverted), one per pixel, row-major.
 */
export function toPresentation(img: DicomImage, opts: PresentationOptions = {}): Float32Array {
  const mask = paddingMask(img);
  const voi = chooseVoi(img, opts, undefined, mask);
  const out = new Float32Array(img.pixels.length);
  const zeroPadding = (opts.padding ?? "zero") === "zero";
  for (let i = 0; i < out.length; i++) out[i] = zeroPadding && mask[i] ? 0 : presentValue(img, voi, img.pixels[i]);
  return out;
}

/** One stored value through the modality LUT, the VOI transform and the MONOCHROME1 inversion. */
function presentValue(img: DicomImage, voi: VoiChoice, stored: number): number {
  const x = stored * img.rescaleSlope + img.rescaleIntercept; // modality LUT, in double precision
  let y: number;
  if (voi.kind === "window") y = applyWindow(x, voi.window.center, voi.window.width, voi.fn);
  else if (voi.kind === "lut") y = applyVoiLut(x, voi.lut);
  else y = voi.max > voi.min ? (x - voi.min) / (voi.max - voi.min) : 0;
  return img.photometric === "MONOCHROME1" ? 1 - y : y;
}

/** Presentation value in [0, 1] (as a Float32Array holds it) -> 16-bit: >= 1 -> 65535, <= 0 or NaN -> 0, else round(v x 65535). */
export function presentationToUint16(v: number): number {
  return v >= 1 ? 65535 : v > 0 ? Math.round(v * 65535) : 0;
}

/**
 * How many pixels hold each stored value: index = the stored value's 16 bits (a negative signed
 * value at 65536 + value). One pass over the pixels; toPresentationUint16 takes it so that two
 * presentations of one image (window, min-max) share it.
 */
export function storedValueHistogram(img: DicomImage): Uint32Array {
  const px = img.pixels;
  const u = px instanceof Uint16Array ? px : new Uint16Array(px.buffer, px.byteOffset, px.length);
  // four interleaved partial histograms: runs of one value (the background) would otherwise
  // make every increment wait for the one before
  const part = new Uint32Array(4 * 65536);
  const n4 = u.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    part[u[i]]++;
    part[65536 + u[i + 1]]++;
    part[131072 + u[i + 2]]++;
    part[196608 + u[i + 3]]++;
  }
  const hist = new Uint32Array(65536);
  for (let k = 0; k < 65536; k++) hist[k] = part[k] + part[65536 + k] + part[131072 + k] + part[196608 + k];
  for (let i = n4; i < u.length; i++) hist[u[i]]++;
  return hist;
}

/**
 * toPresentation as 16-bit values: presentationToUint16 of the Float32 value toPresentation
 * gives for each pixel (the same numbers, bit for bit). A pixel's value depends on its stored
 * value alone (padding is a range of stored values; min-max comes from the histogram), so the
 * value is worked out once per stored value present and the pixels are mapped through that
 * table: two passes over the pixels (the histogram, shareable, and the mapping) instead of the
 * VOI arithmetic per pixel.
 */
export function toPresentationUint16(img: DicomImage, opts: PresentationOptions = {}, histogram?: Uint32Array): Uint16Array {
  return toPresentationUint16Many(img, [opts], histogram)[0];
}

/**
 * toPresentationUint16 for several option sets at once: one table per set, and one pass over the
 * pixels that maps each stored value through all the tables (two sets: the window and min-max
 * values tiling reads). Sets whose tables are equal share one output array (read-only use).
 */
export function toPresentationUint16Many(img: DicomImage, optsList: readonly PresentationOptions[], histogram?: Uint32Array): Uint16Array[] {
  const hist = histogram ?? storedValueHistogram(img);
  if (hist.length !== 65536) throw new Error(`toPresentationUint16: histogram has ${hist.length} bins, expected 65536`);
  const signed = img.pixels instanceof Int16Array;
  const valueOf = (k: number): number => (signed && k > 32767 ? k - 65536 : k);
  // range of stored values present (as toPresentation's padding rule sees them)
  let minStored = Infinity;
  let maxStored = -Infinity;
  for (let k = 0; k < 65536; k++) {
    if (!hist[k]) continue;
    const v = valueOf(k);
    if (v < minStored) minStored = v;
    if (v > maxStored) maxStored = v;
  }
  const pad = paddingRange(img, minStored, maxStored);
  const isPad = (v: number): boolean => pad !== null && v >= pad[0] && v <= pad[1];
  const tables = optsList.map((opts) => {
    let voi = lutOrWindow(img, opts);
    if (!voi) {
      let min = Infinity;
      let max = -Infinity;
      for (let k = 0; k < 65536; k++) {
        if (!hist[k]) continue;
        const s = valueOf(k);
        if (isPad(s)) continue;
        const v = s * img.rescaleSlope + img.rescaleIntercept;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (min === Infinity) {
        min = 0;
        max = 0;
      }
      voi = { kind: "minmax", min, max };
    }
    const zeroPadding = (opts.padding ?? "zero") === "zero";
    const table = new Uint16Array(65536);
    const f32 = new Float32Array(1);
    for (let k = 0; k < 65536; k++) {
      if (!hist[k]) continue;
      const s = valueOf(k);
      f32[0] = zeroPadding && isPad(s) ? 0 : presentValue(img, voi, s);
      table[k] = presentationToUint16(f32[0]);
    }
    return table;
  });
  const px = img.pixels;
  const u = px instanceof Uint16Array ? px : new Uint16Array(px.buffer, px.byteOffset, px.length);
  // distinct tables (equal ones share an output)
  const distinct: Uint16Array[] = [];
  const which = tables.map((t) => {
    const k = distinct.findIndex((d) => d.every((v, i) => v === t[i]));
    if (k >= 0) return k;
    distinct.push(t);
    return distinct.length - 1;
  });
  const outs = distinct.map(() => new Uint16Array(u.length));
  if (distinct.length === 1 || distinct.length === 2) mapPairs(u, distinct[0], distinct[1] ?? distinct[0], outs[0], outs[1] ?? outs[0]);
  else
    for (let d = 0; d < distinct.length; d++) {
      const t = distinct[d];
      const o = outs[d];
      for (let i = 0; i < u.length; i++) o[i] = t[u[i]];
    }
  return which.map((k) => outs[k]);
}

/**
 * o0[i] = t0[u[i]] and o1[i] = t1[u[i]] (o1 may be o0 when t1 is t0). Hand-written for speed:
 * both tables in one 32-bit table (one lookup per pixel for two outputs), two pixels per
 * iteration as one 32-bit word in and one out per output, and the arrays passed in as arguments
 * of a small function that V8 optimises on its own. Per 3328 x 4096 image, optimised: ~28 ms
 * against ~62 ms for the loop per pixel with two lookups (first call, before V8 has optimised
 * it: ~62 against ~100 ms). Typed arrays at an odd 2-byte offset take the loop per pixel.
 */
function mapPairs(u: Uint16Array, t0: Uint16Array, t1: Uint16Array, o0: Uint16Array, o1: Uint16Array): void {
  const both = new Int32Array(65536);
  for (let k = 0; k < 65536; k++) both[k] = t0[k] | (t1[k] << 16);
  const aligned = u.byteOffset % 4 === 0 && o0.byteOffset % 4 === 0 && o1.byteOffset % 4 === 0;
  const m = aligned ? u.length >> 1 : 0;
  if (m > 0) mapWords(new Uint32Array(u.buffer, u.byteOffset, m), both, new Int32Array(o0.buffer, o0.byteOffset, m), new Int32Array(o1.buffer, o1.byteOffset, m), m);
  for (let i = 2 * m; i < u.length; i++) {
    const w = both[u[i]];
    o0[i] = w;
    o1[i] = w >>> 16;
  }
}

/** Word loop of mapPairs: each 32-bit word holds two pixels (little-endian: the first in the low half). When o1 is o0, the writes to it are the same words twice. */
function mapWords(uw: Uint32Array, both: Int32Array, w0: Int32Array, w1: Int32Array, m: number): void {
  for (let k = 0; k < m; k++) {
    const p = uw[k];
    const a = both[p & 0xffff];
    const b = both[p >>> 16];
    w0[k] = (a & 0xffff) | (b << 16);
    w1[k] = (a >>> 16) | (b & 0xffff0000);
  }
}

/**
 * Padding mask (1 = padding, 0 = image): stored values equal to Pixel Padding Value (or within
 * [Pixel Padding Value, Pixel Padding Range Limit] when that is given). Without those tags, the
 * most frequent border value is taken as padding when it covers at least half of the border and
 * is the image's minimum or maximum stored value (padding sits at an extreme of the range).
 */
export function paddingMask(img: DicomImage): Uint8Array {
  const px = img.pixels;
  const mask = new Uint8Array(px.length);
  const range = paddingRange(img);
  if (!range) return mask;
  const [lo, hi] = range;
  for (let i = 0; i < px.length; i++) if (px[i] >= lo && px[i] <= hi) mask[i] = 1;
  return mask;
}

/** The stored values that are padding, [lo, hi] inclusive, or null (see paddingMask). `min`/`max`:
 * the image's stored value range when the caller knows it (else it is scanned when needed). */
function paddingRange(img: DicomImage, min?: number, max?: number): [number, number] | null {
  if (img.pixelPaddingValue !== null) {
    let lo = img.pixelPaddingValue;
    let hi = img.pixelPaddingRangeLimit ?? lo;
    if (hi < lo) [lo, hi] = [hi, lo];
    return [lo, hi];
  }
  const v = dominantBorderValue(img, min, max);
  return v === null ? null : [v, v];
}

function dominantBorderValue(img: DicomImage, knownMin?: number, knownMax?: number): number | null {
  const { rows, columns, pixels: px } = img;
  const counts = new Map<number, number>();
  let total = 0;
  const add = (i: number): void => {
    counts.set(px[i], (counts.get(px[i]) ?? 0) + 1);
    total++;
  };
  for (let c = 0; c < columns; c++) {
    add(c);
    if (rows > 1) add((rows - 1) * columns + c);
  }
  for (let r = 1; r < rows - 1; r++) {
    add(r * columns);
    if (columns > 1) add(r * columns + columns - 1);
  }
  let best: number | null = null;
  let bestCount = 0;
  for (const [v, n] of counts) if (n > bestCount) [best, bestCount] = [v, n];
  if (best === null || bestCount * 2 < total) return null;
  let min = knownMin ?? Infinity;
  let max = knownMax ?? -Infinity;
  if (knownMin === undefined || knownMax === undefined) {
    for (let i = 0; i < px.length; i++) {
      if (px[i] < min) min = px[i];
      if (px[i] > max) max = px[i];
    }
  }
  return best === min || best === max ? best : null;
}
