import { describe, expect, it } from "vitest";
import {
  type BreastShape,
  type LesionSpec,
  type ViewPosition,
  edgeForView,
  normalQuantile,
  renderBreast,
  renderBreastMask,
  sampleBreastShape,
  sampleLesions,
} from "../../lib/data/phantom";
import { powerLawTexturePair } from "../../lib/data/texture";
import { Rng } from "../../lib/util/rng";

const W = 416;
const H = 512;

function render(shape: BreastShape, lesions: LesionSpec[], view: ViewPosition, side: "left" | "right", seed = 1, texture?: Float32Array) {
  return renderBreast(
    { widthPx: W, heightPx: H, view, chestWallSide: side, density: "B", shape, lesions, bitsStored: 12, texture },
    new Rng(seed),
  );
}

/** Element-wise equality of two typed arrays (fast; vitest's deep equality is slow on 200k items). */
function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function centroidX(mask: Uint8Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      s += i % W;
      n++;
    }
  }
  return s / n;
}

describe("normalQuantile", () => {
  it("matches known standard normal quantiles", () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 8);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 6);
  });
});

describe("renderBreast", () => {
  const rng = new Rng(42);
  const shape = sampleBreastShape(rng);
  const lesions = sampleLesions(rng, 5, shape, ["CC", "MLO"], W, H);
  const [texCC, texMLO] = powerLawTexturePair(W, H, new Rng(7));
  const cc = render(shape, lesions, "CC", "left", 1, texCC);
  const mlo = render(shape, lesions, "MLO", "left", 2, texMLO);
  const ccRight = render(shape, lesions, "CC", "right", 1, texCC);

  it("samples at least one lesion for a suspicious breast and none for a negative one", () => {
    expect(lesions.length).toBeGreaterThanOrEqual(1);
    expect(sampleLesions(new Rng(1), 1, shape, ["CC", "MLO"], W, H)).toEqual([]);
  });

  it("keeps stored values within 12 bits and the background near zero", () => {
    for (const r of [cc, mlo]) {
      let bg = 0;
      let nbg = 0;
      let fg = 0;
      let nfg = 0;
      let max = 0;
      for (let i = 0; i < r.pixels.length; i++) {
        max = Math.max(max, r.pixels[i]);
        if (r.breastMask[i]) {
          fg += r.pixels[i];
          nfg++;
        } else {
          bg += r.pixels[i];
          nbg++;
        }
      }
      expect(max).toBeLessThanOrEqual(4095);
      expect(bg / nbg).toBeLessThan(0.03 * 4095);
      expect(fg / nfg).toBeGreaterThan(0.2 * 4095);
    }
  });

  it("puts the breast against the chest-wall side and mirrors it for the right side", () => {
    expect(centroidX(cc.breastMask)).toBeLessThan(W / 2);
    expect(centroidX(ccRight.breastMask)).toBeGreaterThan(W / 2);
    let mismatches = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (ccRight.pixels[y * W + x] !== cc.pixels[y * W + (W - 1 - x)]) mismatches++;
    expect(mismatches).toBe(0);
    expect(ccRight.lesions.map((l) => [W - l.x1, W - l.x0])).toEqual(cc.lesions.map((l) => [l.x0, l.x1]));
  });

  it("gives the MLO a pectoral triangle in the top chest-wall corner, inside the breast, and none on CC", () => {
    let nP = 0;
    let topLeft = 0;
    let outsideBreast = 0;
    for (let i = 0; i < mlo.pectoralMask.length; i++) {
      if (!mlo.pectoralMask[i]) continue;
      nP++;
      if (!mlo.breastMask[i]) outsideBreast++;
      if (i % W < W / 2 && Math.floor(i / W) < H / 2) topLeft++;
    }
    expect(nP).toBeGreaterThan(0.02 * W * H);
    expect(topLeft).toBe(nP);
    expect(outsideBreast).toBe(0);
    expect(cc.pectoralMask.every((v) => v === 0)).toBe(true);
    expect(mlo.pectoralMask[0]).toBe(1);
  });

  it("places lesion boxes inside the breast, sparse, and brighter than their surroundings", () => {
    const area = cc.breastMask.reduce((a, v) => a + v, 0);
    let lesionArea = 0;
    for (const r of [cc, mlo]) {
      expect(r.lesions.length).toBe(lesions.length);
      for (const l of r.lesions) {
        lesionArea += (l.x1 - l.x0) * (l.y1 - l.y0);
        // centre in the breast; >= 90 % of the box in the breast
        const cx = Math.floor((l.x0 + l.x1) / 2);
        const cy = Math.floor((l.y0 + l.y1) / 2);
        expect(r.breastMask[cy * W + cx]).toBe(1);
        let inside = 0;
        for (let y = l.y0; y < l.y1; y++) for (let x = l.x0; x < l.x1; x++) inside += r.breastMask[y * W + x];
        expect(inside / ((l.x1 - l.x0) * (l.y1 - l.y0))).toBeGreaterThan(0.9);
      }
    }
    expect(lesionArea / 2 / area).toBeLessThan(0.05);
    // the same breast without lesions differs only inside the lesion boxes (+ noise is identical: same seed)
    const plain = render(shape, [], "CC", "left", 1, texCC);
    let outsideDiff = 0;
    let insideGain = 0;
    let insideN = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const d = cc.pixels[i] - plain.pixels[i];
        const inBox = cc.lesions.some((l) => x >= l.x0 - 1 && x < l.x1 + 1 && y >= l.y0 - 1 && y < l.y1 + 1);
        if (inBox) {
          insideGain += d;
          insideN++;
        } else outsideDiff += Math.abs(d);
      }
    }
    expect(outsideDiff / (W * H)).toBeLessThan(0.05);
    expect(insideGain / insideN).toBeGreaterThan(0.04 * 4095);
  });

  it("places each lesion at the same relative position along the nipple axis in CC and MLO", () => {
    const edgeCC = edgeForView(shape, "CC", W, H);
    const edgeMLO = edgeForView(shape, "MLO", W, H);
    for (let k = 0; k < lesions.length; k++) {
      const a = cc.lesions[k];
      const b = mlo.lesions[k];
      const relA = (a.x0 + a.x1) / 2 / edgeCC[Math.floor((a.y0 + a.y1) / 2)];
      const relB = (b.x0 + b.x1) / 2 / edgeMLO[Math.floor((b.y0 + b.y1) / 2)];
      expect(Math.abs(relA - relB)).toBeLessThan(0.1);
      expect(Math.abs(relA - lesions[k].a)).toBeLessThan(0.1);
      const areaA = (a.x1 - a.x0) * (a.y1 - a.y0);
      const areaB = (b.x1 - b.x0) * (b.y1 - b.y0);
      expect(areaA / areaB).toBeGreaterThan(0.5);
      expect(areaA / areaB).toBeLessThan(2);
    }
  });

  it("renderBreastMask reproduces the rendered mask without rendering", () => {
    expect(sameArray(renderBreastMask(shape, "CC", "right", W, H), ccRight.breastMask)).toBe(true);
    expect(sameArray(renderBreastMask(shape, "MLO", "left", W, H), mlo.breastMask)).toBe(true);
    expect(sameArray(renderBreastMask(shape, "MLO", "right", W, H), mlo.breastMask)).toBe(false);
  });

  it("is deterministic for the seed and differs for another seed", () => {
    expect(sameArray(render(shape, lesions, "CC", "left", 1, texCC).pixels, cc.pixels)).toBe(true);
    expect(sameArray(render(shape, lesions, "CC", "left", 3, texCC).pixels, cc.pixels)).toBe(false);
  });

  it("makes denser breasts brighter on average", () => {
    const means = (["A", "D"] as const).map((density) => {
      const r = renderBreast({ widthPx: W, heightPx: H, view: "CC", chestWallSide: "left", density, shape, lesions: [], bitsStored: 12, texture: texCC }, new Rng(1));
      let s = 0;
      let n = 0;
      for (let i = 0; i < r.pixels.length; i++) if (r.breastMask[i]) (s += r.pixels[i]), n++;
      return s / n;
    });
    expect(means[1]).toBeGreaterThan(means[0] + 0.05 * 4095);
  });
});

describe("sampleLesions", () => {
  it("only returns lesions that fit every view, for many random breasts", () => {
    const rng = new Rng(5);
    let total = 0;
    for (let k = 0; k < 20; k++) {
      const shape = sampleBreastShape(rng);
      const views: ViewPosition[] = ["CC", "MLO", "XCCL"];
      const ls = sampleLesions(rng, 4, shape, views, W, H);
      total += ls.length;
      for (const view of views) {
        const r = renderBreast({ widthPx: W, heightPx: H, view, chestWallSide: "left", density: "A", shape, lesions: ls, bitsStored: 12, texture: new Float32Array(W * H) }, new Rng(k));
        expect(r.lesions.length).toBe(ls.length);
      }
    }
    expect(total).toBeGreaterThanOrEqual(20);
  });
});
