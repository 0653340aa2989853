import type { TileRecord } from "../types";

/**
 * Cut one tile out of a square 16-bit working image (outside the image reads as 0), optionally
 * resampled to outSizePx with an exact area average (each output pixel = the coverage-weighted
 * mean of the input pixels under it; for upscaling this is nearest-like).
 *
 * Hand-written rather than sharp: it is synchronous and cheap for one tile, and the embed stage
 * calls it in its inner loop; when outSizePx equals the tile size it is a plain copy.
 */
export function cropTile(
  working: Uint16Array,
  workingSizePx: number,
  tile: Pick<TileRecord, "xPx" | "yPx" | "sizePx">,
  outSizePx: number = tile.sizePx,
): Uint16Array {
  const n = workingSizePx;
  if (working.length !== n * n) throw new Error(`cropTile: image has ${working.length} pixels, expected ${n} x ${n}`);
  const T = tile.sizePx;
  const crop = new Uint16Array(T * T);
  for (let y = 0; y < T; y++) {
    const ys = tile.yPx + y;
    if (ys < 0 || ys >= n) continue;
    for (let x = 0; x < T; x++) {
      const xs = tile.xPx + x;
      if (xs >= 0 && xs < n) crop[y * T + x] = working[ys * n + xs];
    }
  }
  if (outSizePx === T) return crop;
  return areaResize(crop, T, outSizePx);
}

/** Area-average resize of a square image (side from -> side to). */
export function areaResize(src: Uint16Array, from: number, to: number): Uint16Array {
  if (!(to > 0) || !Number.isInteger(to)) throw new Error(`areaResize: bad output size ${to}`);
  // Per output index: the input spans and their weights along one axis.
  const spans: { i: number; w: number }[][] = [];
  const r = from / to;
  for (let o = 0; o < to; o++) {
    const a = o * r;
    const b = (o + 1) * r;
    const s: { i: number; w: number }[] = [];
    for (let i = Math.floor(a); i < Math.min(from, Math.ceil(b)); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 0) s.push({ i, w: w / r });
    }
    spans.push(s);
  }
  const tmp = new Float64Array(from * to);
  for (let y = 0; y < from; y++)
    for (let ox = 0; ox < to; ox++) {
      let acc = 0;
      for (const { i, w } of spans[ox]) acc += w * src[y * from + i];
      tmp[y * to + ox] = acc;
    }
  const out = new Uint16Array(to * to);
  for (let oy = 0; oy < to; oy++)
    for (let x = 0; x < to; x++) {
      let acc = 0;
      for (const { i, w } of spans[oy]) acc += w * tmp[i * to + x];
      out[oy * to + x] = Math.min(65535, Math.round(acc));
    }
  return out;
}
