import { describe, expect, it } from "vitest";
import { fft1d, fft2d, powerLawTexturePair } from "../../lib/data/texture";
import { Rng } from "../../lib/util/rng";

/** Naive O(n^2) DFT, written independently of the module's FFT. */
function naiveDft(re: number[], im: number[], inverse: boolean): [number[], number[]] {
  const n = re.length;
  const outR: number[] = [];
  const outI: number[] = [];
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (sign * 2 * Math.PI * k * t) / n;
      sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
    outR.push(sr);
    outI.push(si);
  }
  return [outR, outI];
}

/** Radially averaged power spectrum slope of a square patch (Hann window, separable naive DFT). */
function spectrumSlope(patch: Float64Array, n: number, fLo: number, fHi: number): number {
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  let mean = 0;
  for (let i = 0; i < n * n; i++) mean += patch[i];
  mean /= n * n;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const wgt = (0.5 - 0.5 * Math.cos((2 * Math.PI * (x + 0.5)) / n)) * (0.5 - 0.5 * Math.cos((2 * Math.PI * (y + 0.5)) / n));
      re[y * n + x] = (patch[y * n + x] - mean) * wgt;
    }
  }
  // separable DFT with precomputed twiddles: rows, then columns
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const tr = new Float64Array(n);
  const ti = new Float64Array(n);
  for (let pass = 0; pass < 2; pass++) {
    for (let line = 0; line < n; line++) {
      const idx = (t: number): number => (pass === 0 ? line * n + t : t * n + line);
      for (let k = 0; k < n; k++) {
        let sr = 0;
        let si = 0;
        for (let t = 0; t < n; t++) {
          const c = cos[(k * t) % n];
          const s = sin[(k * t) % n];
          const a = idx(t);
          sr += re[a] * c - im[a] * s;
          si += re[a] * s + im[a] * c;
        }
        tr[k] = sr;
        ti[k] = si;
      }
      for (let k = 0; k < n; k++) {
        re[idx(k)] = tr[k];
        im[idx(k)] = ti[k];
      }
    }
  }
  // radial average in log-spaced bins, then a least-squares line in log-log
  const nb = 12;
  const sums = new Float64Array(nb);
  const counts = new Float64Array(nb);
  for (let ky = 0; ky < n; ky++) {
    for (let kx = 0; kx < n; kx++) {
      const fy = (ky <= n / 2 ? ky : ky - n) / n;
      const fx = (kx <= n / 2 ? kx : kx - n) / n;
      const f = Math.hypot(fx, fy);
      if (f < fLo || f >= fHi) continue;
      const b = Math.floor((Math.log(f / fLo) / Math.log(fHi / fLo)) * nb);
      sums[b] += re[ky * n + kx] ** 2 + im[ky * n + kx] ** 2;
      counts[b]++;
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let b = 0; b < nb; b++) {
    if (counts[b] === 0) continue;
    xs.push(Math.log(fLo * Math.pow(fHi / fLo, (b + 0.5) / nb)));
    ys.push(Math.log(sums[b] / counts[b]));
  }
  const mx = xs.reduce((a, v) => a + v, 0) / xs.length;
  const my = ys.reduce((a, v) => a + v, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

describe("fft", () => {
  it("matches a naive DFT (forward and inverse) for n = 16", () => {
    const rng = new Rng(3);
    const n = 16;
    const re = Array.from({ length: n }, () => rng.normal());
    const im = Array.from({ length: n }, () => rng.normal());
    for (const inverse of [false, true]) {
      const [er, ei] = naiveDft(re, im, inverse);
      const r = Float64Array.from(re);
      const i = Float64Array.from(im);
      fft1d(r, i, 0, n, inverse);
      for (let k = 0; k < n; k++) {
        expect(r[k]).toBeCloseTo(er[k], 9);
        expect(i[k]).toBeCloseTo(ei[k], 9);
      }
    }
  });

  it("2D inverse of forward returns n^2 times the input", () => {
    const rng = new Rng(4);
    const n = 8;
    const re = new Float64Array(n * n).map(() => rng.normal());
    const im = new Float64Array(n * n).map(() => rng.normal());
    const r = re.slice();
    const i = im.slice();
    fft2d(r, i, n, false);
    fft2d(r, i, n, true);
    for (let k = 0; k < n * n; k++) {
      expect(r[k] / (n * n)).toBeCloseTo(re[k], 10);
      expect(i[k] / (n * n)).toBeCloseTo(im[k], 10);
    }
  });

  it("rejects a length that is not a power of two", () => {
    expect(() => fft1d(new Float64Array(12), new Float64Array(12), 0, 12, false)).toThrow(/power of two/);
  });
});

describe("power-law texture", () => {
  it("is zero-mean, unit-variance, deterministic, and the two fields are independent", () => {
    const [a, b] = powerLawTexturePair(100, 128, new Rng(9));
    const [a2] = powerLawTexturePair(100, 128, new Rng(9));
    const [c] = powerLawTexturePair(100, 128, new Rng(10));
    expect(a).toEqual(a2);
    expect(a).not.toEqual(c);
    let m = 0;
    let v = 0;
    let ab = 0;
    for (let i = 0; i < a.length; i++) {
      m += a[i];
      v += a[i] * a[i];
      ab += a[i] * b[i];
    }
    expect(Math.abs(m / a.length)).toBeLessThan(1e-4);
    expect(v / a.length).toBeCloseTo(1, 3);
    // correlation of real and imaginary parts: small (few effective samples for a 1/f^3 field)
    expect(Math.abs(ab / a.length)).toBeLessThan(0.35);
  });

  it("has a radially averaged power spectrum with log-log slope near -3 (and near -2 for beta = 2)", () => {
    const n = 128;
    const slopes: Record<number, number[]> = { 3: [], 2: [] };
    for (const beta of [3, 2]) {
      for (let s = 0; s < 3; s++) {
        // a 300 x 256 field (FFT side 512 is NOT the patch size), patch from its middle
        const [t] = powerLawTexturePair(300, 256, new Rng(100 + s), { beta });
        const patch = new Float64Array(n * n);
        for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) patch[y * n + x] = t[(y + 64) * 300 + (x + 80)];
        slopes[beta].push(spectrumSlope(patch, n, 4 / n, 0.35));
      }
    }
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(slopes[3])).toBeGreaterThan(-3.35);
    expect(mean(slopes[3])).toBeLessThan(-2.65);
    expect(mean(slopes[2])).toBeGreaterThan(-2.35);
    expect(mean(slopes[2])).toBeLessThan(-1.65);
  });
});
