import type { TileRecord, TilingParams } from "../types";

/** Top-left corner of a tile in the working frame. */
export interface TileOrigin {
  xPx: number;
  yPx: number;
}

/**
 * Tile start positions along one axis: stride = round(tileSizePx x (1 - overlap)); the last tile
 * is aligned to the far edge so that nothing is cut off (it may overlap its neighbour more).
 * An axis shorter than a tile gets one tile at 0 (the crop is zero-padded).
 */
export function gridPositions(sizePx: number, tileSizePx: number, overlap: number): number[] {
  if (!(tileSizePx > 0) || !Number.isInteger(tileSizePx)) throw new Error(`gridPositions: bad tile size ${tileSizePx}`);
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`gridPositions: overlap must be in [0, 1), got ${overlap}`);
  if (sizePx <= tileSizePx) return [0];
  const stride = Math.max(1, Math.round(tileSizePx * (1 - overlap)));
  const out: number[] = [];
  for (let p = 0; p + tileSizePx < sizePx; p += stride) out.push(p);
  out.push(sizePx - tileSizePx);
  return out;
}

/** Uniform grid covering the square working image, row by row (y outer, x inner). */
export function gridTiles(workingSizePx: number, tileSizePx: number, overlap: number): TileOrigin[] {
  const pos = gridPositions(workingSizePx, tileSizePx, overlap);
  const out: TileOrigin[] = [];
  for (const yPx of pos) for (const xPx of pos) out.push({ xPx, yPx });
  return out;
}

/** Summed-area table (size (w+1) x (h+1)) for O(1) rectangle sums. */
export function integralImage(values: ArrayLike<number>, widthPx: number, heightPx: number): Float64Array {
  const w1 = widthPx + 1;
  const ii = new Float64Array(w1 * (heightPx + 1));
  for (let y = 0; y < heightPx; y++) {
    let row = 0;
    for (let x = 0; x < widthPx; x++) {
      row += values[y * widthPx + x];
      ii[(y + 1) * w1 + x + 1] = ii[y * w1 + x + 1] + row;
    }
  }
  return ii;
}

/** Sum over [x0, x1) x [y0, y1) from an integral image (clipped to the image). */
export function rectSum(ii: Float64Array, widthPx: number, heightPx: number, x0: number, y0: number, x1: number, y1: number): number {
  const w1 = widthPx + 1;
  const a = Math.max(0, Math.min(widthPx, x0));
  const b = Math.max(0, Math.min(heightPx, y0));
  const c = Math.max(0, Math.min(widthPx, x1));
  const d = Math.max(0, Math.min(heightPx, y1));
  if (c <= a || d <= b) return 0;
  return ii[d * w1 + c] - ii[b * w1 + c] - ii[d * w1 + a] + ii[b * w1 + a];
}

/**
 * Set pixels of a 0/1 mask (square, side n; only 0s and 1s) in the tile [x, x + T) x [y, y + T),
 * clipped to the image. Counted directly: the tiles of a grid cover the image about once, so this reads each
 * mask byte about once, where an integral image would be a float64 pass over every pixel.
 */
function maskCount(mask: Uint8Array, n: number, xPx: number, yPx: number, T: number): number {
  const x0 = Math.max(0, xPx);
  const x1 = Math.min(n, xPx + T);
  const y0 = Math.max(0, yPx);
  const y1 = Math.min(n, yPx + T);
  let count = 0;
  // four 0/1 bytes at a time where they are aligned: their sum is the top byte of word x 0x01010101
  const words = mask.byteOffset % 4 === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, mask.length >> 2) : null;
  for (let y = y0; y < y1; y++) {
    const row = y * n;
    let i = row + x0;
    const end = row + x1;
    if (words) {
      for (; i < end && i % 4 !== 0; i++) count += mask[i];
      for (; i + 4 <= end; i += 4) count += Math.imul(words[i >> 2], 0x01010101) >>> 24;
    }
    for (; i < end; i++) count += mask[i];
  }
  return count;
}

export type TileSelectParams = Pick<TilingParams, "tileSizePx" | "overlap" | "tissueRule" | "minTissueFraction" | "meanIntensityFactor">;

/**
 * Kept tiles of a working image (square, side sqrt(length)).
 * - "maskFraction" (default): keep a tile when its mask fraction is > 0 and >= minTissueFraction.
 *   With minTissueFraction = 0 every tile touching the breast is kept, so every tissue pixel lies
 *   in a kept tile (the coverage guarantee the downstream stages rely on).
 * - "meanIntensity" (the authors' rule): keep a tile when its mean > factor x the image max.
 * tissueFraction is always the mask fraction (over the tile's full area; zero padding counts as
 * background).
 */
export function selectTiles(working: Uint16Array, mask: Uint8Array, params: TileSelectParams): TileRecord[] {
  const n = Math.round(Math.sqrt(working.length));
  if (n * n !== working.length) throw new Error(`selectTiles: working image is not square (${working.length} pixels)`);
  if (mask.length !== working.length) throw new Error(`selectTiles: mask has ${mask.length} pixels, image ${working.length}`);
  const T = params.tileSizePx;
  const area = T * T;
  let intensityII: Float64Array | null = null;
  let maxV = 0;
  if (params.tissueRule === "meanIntensity") {
    intensityII = integralImage(working, n, n);
    for (let i = 0; i < working.length; i++) if (working[i] > maxV) maxV = working[i];
  } else if (params.tissueRule !== "maskFraction") {
    throw new Error(`selectTiles: unknown tissue rule "${String(params.tissueRule)}"`);
  }
  const out: TileRecord[] = [];
  for (const { xPx, yPx } of gridTiles(n, T, params.overlap)) {
    const tissueFraction = maskCount(mask, n, xPx, yPx, T) / area;
    let keep: boolean;
    if (intensityII) {
      const mean = rectSum(intensityII, n, n, xPx, yPx, xPx + T, yPx + T) / area;
      keep = mean > params.meanIntensityFactor * maxV;
    } else {
      keep = tissueFraction > 0 && tissueFraction >= params.minTissueFraction;
    }
    if (keep) out.push({ xPx, yPx, sizePx: T, tissueFraction });
  }
  return out;
}
