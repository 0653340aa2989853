import { describe, expect, it } from "vitest";
import {
  dilate,
  erode,
  fillHoles,
  gaussianBlur,
  labelComponents,
  largestComponent,
  maskBoundingBox,
  maskIoU,
  otsuThreshold,
  otsuThresholdBin,
} from "../../lib/preprocess";

function grid(rows: string[]): { mask: Uint8Array; w: number; h: number } {
  const h = rows.length;
  const w = rows[0].length;
  const mask = new Uint8Array(w * h);
  rows.forEach((r, y) => [...r].forEach((c, x) => (mask[y * w + x] = c === "#" ? 1 : 0)));
  return { mask, w, h };
}
function show(mask: Uint8Array, w: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < mask.length; i += w) out.push([...mask.slice(i, i + w)].map((v) => (v ? "#" : ".")).join(""));
  return out;
}

describe("otsu", () => {
  it("splits a known bimodal histogram between the modes", () => {
    // Two equal-weight spikes at bins 10 and 50: any t in (10, 50] separates them perfectly;
    // the first maximiser of the between-class variance is t = 11.
    const hist = new Array(64).fill(0);
    hist[10] = 100;
    hist[50] = 100;
    expect(otsuThresholdBin(hist)).toBe(11);
    // Unequal Gaussian-ish modes: the threshold lies in the valley.
    const h2 = new Array(100).fill(0).map((_, i) => 1000 * Math.exp(-((i - 20) ** 2) / 20) + 300 * Math.exp(-((i - 70) ** 2) / 30));
    const t = otsuThresholdBin(h2);
    expect(t).toBeGreaterThan(30);
    expect(t).toBeLessThan(62);
  });
  it("matches a brute-force between-class variance search", () => {
    const hist = [5, 9, 2, 0, 7, 30, 12, 1, 0, 3, 22, 8];
    const total = hist.reduce((a, b) => a + b, 0);
    let best = -1;
    let bestT = -1;
    for (let t = 1; t < hist.length; t++) {
      const lo = hist.slice(0, t);
      const hi = hist.slice(t);
      const w0 = lo.reduce((a, b) => a + b, 0);
      const w1 = total - w0;
      if (!w0 || !w1) continue;
      const m0 = lo.reduce((a, b, i) => a + b * i, 0) / w0;
      const m1 = hi.reduce((a, b, i) => a + b * (i + t), 0) / w1;
      const v = (w0 / total) * (w1 / total) * (m0 - m1) ** 2;
      if (v > best + 1e-12) {
        best = v;
        bestT = t;
      }
    }
    expect(otsuThresholdBin(hist)).toBe(bestT);
  });
  it("value threshold separates two value clusters", () => {
    const v = [...new Array(500).fill(0).map((_, i) => 1000 + (i % 7)), ...new Array(300).fill(0).map((_, i) => 40000 + (i % 11))];
    const t = otsuThreshold(v, 1024);
    expect(t).toBeGreaterThan(1006);
    expect(t).toBeLessThanOrEqual(40000);
  });
});

describe("connected components", () => {
  const g = grid([
    "##....#",
    "##...##",
    "......#",
    ".#.....",
    "#.#..##",
    ".....##",
  ]);
  it("labels a hand-made grid with 8-connectivity", () => {
    const { components, labels } = labelComponents(g.mask, g.w, g.h, 8);
    // Components in raster order of their first pixel: top-left 2x2 (4), right arm (4),
    // diagonal X-ish {(1,3),(0,4),(2,4)} (3), bottom-right 2x2 (4); boxes [x0, x1) x [y0, y1).
    expect(components).toEqual([
      { x0: 0, y0: 0, x1: 2, y1: 2, areaPx: 4 },
      { x0: 5, y0: 0, x1: 7, y1: 3, areaPx: 4 },
      { x0: 0, y0: 3, x1: 3, y1: 5, areaPx: 3 },
      { x0: 5, y0: 4, x1: 7, y1: 6, areaPx: 4 },
    ]);
    expect(labels[3 * g.w + 1]).toBe(labels[4 * g.w + 0]);
    expect(labels[3 * g.w + 1]).toBe(3);
    expect(labels[0]).toBe(1);
    expect(labels[2]).toBe(0);
  });
  it("4-connectivity splits diagonal neighbours", () => {
    const { components } = labelComponents(g.mask, g.w, g.h, 4);
    expect(components.map((c) => c.areaPx)).toEqual([4, 4, 1, 1, 1, 4]);
  });
  it("largestComponent keeps the first of the largest", () => {
    const big = grid(["###..", "#....", "....#", "...##"]);
    expect(show(largestComponent(big.mask, big.w, big.h), big.w)).toEqual(["###..", "#....", ".....", "....."]);
  });
  it("fillHoles fills enclosed background only", () => {
    const r = grid(["#####..", "#..##..", "#####..", ".......", "..###..", "..#.#..", "..#...."]);
    expect(show(fillHoles(r.mask, r.w, r.h), r.w)).toEqual(["#####..", "#####..", "#####..", ".......", "..###..", "..#.#..", "..#...."]);
  });
});

describe("morphology", () => {
  it("erode and dilate a square with a square element", () => {
    const w = 11;
    const m = new Uint8Array(w * w);
    for (let y = 3; y < 8; y++) for (let x = 3; x < 8; x++) m[y * w + x] = 1;
    const e = erode(m, w, w, 1);
    expect(maskBoundingBox(e, w, w)).toEqual({ x0: 4, y0: 4, x1: 7, y1: 7 });
    expect(e.reduce((a, b) => a + b, 0)).toBe(9);
    const d = dilate(m, w, w, 2);
    expect(maskBoundingBox(d, w, w)).toEqual({ x0: 1, y0: 1, x1: 10, y1: 10 });
    expect(d.reduce((a, b) => a + b, 0)).toBe(81);
    // Opening restores a shape wider than the element, removes a 1-px line.
    const line = m.slice();
    for (let x = 0; x < w; x++) line[0 * w + x] = 1;
    expect(maskIoU(dilate(erode(line, w, w, 1), w, w, 1), m)).toBe(1);
  });
  it("erosion treats outside as background", () => {
    const m = new Uint8Array(25).fill(1);
    const e = erode(m, 5, 5, 1);
    expect(maskBoundingBox(e, 5, 5)).toEqual({ x0: 1, y0: 1, x1: 4, y1: 4 });
  });
  it("gaussian blur keeps the mean of a constant and of a centred impulse", () => {
    const w = 41;
    const img = new Float32Array(w * w);
    img[20 * w + 20] = 1;
    const b = gaussianBlur(img, w, w, 2);
    const sum = b.reduce((a, v) => a + v, 0);
    expect(sum).toBeCloseTo(1, 5);
    // Variance along x of the blurred impulse = sigma^2.
    let vx = 0;
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) vx += b[y * w + x] * (x - 20) ** 2;
    expect(vx).toBeCloseTo(4, 1);
    const c = gaussianBlur(new Float32Array(100).fill(3), 10, 10, 1.5);
    for (const v of c) expect(v).toBeCloseTo(3, 5);
  });
});

describe("three-class otsu", () => {
  it("puts the two thresholds in the two valleys of a trimodal histogram", async () => {
    const { otsuThresholdBins3 } = await import("../../lib/preprocess");
    const h = new Array(120).fill(0).map((_, i) => 2000 * Math.exp(-((i - 5) ** 2) / 4) + 400 * Math.exp(-((i - 45) ** 2) / 60) + 300 * Math.exp(-((i - 95) ** 2) / 60));
    const [t1, t2] = otsuThresholdBins3(h);
    expect(t1).toBeGreaterThan(10);
    expect(t1).toBeLessThan(35);
    expect(t2).toBeGreaterThan(55);
    expect(t2).toBeLessThan(85);
  });
  it("equals a brute-force search on a small histogram", async () => {
    const { otsuThresholdBins3 } = await import("../../lib/preprocess");
    const h = [4, 0, 7, 1, 9, 3, 0, 0, 12, 5, 2, 8];
    const tot = h.reduce((a, b) => a + b, 0);
    const mean = h.reduce((a, b, i) => a + b * i, 0) / tot;
    let best = -1;
    let arg: [number, number] = [0, 0];
    for (let a = 1; a < h.length; a++)
      for (let b = a + 1; b < h.length; b++) {
        let v = 0;
        let ok = true;
        for (const [lo, hi] of [[0, a], [a, b], [b, h.length]]) {
          const w = h.slice(lo, hi).reduce((x, y) => x + y, 0);
          if (!w) ok = false;
          const m = h.slice(lo, hi).reduce((x, y, i) => x + y * (i + lo), 0) / (w || 1);
          v += w * (m - mean) ** 2;
        }
        if (ok && v > best + 1e-9) {
          best = v;
          arg = [a, b];
        }
      }
    expect(otsuThresholdBins3(h)).toEqual(arg);
  });
});
