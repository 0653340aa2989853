import { describe, expect, it } from "vitest";
import { pca2 } from "../../lib/embed/pca";
import { Rng } from "../../lib/util/rng";

describe("pca2", () => {
  it("recovers known principal axes and variances", () => {
    // Points = a * u * 3 + b * v * 2 + c * w * 1 + offset, with u, v, w orthonormal (a random
    // rotation built by Gram-Schmidt) and a, b, c standard normal: PC1 = u (var 9), PC2 = v (var 4).
    const dim = 6;
    const rows = 4000;
    const rng = new Rng(8);
    const basis: number[][] = [];
    while (basis.length < 3) {
      const x = Array.from({ length: dim }, () => rng.normal());
      for (const b of basis) {
        const d = x.reduce((s, xi, i) => s + xi * b[i], 0);
        for (let i = 0; i < dim; i++) x[i] -= d * b[i];
      }
      const n = Math.hypot(...x);
      basis.push(x.map((xi) => xi / n));
    }
    const data = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      const a = rng.normal() * 3;
      const b = rng.normal() * 2;
      const c = rng.normal();
      for (let i = 0; i < dim; i++) data[r * dim + i] = 5 + a * basis[0][i] + b * basis[1][i] + c * basis[2][i];
    }
    const p = pca2(data, rows, dim);
    const dot = (k: number, u: number[]): number => u.reduce((s, ui, i) => s + ui * p.components[k * dim + i], 0);
    expect(Math.abs(dot(0, basis[0]))).toBeGreaterThan(0.999);
    expect(Math.abs(dot(1, basis[1]))).toBeGreaterThan(0.999);
    expect(p.variance[0]).toBeGreaterThan(9 * 0.93);
    expect(p.variance[0]).toBeLessThan(9 * 1.07);
    expect(p.variance[1]).toBeGreaterThan(4 * 0.93);
    expect(p.variance[1]).toBeLessThan(4 * 1.07);
    expect(p.explained[0]).toBeCloseTo(p.variance[0] / (p.variance[0] + p.variance[1] + 1), 1);
    // scores are centred projections: their variance equals the component variance
    const s0 = Array.from({ length: rows }, (_, r) => p.scores[r * 2]);
    const m0 = s0.reduce((s, v) => s + v, 0) / rows;
    expect(Math.abs(m0)).toBeLessThan(1e-6);
    expect(s0.reduce((s, v) => s + (v - m0) ** 2, 0) / (rows - 1)).toBeCloseTo(p.variance[0], 4);
  });
});
