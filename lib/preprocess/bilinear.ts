/**
 * Bilinear enlargement of a 16-bit grey image, centre-aligned: output pixel (x, y) samples the
 * input at ((x + 0.5) * W / outW - 0.5, (y + 0.5) * H / outH - 0.5) in pixel-index coordinates,
 * with the edge pixels replicated. This is OpenCV's INTER_LINEAR geometry, and the one the
 * tiling transform records (a working pixel's centre maps to (xw + 0.5) / scale in the square).
 *
 * Hand-written rather than sharp: libvips enlarges through its affine transform with the
 * bilinear interpolator, which samples at x * W / outW - 0.5 (half an output pixel off the
 * centre mapping above), and took ~250-300 ms for a 3300 -> 4096 working image here, about twice
 * this. Values are rounded half up to integers.
 *
 * The core also reads a sub-rectangle of a larger image through a horizontal flip and pads it
 * with zeros ("placed" input), so that preprocessing enlarges its crop straight from the
 * decoded image, without building the padded square first.
 */

/** An axis of the input as the core reads it: the output's taps and their weights. */
interface Axis {
  /** Source offset of each output position's two taps (columns: within a row; rows: row starts). */
  off0: Int32Array;
  off1: Int32Array;
  /** Their weights; 0 for a tap in the zero padding. */
  w0: Float64Array;
  w1: Float64Array;
}

/**
 * Taps for output positions [from, to) of an axis enlarged from `inSize` to `outSize`, the input
 * index clamped to [0, inSize). Input index i is read at `offset(i)`, or is padding (weight 0)
 * when `offset(i)` is -1.
 */
function axis(inSize: number, outSize: number, from: number, to: number, offset: (i: number) => number): Axis {
  const n = to - from;
  const off0 = new Int32Array(n);
  const off1 = new Int32Array(n);
  const w0 = new Float64Array(n);
  const w1 = new Float64Array(n);
  const step = inSize / outSize;
  for (let k = 0; k < n; k++) {
    const p = (from + k + 0.5) * step - 0.5;
    let i = Math.floor(p);
    let a = p - i;
    if (i < 0) {
      i = 0;
      a = 0;
    }
    if (i >= inSize - 1) {
      i = inSize - 1;
      a = 0;
    }
    const o0 = offset(i);
    const o1 = a > 0 ? offset(i + 1) : -1;
    off0[k] = o0 < 0 ? 0 : o0;
    w0[k] = o0 < 0 ? 0 : 1 - a;
    off1[k] = o1 < 0 ? off0[k] : o1;
    w1[k] = o1 < 0 ? 0 : a;
  }
  return { off0, off1, w0, w1 };
}

/** Where the enlarged input lies in a source image, and how its values are scaled. */
export interface PlacedInput {
  /** The source image (row-major) and its width. */
  source: Uint16Array;
  sourceWidthPx: number;
  /** Input side (the square being enlarged): its pixel (c + padX, r + padY) is source pixel
   * (x0 + c or, flipped, x0 - c, y0 + r) for c < width, r < height; the rest is 0. */
  widthPx: number;
  heightPx: number;
  region: { x0: number; y0: number; width: number; height: number; padX: number; padY: number; flipped: boolean };
  /** Output value = round((interpolated - offset) * gain), padding -> 0. Every value read from the
   * region must lie in [offset, offset + 65535 / gain] (preprocessing: the crop's min and max). */
  offset: number;
  gain: number;
}

/** Enlarge a placed input (see PlacedInput) to outWidthPx x outHeightPx; only the window is computed, the rest is 0. */
export function enlargePlaced(
  input: PlacedInput,
  outWidthPx: number,
  outHeightPx: number,
  window: { x0: number; y0: number; x1: number; y1: number } = { x0: 0, y0: 0, x1: outWidthPx, y1: outHeightPx },
): Uint16Array {
  const { source, sourceWidthPx: SW, widthPx: W, heightPx: H, region: g, offset, gain } = input;
  if (outWidthPx < W || outHeightPx < H)
    throw new Error(`enlargeBilinear16: ${W} x ${H} -> ${outWidthPx} x ${outHeightPx} is not an enlargement`);
  const out = new Uint16Array(outWidthPx * outHeightPx);
  const wx0 = Math.max(0, Math.floor(window.x0));
  const wy0 = Math.max(0, Math.floor(window.y0));
  const wx1 = Math.min(outWidthPx, Math.ceil(window.x1));
  const wy1 = Math.min(outHeightPx, Math.ceil(window.y1));
  if (wx1 <= wx0 || wy1 <= wy0) return out;
  const cols = axis(W, outWidthPx, wx0, wx1, (i) => {
    const c = i - g.padX;
    return c < 0 || c >= g.width ? -1 : g.flipped ? g.x0 - c : g.x0 + c;
  });
  const rows = axis(H, outHeightPx, wy0, wy1, (i) => {
    const r = i - g.padY;
    return r < 0 || r >= g.height ? -1 : (g.y0 + r) * SW;
  });
  const n = wx1 - wx0;
  const { off0: c0, off1: c1, w0: cw0, w1: cw1 } = cols;
  // the offset enters per tap (sum of weights x offset), so that padding stays 0 after scaling
  const bias = new Float64Array(n);
  for (let k = 0; k < n; k++) bias[k] = offset * (cw0[k] + cw1[k]);
  // Horizontal pass of a source row into a float row of the window's width; the two rows an
  // output row reads are kept, and each source row is interpolated once (rows only advance
  // when enlarging).
  const rowA = new Float64Array(n);
  const rowB = new Float64Array(n);
  let haveA = -1;
  let haveB = -1;
  /** The horizontal pass of row `base`, computed into the slot that does not hold `keep`. */
  const row = (base: number, keep: number): Float64Array => {
    if (haveA === base) return rowA;
    if (haveB === base) return rowB;
    if (haveA === keep) {
      horizontalPass(source, base, c0, c1, cw0, cw1, bias, rowB, n);
      haveB = base;
      return rowB;
    }
    horizontalPass(source, base, c0, c1, cw0, cw1, bias, rowA, n);
    haveA = base;
    return rowA;
  };
  // No clamping: the weights are >= 0 and sum to at most 1 per axis, so with the caller's values
  // in [offset, offset + 65535 / gain] every output lies in [0, 65535] (+ 0.5 before the store's
  // truncation, which rounds half up, stays below 65536).
  for (let k = 0; k < wy1 - wy0; k++) {
    const a = rows.w0[k] * gain;
    const b = rows.w1[k] * gain;
    if (a === 0 && b === 0) continue; // both rows in the padding
    const o = (wy0 + k) * outWidthPx + wx0;
    const r0 = rows.off0[k];
    const r1 = rows.off1[k];
    // Uint16Array stores truncate: + 0.5 rounds half up
    if (a === 0 || b === 0) {
      // one row (an edge, or the other tap in the padding): only that row is interpolated
      const only = row(a === 0 ? r1 : r0, -1);
      verticalPass(out, o, only, a === 0 ? b : a, only, 0, n);
      continue;
    }
    verticalPass(out, o, row(r0, r1), a, row(r1, r0), b, n);
  }
  return out;
}

// The two passes are small top-level functions of typed-array arguments, which V8 optimises on
// their own and early (inside enlargePlaced, as closures over its locals, the enlargement took
// about a third longer).

/** dst[k] = w0[k] source[base + c0[k]] + w1[k] source[base + c1[k]] - bias[k] for k < n. */
function horizontalPass(source: Uint16Array, base: number, c0: Int32Array, c1: Int32Array, w0: Float64Array, w1: Float64Array, bias: Float64Array, dst: Float64Array, n: number): void {
  for (let k = 0; k < n; k++) dst[k] = w0[k] * source[base + c0[k]] + w1[k] * source[base + c1[k]] - bias[k];
}

/** out[o + j] = A[j] a + B[j] b + 0.5 for j < n (the Uint16Array store truncates: rounds half up). */
function verticalPass(out: Uint16Array, o: number, A: Float64Array, a: number, B: Float64Array, b: number, n: number): void {
  for (let j = 0; j < n; j++) out[o + j] = A[j] * a + B[j] * b + 0.5;
}

/**
 * Enlarge `pixels` (widthPx x heightPx, row-major) to outWidthPx x outHeightPx. Only the output
 * window [x0, x1) x [y0, y1) is computed; the rest of the output is 0. Both output sides must be
 * at least the input's.
 */
export function enlargeBilinear16(
  pixels: Uint16Array,
  widthPx: number,
  heightPx: number,
  outWidthPx: number,
  outHeightPx: number,
  window?: { x0: number; y0: number; x1: number; y1: number },
): Uint16Array {
  if (pixels.length !== widthPx * heightPx) throw new Error(`enlargeBilinear16: ${pixels.length} pixels for ${widthPx} x ${heightPx}`);
  const region = { x0: 0, y0: 0, width: widthPx, height: heightPx, padX: 0, padY: 0, flipped: false };
  return enlargePlaced({ source: pixels, sourceWidthPx: widthPx, widthPx, heightPx, region, offset: 0, gain: 1 }, outWidthPx, outHeightPx, window);
}
