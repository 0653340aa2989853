import { describe, expect, it } from "vitest";
import { Rng } from "../../lib/util/rng";
import { attentionHeatmap, attentionHeatmapWithCoverage, normaliseMap, softmax, type TileRect } from "../../lib/explain/heatmap";
import { boxesFromHeatmap } from "../../lib/explain/boxes";

/** Brute force: per pixel, loop over every tile and average the values of those covering it. */
function bruteForce(n: number, tiles: TileRect[], values: number[], fill: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let s = 0;
      let c = 0;
      tiles.forEach((t, i) => {
        if (x >= t.xPx && x < t.xPx + t.sizePx && y >= t.yPx && y < t.yPx + t.sizePx) {
          s += values[i];
          c++;
        }
      });
      out[y * n + x] = c > 0 ? s / c : fill;
    }
  }
  return out;
}

describe("attentionHeatmap", () => {
  it("equals a brute-force per-tile mean on a random case (tiles overlapping and clipped)", () => {
    const rng = new Rng(7);
    const n = 40;
    const tiles: TileRect[] = [];
    const values: number[] = [];
    for (let i = 0; i < 30; i++) {
      tiles.push({ xPx: rng.int(-5, n - 3), yPx: rng.int(-5, n - 3), sizePx: rng.int(2, 16) });
      values.push(rng.range(-1, 2));
    }
    const got = attentionHeatmap(n, tiles, Float32Array.from(values), { fill: -7 });
    const want = bruteForce(n, tiles, values, -7);
    for (let i = 0; i < n * n; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    expect(Array.from(want).some((v) => v === -7)).toBe(true); // the case has uncovered pixels
  });

  it("gives exact means on a hand-made 4x4 case and counts coverage", () => {
    // tile A covers [0,2)x[0,2) with 1, tile B covers [1,3)x[1,3) with 3: pixel (1,1) -> (1+3)/2 = 2
    const tiles = [
      { xPx: 0, yPx: 0, sizePx: 2 },
      { xPx: 1, yPx: 1, sizePx: 2 },
    ];
    const h = attentionHeatmapWithCoverage(4, tiles, [1, 3]);
    expect(h.values[0]).toBe(1);
    expect(h.values[1 * 4 + 1]).toBe(2);
    expect(h.values[2 * 4 + 2]).toBe(3);
    expect(h.values[3 * 4 + 3]).toBe(0); // uncovered -> fill 0
    expect(h.coverage[1 * 4 + 1]).toBe(2);
    expect(h.coverage[3 * 4 + 3]).toBe(0);
  });

  it("at a reduced outSizePx equals the brute force on scaled tiles", () => {
    const tiles = [
      { xPx: 0, yPx: 0, sizePx: 8 },
      { xPx: 4, yPx: 4, sizePx: 8 },
    ];
    const got = attentionHeatmap(16, tiles, [2, 4], { outSizePx: 8 });
    const want = bruteForce(8, [{ xPx: 0, yPx: 0, sizePx: 4 }, { xPx: 2, yPx: 2, sizePx: 4 }], [2, 4], 0);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it("rejects mismatched values", () => {
    expect(() => attentionHeatmap(8, [{ xPx: 0, yPx: 0, sizePx: 2 }], [1, 2])).toThrow(/1 tiles but 2 values/);
  });

  it("softmax sums to 1 and keeps order; normaliseMap spans [0, 1] inside the mask", () => {
    const a = softmax([1000, 1001, 999]);
    expect(a[0] + a[1] + a[2]).toBeCloseTo(1, 6);
    expect(a[1] / a[0]).toBeCloseTo(Math.E, 4);
    const m = normaliseMap(Float32Array.from([5, 3, 9, 100]), [1, 1, 1, 0]);
    expect(Array.from(m)).toEqual([Math.fround((5 - 3) / 6), 0, 1, 0]);
  });
});

/** A synthetic image with one bright blob; attention = per-tile mean brightness (stand-in head). */
function blobImage(n: number, cx: number, cy: number, r: number, rng: Rng): Float32Array {
  const img = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const d2 = (x - cx) ** 2 + (y - cy) ** 2;
      img[y * n + x] = 0.3 + 0.05 * rng.uniform() + (d2 < r * r ? 0.6 : 0);
    }
  }
  return img;
}

describe("heat map of a known lesion", () => {
  it("puts the peak and the best box on the bright blob", () => {
    const n = 256;
    const tile = 32;
    const stride = tile / 4; // 75 % overlap
    const lesion = { x0: 150, y0: 60, x1: 182, y1: 92 }; // blob centre (166, 76), radius 16
    const img = blobImage(n, 166, 76, 16, new Rng(3));
    const tiles: TileRect[] = [];
    const values: number[] = [];
    for (let y = 0; y + tile <= n; y += stride) {
      for (let x = 0; x + tile <= n; x += stride) {
        tiles.push({ xPx: x, yPx: y, sizePx: tile });
        let s = 0;
        for (let yy = y; yy < y + tile; yy++) for (let xx = x; xx < x + tile; xx++) s += img[yy * n + xx];
        values.push(s / (tile * tile));
      }
    }
    const map = attentionHeatmap(n, tiles, softmax(values.map((v) => 20 * v)));
    let best = 0;
    for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
    const px = best % n;
    const py = Math.floor(best / n);
    expect(px).toBeGreaterThanOrEqual(lesion.x0);
    expect(px).toBeLessThan(lesion.x1);
    expect(py).toBeGreaterThanOrEqual(lesion.y0);
    expect(py).toBeLessThan(lesion.y1);
    const boxes = boxesFromHeatmap(map, n, { minAreaPx: 64 });
    expect(boxes.length).toBeGreaterThan(0);
    const b = boxes[0];
    expect(b.x0 <= 166 && b.x1 > 166 && b.y0 <= 76 && b.y1 > 76).toBe(true);
  });
});
