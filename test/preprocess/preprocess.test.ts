import { describe, expect, it } from "vitest";
import {
  boxOriginalToWorking,
  boxWorkingToOriginal,
  decideOrientation,
  makeTransform,
  maskIoU,
  originalToWorking,
  preprocessPixels,
  workingToOriginal,
  type PreprocessResult,
} from "../../lib/preprocess";
import type { ImageTransform } from "../../lib/types";
import { Rng } from "../../lib/util/rng";
import { simplePhantom } from "./phantom";

/** Ground truth (original frame) resampled into the working frame through the transform. */
function truthInWorking(truth: Uint8Array, W: number, H: number, r: PreprocessResult): Uint8Array {
  const N = r.workingSizePx;
  const out = new Uint8Array(N * N);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      const p = workingToOriginal({ xPx: x + 0.5, yPx: y + 0.5 }, r.transform);
      const xo = Math.floor(p.xPx);
      const yo = Math.floor(p.yPx);
      if (xo >= 0 && yo >= 0 && xo < W && yo < H) out[y * N + x] = truth[yo * W + xo];
    }
  return out;
}

/** Fraction of intensity in the left half of a square image. */
function leftShare(img: Uint16Array, n: number): number {
  let l = 0;
  let t = 0;
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      t += img[y * n + x];
      if (x < n / 2) l += img[y * n + x];
    }
  return l / t;
}

describe("orientation", () => {
  const W = 96;
  const H = 128;
  const left = simplePhantom({ widthPx: W, heightPx: H, chestWall: "left", seed: 1 }).pixels;
  const right = simplePhantom({ widthPx: W, heightPx: H, chestWall: "right", seed: 2 }).pixels;
  it("trusts an agreeing tag", () => {
    expect(decideOrientation(left, W, H, "L")).toMatchObject({ flip: false, source: "tag+sums" });
    expect(decideOrientation(right, W, H, "R")).toMatchObject({ flip: true, source: "tag+sums" });
  });
  it("works without a tag", () => {
    expect(decideOrientation(left, W, H, null)).toMatchObject({ flip: false, source: "sums" });
    expect(decideOrientation(right, W, H, undefined)).toMatchObject({ flip: true, source: "sums" });
  });
  it("overrides a wrong tag with the sums and records it", () => {
    expect(decideOrientation(left, W, H, "R")).toMatchObject({ flip: false, source: "sums-over-tag", flipFromTag: true });
    expect(decideOrientation(right, W, H, "L")).toMatchObject({ flip: true, source: "sums-over-tag", flipFromTag: false });
  });
  it("falls back to the tag when the sums are balanced", () => {
    const flat = new Float32Array(W * H).fill(0.5);
    expect(decideOrientation(flat, W, H, "R")).toMatchObject({ flip: true, source: "tag" });
    expect(decideOrientation(flat, W, H, null)).toMatchObject({ flip: false, source: "default" });
  });
  it("preprocessed images have the breast on the left for L and R, with good and bad tags", async () => {
    for (const [pix, tag] of [
      [left, "L"],
      [left, "R"],
      [right, "R"],
      [right, "L"],
      [right, null],
    ] as const) {
      const r = await preprocessPixels({ pixels: pix, widthPx: W, heightPx: H, laterality: tag }, { workingSizePx: 64, globalSizePx: 32 });
      expect(leftShare(r.working, 64)).toBeGreaterThan(0.6);
      // Breast touches the left edge: mask set in the first column around the middle row.
      expect(r.mask[32 * 64 + 0]).toBe(1);
      expect(r.transform.flipped).toBe(pix === right);
    }
  });
});

describe("breast mask vs ground truth (simple phantom)", () => {
  it("IoU > 0.95 for several densities, both sides, with a bright label", async () => {
    let k = 0;
    for (const density of [0.05, 0.3, 0.6]) {
      for (const side of ["left", "right"] as const) {
        const W = 300;
        const H = 400;
        const ph = simplePhantom({ widthPx: W, heightPx: H, chestWall: side, seed: 10 + k++, density, label: true });
        const r = await preprocessPixels({ pixels: ph.pixels, widthPx: W, heightPx: H, laterality: side === "left" ? "L" : "R" }, {
          workingSizePx: 256,
          globalSizePx: 64,
          maskMaxSidePx: 200,
        });
        const iou = maskIoU(r.mask, truthInWorking(ph.silhouette, W, H, r));
        expect(iou, `density ${density} ${side}`).toBeGreaterThan(0.95);
      }
    }
  });
});

describe("coordinates", () => {
  function randomTransform(rng: Rng): ImageTransform {
    const W = rng.int(50, 4000);
    const H = rng.int(50, 5000);
    const x0 = rng.int(0, W - 10);
    const y0 = rng.int(0, H - 10);
    const crop = { x0, y0, x1: rng.int(x0 + 5, W), y1: rng.int(y0 + 5, H) };
    return makeTransform({ originalWidthPx: W, originalHeightPx: H, flipped: rng.bernoulli(0.5), crop, workingSizePx: rng.pick([128, 1024, 4096]) });
  }
  it("box original -> working -> original within 1 px (random transforms, flips)", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 500; i++) {
      const t = randomTransform(rng);
      const bx0 = rng.range(0, t.originalWidthPx - 2);
      const by0 = rng.range(0, t.originalHeightPx - 2);
      const box = { x0: bx0, y0: by0, x1: rng.range(bx0 + 1, t.originalWidthPx), y1: rng.range(by0 + 1, t.originalHeightPx) };
      const back = boxWorkingToOriginal(boxOriginalToWorking(box, t), t);
      for (const k of ["x0", "y0", "x1", "y1"] as const) expect(Math.abs(back[k] - box[k])).toBeLessThan(1);
      const w = boxOriginalToWorking(box, t);
      expect(w.x1).toBeGreaterThan(w.x0);
      expect((w.x1 - w.x0) / (box.x1 - box.x0)).toBeCloseTo(t.scale, 6);
      const p = { xPx: rng.range(0, t.originalWidthPx), yPx: rng.range(0, t.originalHeightPx) };
      const q = workingToOriginal(originalToWorking(p, t), t);
      expect(Math.abs(q.xPx - p.xPx) + Math.abs(q.yPx - p.yPx)).toBeLessThan(1e-6);
    }
  });
  it("maps the crop box onto the working square (hand-computed)", () => {
    // 1000 x 800 image, flipped, crop [600, 1000) x [100, 700) in the flipped frame:
    // square side 600, pad x 0, pad y 0, scale 300 / 600.
    const t = makeTransform({ originalWidthPx: 1000, originalHeightPx: 800, flipped: true, crop: { x0: 600, y0: 100, x1: 1000, y1: 700 }, workingSizePx: 300 });
    expect(t).toMatchObject({ squareSizePx: 600, padXPx: 0, padYPx: 0, scale: 0.5 });
    // Original x = 0 is flipped-frame x = 1000 (the crop's right edge): working x = 400 * 0.5.
    expect(originalToWorking({ xPx: 0, yPx: 100 }, t)).toEqual({ xPx: 200, yPx: 0 });
    expect(originalToWorking({ xPx: 400, yPx: 700 }, t)).toEqual({ xPx: 0, yPx: 300 });
    const t2 = makeTransform({ originalWidthPx: 1000, originalHeightPx: 800, flipped: false, crop: { x0: 0, y0: 0, x1: 500, y1: 301 }, workingSizePx: 250 });
    expect(t2).toMatchObject({ squareSizePx: 500, padXPx: 0, padYPx: 99, scale: 0.5 });
  });
  it("a bright dot lands where the transform says, in the real pipeline", async () => {
    for (const tag of ["L", "R"] as const) {
      const W = 240;
      const H = 320;
      const ph = simplePhantom({ widthPx: W, heightPx: H, chestWall: tag === "L" ? "left" : "right", seed: 99, density: 0 });
      const pix = ph.pixels.map((v) => v * 0.5);
      // 4 x 4 dot at original (dx, dy) inside the breast.
      const dx = tag === "L" ? 40 : W - 44;
      const dy = 150;
      for (let y = dy; y < dy + 4; y++) for (let x = dx; x < dx + 4; x++) pix[y * W + x] = 1;
      const r = await preprocessPixels({ pixels: pix, widthPx: W, heightPx: H, laterality: tag }, { workingSizePx: 400, globalSizePx: 64, kernel: "linear" });
      const c = originalToWorking({ xPx: dx + 2, yPx: dy + 2 }, r.transform);
      // Brightest-neighbourhood centroid of values above 0.8 in the working image.
      let sx = 0;
      let sy = 0;
      let s = 0;
      for (let y = 0; y < 400; y++)
        for (let x = 0; x < 400; x++) {
          const v = r.working[y * 400 + x] / 65535;
          if (v > 0.75) {
            sx += (x + 0.5) * v;
            sy += (y + 0.5) * v;
            s += v;
          }
        }
      expect(s).toBeGreaterThan(0);
      expect(Math.abs(sx / s - c.xPx)).toBeLessThan(1.5);
      expect(Math.abs(sy / s - c.yPx)).toBeLessThan(1.5);
    }
  });
});
