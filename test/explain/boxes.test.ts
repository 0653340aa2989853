import { describe, expect, it } from "vitest";
import { boxesFromHeatmap, iou, nms, quantile, sumInBox } from "../../lib/explain/boxes";
import { labelComponents } from "../../lib/preprocess/morphology";

describe("quantile", () => {
  it("interpolates linearly between order statistics (numpy 'linear')", () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5); // position 0.5 * 3 = 1.5 between 2 and 3
    const v = Array.from({ length: 100 }, (_, i) => 99 - i);
    expect(quantile(v, 0.95)).toBeCloseTo(94.05, 10); // position 94.05 in 0..99
    expect(quantile([1, 100, 2, NaN], 1, [1, 0, 1, 1])).toBe(2); // masked and NaN ignored
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
});

describe("connected components", () => {
  it("joins diagonal neighbours (8-connectivity) and gives boxes and areas", () => {
    // 5 x 4 image:
    //   1 0 0 0 1
    //   0 1 0 0 1
    //   0 0 0 0 0
    //   1 1 1 0 0
    const img = [1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0];
    const { labels, components } = labelComponents(img, 5, 4);
    expect(components).toEqual([
      { x0: 0, y0: 0, x1: 2, y1: 2, areaPx: 2 },
      { x0: 4, y0: 0, x1: 5, y1: 2, areaPx: 2 },
      { x0: 0, y0: 3, x1: 3, y1: 4, areaPx: 3 },
    ]);
    expect(labels[6]).toBe(1); // (1,1) joined to (0,0) diagonally
    expect(labels[2]).toBe(0);
  });
});

describe("boxes from a hand-made map", () => {
  // 6 x 6 map, zeros except two fives on a diagonal and three nines in a row.
  const n = 6;
  const map = new Float32Array(n * n);
  map[0 * n + 0] = 5;
  map[1 * n + 1] = 5;
  map[4 * n + 3] = 9;
  map[4 * n + 4] = 9;
  map[4 * n + 5] = 9;

  it("thresholds at the quantile and scores boxes by summed attention", () => {
    // 36 values sorted: 31 zeros, 5, 5, 9, 9, 9. q = 0.9 -> position 31.5 -> between 5 and 5 = 5.
    expect(quantile(map, 0.9)).toBe(5);
    const boxes = boxesFromHeatmap(map, n, { quantile: 0.9, minAreaPx: 1 });
    // two components: the nines (box [3,6)x[4,5), sum 27) then the fives (box [0,2)^2, sum 10)
    expect(boxes).toEqual([
      { x0: 3, y0: 4, x1: 6, y1: 5, score: 27 },
      { x0: 0, y0: 0, x1: 2, y1: 2, score: 10 },
    ]);
  });

  it("drops components under the minimum area (pixel count) and caps the number of boxes", () => {
    // fives: 2 pixels < 3 -> dropped; nines: 3 pixels and box area 3 -> kept
    expect(boxesFromHeatmap(map, n, { quantile: 0.9, minAreaPx: 3 })).toEqual([{ x0: 3, y0: 4, x1: 6, y1: 5, score: 27 }]);
    // box area rule: nines' box is 3 x 1 = 3 < 4 -> dropped as well
    expect(boxesFromHeatmap(map, n, { quantile: 0.9, minAreaPx: 4 })).toEqual([]);
    expect(boxesFromHeatmap(map, n, { quantile: 0.9, minAreaPx: 1, maxBoxes: 1 })).toHaveLength(1);
  });

  it("sums a map inside a box", () => {
    expect(sumInBox(map, n, n, { x0: 0, y0: 0, x1: 6, y1: 6 })).toBe(37);
    expect(sumInBox(map, n, n, { x0: 4, y0: 4, x1: 9, y1: 9 })).toBe(18); // clipped
  });
});

describe("IoU and NMS", () => {
  const A = { x0: 0, y0: 0, x1: 10, y1: 10, score: 0.9 };
  const B = { x0: 1, y0: 0, x1: 11, y1: 10, score: 0.8 }; // IoU(A,B) = 90 / 110
  const C = { x0: 5, y0: 0, x1: 15, y1: 10, score: 0.7 }; // IoU(A,C) = 50 / 150; IoU(B,C) = 60 / 140
  const D = { x0: 20, y0: 20, x1: 30, y1: 30, score: 0.6 };

  it("computes IoU by hand", () => {
    expect(iou(A, B)).toBeCloseTo(90 / 110, 12);
    expect(iou(A, C)).toBeCloseTo(50 / 150, 12);
    expect(iou(A, D)).toBe(0);
    expect(iou(A, { x0: 10, y0: 0, x1: 20, y1: 10 })).toBe(0); // touching edges
  });

  it("keeps the best box and drops those overlapping a kept one above the threshold", () => {
    // at 0.5: B (0.82 with A) dropped; C (0.33 with A; B no longer kept) kept; D kept
    expect(nms([D, C, B, A], 0.5)).toEqual([A, C, D]);
    // at 0.3: C (0.33 > 0.3) dropped too
    expect(nms([D, C, B, A], 0.3)).toEqual([A, D]);
    // at 0.9 nothing overlaps enough: all kept, in score order
    expect(nms([D, C, B, A], 0.9)).toEqual([A, B, C, D]);
  });
});

describe("quantile by selection", () => {
  it("equals the sort-based definition on random data with many ties", async () => {
    const { Rng } = await import("../../lib/util/rng");
    const rng = new Rng(11);
    for (const n of [1, 2, 3, 10, 101, 5000]) {
      const v = Array.from({ length: n }, () => Math.floor(rng.uniform() * 7)); // heavy ties
      const w = Array.from({ length: n }, () => rng.normal());
      for (const data of [v, w]) {
        const sorted = [...data].sort((a, b) => a - b);
        for (const q of [0, 0.1, 0.5, 0.95, 0.999, 1]) {
          const pos = q * (n - 1);
          const lo = Math.floor(pos);
          const hi = Math.min(n - 1, lo + 1);
          const want = sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
          expect(quantile(data, q)).toBeCloseTo(want, 12);
        }
      }
    }
  });
});
