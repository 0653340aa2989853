import { describe, expect, it } from "vitest";
import { planSyntheticDataset } from "../../lib/data/synthetic";
import { renderPlannedImage } from "../../lib/data/synthRender";
import { rocAuc } from "../../lib/metrics/roc";

/**
 * The lesion signal must be sparse but detectable by a simple fixed filter: the maximum of a
 * difference of Gaussians over the breast separates suspicious (BI-RADS 4-6) from negative
 * (BI-RADS 1) breasts, while the whole-breast mean intensity does not (the signal is diluted).
 */

/** Running-sum box blur with clamped edges (three passes approximate a Gaussian). */
function boxBlur(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const clampX = (x: number): number => Math.min(w - 1, Math.max(0, x));
  const clampY = (y: number): number => Math.min(h - 1, Math.max(0, y));
  for (let y = 0; y < h; y++) {
    let acc = 0;
    for (let x = -r; x <= r; x++) acc += src[y * w + clampX(x)];
    for (let x = 0; x < w; x++) {
      tmp[y * w + x] = acc / (2 * r + 1);
      acc += src[y * w + clampX(x + r + 1)] - src[y * w + clampX(x - r)];
    }
  }
  for (let x = 0; x < w; x++) {
    let acc = 0;
    for (let y = -r; y <= r; y++) acc += tmp[clampY(y) * w + x];
    for (let y = 0; y < h; y++) {
      out[y * w + x] = acc / (2 * r + 1);
      acc += tmp[clampY(y + r + 1) * w + x] - tmp[clampY(y - r) * w + x];
    }
  }
  return out;
}

function blur3(src: Float32Array, w: number, h: number, r: number): Float32Array {
  return boxBlur(boxBlur(boxBlur(src, w, h, r), w, h, r), w, h, r);
}

describe("lesion detectability", () => {
  it("max-DoG separates suspicious from negative breasts (AUC > 0.85); the breast mean does not (AUC < 0.75)", () => {
    // generator v2 (brightness-detectable lesions); v3 moves the signal to fine scale (test/data/physics.test.ts)
    const tasks = planSyntheticDataset({ outDir: "unused", patients: 24, seed: 3, heightPx: 384, version: 2 });
    const dog: { pos: number[]; neg: number[] } = { pos: [], neg: [] };
    const mean: { pos: number[]; neg: number[] } = { pos: [], neg: [] };
    for (const t of tasks) {
      if (!(t.birads === 1 || t.birads >= 4)) continue;
      let bestDog = -Infinity;
      let bestMean = -Infinity;
      for (const im of t.images) {
        const r = renderPlannedImage(t, im);
        const w = t.widthPx;
        const h = t.heightPx;
        const max = 2 ** im.bitsStored - 1;
        const f = new Float32Array(w * h);
        let sum = 0;
        let n = 0;
        for (let i = 0; i < w * h; i++) {
          f[i] = im.photometric === "MONOCHROME1" ? 1 - r.stored[i] / max : r.stored[i] / max;
          if (r.breastMask[i]) {
            sum += f[i];
            n++;
          }
        }
        bestMean = Math.max(bestMean, sum / n);
        const a = blur3(f, w, h, 3);
        const b = blur3(f, w, h, 6);
        const e = 14; // stay clear of the skin line
        for (let y = e; y < h - e; y++) {
          for (let x = e; x < w - e; x++) {
            const i = y * w + x;
            const m = r.breastMask;
            if (m[i] && m[i - e] && m[i + e] && m[i - e * w] && m[i + e * w]) bestDog = Math.max(bestDog, a[i] - b[i]);
          }
        }
      }
      (t.birads >= 4 ? dog.pos : dog.neg).push(bestDog);
      (t.birads >= 4 ? mean.pos : mean.neg).push(bestMean);
    }
    expect(dog.pos.length).toBeGreaterThanOrEqual(8);
    expect(dog.neg.length).toBeGreaterThanOrEqual(20);
    const auc = (c: { pos: number[]; neg: number[] }): number => rocAuc([...c.pos.map(() => 1), ...c.neg.map(() => 0)], [...c.pos, ...c.neg]);
    expect(auc(dog)).toBeGreaterThan(0.85);
    expect(auc(mean)).toBeLessThan(0.75);
  });
});
