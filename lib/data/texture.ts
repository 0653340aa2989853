import { Rng } from "../util/rng";

/**
 * Power-law ("1/f^beta") random textures for the synthetic fibroglandular tissue.
 *
 * Real mammographic background has a power spectrum that falls off roughly as 1/f^3. The
 * texture is made by filling a spectrum with complex Gaussian coefficients of amplitude
 * f^(-beta/2) and running ONE inverse 2D FFT; the real and the imaginary parts of the result are
 * two independent fields with that spectrum (one for each view of a breast). The FFT is written
 * by hand (iterative radix-2, ~40 lines): no installed package offers a plain CPU FFT on
 * Float64Arrays (tfjs has one, but inside its wasm heap with tensor overheads), and an exact
 * spectrum is easier to verify than a sum of smoothed-noise octaves.
 */

interface FftPlan {
  n: number;
  rev: Uint32Array;
  cos: Float64Array;
  sin: Float64Array;
}
const plans = new Map<number, FftPlan>();

function plan(n: number): FftPlan {
  let p = plans.get(n);
  if (!p) {
    if (n < 1 || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
    const rev = new Uint32Array(n);
    const bits = Math.round(Math.log2(n));
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
      rev[i] = r;
    }
    const cos = new Float64Array(n / 2);
    const sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / n);
      sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    p = { n, rev, cos, sin };
    plans.set(n, p);
  }
  return p;
}

/** In-place iterative radix-2 complex FFT of the contiguous run [offset, offset + n). Unnormalised. */
export function fft1d(re: Float64Array, im: Float64Array, offset: number, n: number, inverse: boolean): void {
  const { rev, cos, sin } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (i < j) {
      const a = offset + i;
      const b = offset + j;
      const tr = re[a];
      re[a] = re[b];
      re[b] = tr;
      const ti = im[a];
      im[a] = im[b];
      im[b] = ti;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let start = offset; start < offset + n; start += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

function transposeInPlace(a: Float64Array, n: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = r + 1; c < n; c++) {
      const i = r * n + c;
      const j = c * n + r;
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

/**
 * In-place 2D FFT of an n x n complex array (row-major), unnormalised. Columns are done as rows
 * of the transpose (cache-friendly); with `transposeBack` false the result is left transposed,
 * which is harmless for isotropic random fields and saves two passes.
 */
export function fft2d(re: Float64Array, im: Float64Array, n: number, inverse: boolean, transposeBack = true): void {
  for (let r = 0; r < n; r++) fft1d(re, im, r * n, n, inverse);
  transposeInPlace(re, n);
  transposeInPlace(im, n);
  for (let r = 0; r < n; r++) fft1d(re, im, r * n, n, inverse);
  if (transposeBack) {
    transposeInPlace(re, n);
    transposeInPlace(im, n);
  }
}

function nextPow2(v: number): number {
  let n = 1;
  while (n < v) n <<= 1;
  return n;
}

export interface PowerLawOptions {
  /** Spectral exponent beta of the power spectrum P(f) ~ f^-beta (default 3). */
  beta?: number;
  /** Largest FFT side; bigger images are generated at this size and upsampled bilinearly (default 2048). */
  maxFftSizePx?: number;
  /** Frequencies below this (cycles/px) are clamped to it, to limit the very largest blobs (default 1/fftSize). */
  minFrequency?: number;
}

/**
 * Two independent zero-mean, unit-variance textures of widthPx x heightPx (row-major Float32)
 * with power spectrum ~ f^-beta.
 */
export function powerLawTexturePair(widthPx: number, heightPx: number, rng: Rng, opts: PowerLawOptions = {}): [Float32Array, Float32Array] {
  const beta = opts.beta ?? 3;
  const want = nextPow2(Math.max(widthPx, heightPx));
  const n = Math.min(want, nextPow2(opts.maxFftSizePx ?? 2048));
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  const amp = amplitudeTable(n, beta, opts.minFrequency ?? 1 / n);
  // Coefficients: amplitude x (uniform with unit variance). Cheaper than Gaussian draws and, as
  // every output pixel sums ~n^2 of them, the field is Gaussian by the central limit theorem.
  const unit = Math.sqrt(12);
  for (let i = 0; i < n * n; i++) {
    re[i] = amp[i] * (rng.uniform() - 0.5) * unit;
    im[i] = amp[i] * (rng.uniform() - 0.5) * unit;
  }
  fft2d(re, im, n, true, false);
  const scale = n / want; // fft pixels per output pixel (1 unless upsampled)
  const out: [Float32Array, Float32Array] = [new Float32Array(widthPx * heightPx), new Float32Array(widthPx * heightPx)];
  const sources = [re, im];
  for (let s = 0; s < 2; s++) {
    const src = sources[s];
    const dst = out[s];
    if (scale === 1) {
      for (let y = 0; y < heightPx; y++) for (let x = 0; x < widthPx; x++) dst[y * widthPx + x] = src[y * n + x];
    } else {
      for (let y = 0; y < heightPx; y++) {
        const sy = Math.min(n - 1.000001, y * scale);
        const y0 = Math.floor(sy);
        const wy = sy - y0;
        const y1 = Math.min(n - 1, y0 + 1);
        for (let x = 0; x < widthPx; x++) {
          const sx = Math.min(n - 1.000001, x * scale);
          const x0 = Math.floor(sx);
          const wx = sx - x0;
          const x1 = Math.min(n - 1, x0 + 1);
          dst[y * widthPx + x] =
            (1 - wy) * ((1 - wx) * src[y0 * n + x0] + wx * src[y0 * n + x1]) + wy * ((1 - wx) * src[y1 * n + x0] + wx * src[y1 * n + x1]);
        }
      }
    }
    normalise(dst);
  }
  return out;
}

const ampTables = new Map<string, Float32Array>();

/** |coefficient| = f^(-beta/2) on the FFT grid (DC = 0); cached per (n, beta, fMin). */
function amplitudeTable(n: number, beta: number, fMin: number): Float32Array {
  const key = `${n}:${beta}:${fMin}`;
  let t = ampTables.get(key);
  if (!t) {
    t = new Float32Array(n * n);
    for (let ky = 0; ky < n; ky++) {
      const fy = (ky <= n / 2 ? ky : ky - n) / n;
      for (let kx = 0; kx < n; kx++) {
        if (kx === 0 && ky === 0) continue;
        const fx = (kx <= n / 2 ? kx : kx - n) / n;
        t[ky * n + kx] = Math.pow(Math.max(fMin, Math.sqrt(fx * fx + fy * fy)), -beta / 2);
      }
    }
    if (ampTables.size > 4) ampTables.clear();
    ampTables.set(key, t);
  }
  return t;
}

/** Shift and scale in place to mean 0, standard deviation 1. */
export function normalise(a: Float32Array): void {
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < a.length; i++) {
    sum += a[i];
    sum2 += a[i] * a[i];
  }
  const mean = sum / a.length;
  const sd = Math.sqrt(Math.max(1e-30, sum2 / a.length - mean * mean));
  for (let i = 0; i < a.length; i++) a[i] = (a[i] - mean) / sd;
}
