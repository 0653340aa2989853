import { describe, expect, it } from "vitest";
import { areaResize, cropTile, gridPositions, gridTiles, integralImage, rectSum, selectTiles } from "../../lib/tiling";
import { boxOriginalToWorking, preprocessPixels } from "../../lib/preprocess";
import { simplePhantom } from "../preprocess/phantom";
import { Rng } from "../../lib/util/rng";

describe("grid", () => {
  it("positions at overlap 0 and 0.75, last aligned to the edge", () => {
    expect(gridPositions(1024, 128, 0)).toEqual([0, 128, 256, 384, 512, 640, 768, 896]);
    expect(gridPositions(1000, 128, 0)).toEqual([0, 128, 256, 384, 512, 640, 768, 872]);
    expect(gridPositions(256, 128, 0.75)).toEqual([0, 32, 64, 96, 128]);
    expect(gridPositions(100, 128, 0)).toEqual([0]);
    expect(gridPositions(128, 128, 0)).toEqual([0]);
  });
  it("covers every pixel, tiles inside the image (random sizes)", () => {
    const rng = new Rng(3);
    for (let k = 0; k < 40; k++) {
      const n = rng.int(130, 700);
      const t = rng.int(8, 129);
      const ov = rng.pick([0, 0.25, 0.5, 0.75]);
      const pos = gridPositions(n, t, ov);
      const covered = new Uint8Array(n);
      for (const p of pos) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p + t).toBeLessThanOrEqual(n);
        for (let i = p; i < p + t; i++) covered[i] = 1;
      }
      expect(covered.every((c) => c === 1)).toBe(true);
      // Strictly increasing, stride never above the requested one.
      for (let i = 1; i < pos.length; i++) {
        expect(pos[i]).toBeGreaterThan(pos[i - 1]);
        expect(pos[i] - pos[i - 1]).toBeLessThanOrEqual(Math.round(t * (1 - ov)));
      }
    }
    expect(gridTiles(300, 100, 0)).toHaveLength(9);
  });
  it("rect sums from the integral image match brute force", () => {
    const rng = new Rng(5);
    const w = 17;
    const h = 13;
    const v = Array.from({ length: w * h }, () => rng.int(0, 9));
    const ii = integralImage(v, w, h);
    for (let k = 0; k < 50; k++) {
      const x0 = rng.int(-3, w);
      const y0 = rng.int(-3, h);
      const x1 = x0 + rng.int(0, 10);
      const y1 = y0 + rng.int(0, 10);
      let s = 0;
      for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) s += v[y * w + x];
      expect(rectSum(ii, w, h, x0, y0, x1, y1)).toBe(s);
    }
  });
});

describe("tissue rules", () => {
  // 8 x 8 image, tiles of 4: mask only in the top-left tile (1 pixel) and the bottom-right (all).
  const n = 8;
  const img = new Uint16Array(n * n);
  const mask = new Uint8Array(n * n);
  mask[0] = 1;
  img[0] = 1000;
  for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) {
    mask[y * n + x] = 1;
    img[y * n + x] = 60000;
  }
  it("maskFraction keeps tiles at or above the minimum (0 = any tissue)", () => {
    const any = selectTiles(img, mask, { tileSizePx: 4, overlap: 0, tissueRule: "maskFraction", minTissueFraction: 0, meanIntensityFactor: 0.05 });
    expect(any.map((t) => [t.xPx, t.yPx, t.tissueFraction])).toEqual([
      [0, 0, 1 / 16],
      [4, 4, 1],
    ]);
    const half = selectTiles(img, mask, { tileSizePx: 4, overlap: 0, tissueRule: "maskFraction", minTissueFraction: 0.5, meanIntensityFactor: 0.05 });
    expect(half.map((t) => [t.xPx, t.yPx])).toEqual([[4, 4]]);
  });
  it("meanIntensity keeps tiles with mean > factor x image max", () => {
    // Top-left tile mean = 1000 / 16 = 62.5; 0.05 x 60000 = 3000.
    const r = selectTiles(img, mask, { tileSizePx: 4, overlap: 0, tissueRule: "meanIntensity", minTissueFraction: 0, meanIntensityFactor: 0.05 });
    expect(r.map((t) => [t.xPx, t.yPx])).toEqual([[4, 4]]);
    const low = selectTiles(img, mask, { tileSizePx: 4, overlap: 0, tissueRule: "meanIntensity", minTissueFraction: 0, meanIntensityFactor: 0.001 });
    expect(low).toHaveLength(2);
  });
});

describe("coverage on a preprocessed phantom", () => {
  it("overlap 0: every tissue pixel in a kept tile; every lesion box hits a kept tile", async () => {
    for (const side of ["left", "right"] as const) {
      const W = 300;
      const H = 400;
      const ph = simplePhantom({ widthPx: W, heightPx: H, chestWall: side, seed: side === "left" ? 21 : 22 });
      const r = await preprocessPixels({ pixels: ph.pixels, widthPx: W, heightPx: H }, { workingSizePx: 256, globalSizePx: 64 });
      const tiles = selectTiles(r.working, r.mask, { tileSizePx: 32, overlap: 0, tissueRule: "maskFraction", minTissueFraction: 0, meanIntensityFactor: 0.05 });
      const N = 256;
      const covered = new Uint8Array(N * N);
      for (const t of tiles) for (let y = t.yPx; y < t.yPx + 32; y++) for (let x = t.xPx; x < t.xPx + 32; x++) covered[y * N + x] = 1;
      let missed = 0;
      for (let i = 0; i < N * N; i++) if (r.mask[i] && !covered[i]) missed++;
      expect(missed).toBe(0);
      expect(tiles.length).toBeLessThan(64); // background tiles dropped
      // Lesion boxes inside the silhouette, original frame.
      const rng = new Rng(side);
      let boxes = 0;
      while (boxes < 20) {
        const x = rng.int(0, W - 10);
        const y = rng.int(0, H - 10);
        if (!ph.silhouette[(y + 4) * W + x + 4]) continue;
        boxes++;
        const b = boxOriginalToWorking({ x0: x, y0: y, x1: x + 8, y1: y + 8 }, r.transform);
        const hit = tiles.some((t) => t.xPx < b.x1 && t.xPx + 32 > b.x0 && t.yPx < b.y1 && t.yPx + 32 > b.y0);
        expect(hit).toBe(true);
      }
    }
  });
});

describe("cropTile", () => {
  const n = 6;
  const img = Uint16Array.from({ length: n * n }, (_, i) => i * 10);
  it("copies the tile and zero-pads outside", () => {
    expect(Array.from(cropTile(img, n, { xPx: 1, yPx: 2, sizePx: 2 }))).toEqual([130, 140, 190, 200]);
    expect(Array.from(cropTile(img, n, { xPx: 5, yPx: 5, sizePx: 2 }))).toEqual([350, 0, 0, 0]);
  });
  it("area resize: 2x down is the 2x2 block mean; 3 -> 2 uses fractional coverage", () => {
    expect(Array.from(cropTile(img, n, { xPx: 0, yPx: 0, sizePx: 4 }, 2))).toEqual([35, 55, 155, 175]);
    // 3 -> 2: output 0 covers input [0, 1.5): weights 2/3, 1/3.
    const src = Uint16Array.from([0, 30, 90, 0, 30, 90, 0, 30, 90]);
    expect(Array.from(areaResize(src, 3, 2))).toEqual([10, 70, 10, 70]);
  });
});

describe("figures helpers", () => {
  it("maskOutline marks only border pixels of the mask", async () => {
    const { maskOutline } = await import("../../lib/tiling");
    const w = 5;
    const m = new Uint8Array(25);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) m[y * w + x] = 1;
    const o = maskOutline(m, w, w);
    expect(o.reduce((a, b) => a + b, 0)).toBe(8);
    expect(o[2 * w + 2]).toBe(0);
  });
});
