import { describe, expect, it } from "vitest";
import { boxHits, frocCurve, frocRow, sensitivityAtFp } from "../../lib/explain/froc";
import type { DetectionImage } from "../../lib/explain/detection";

const L = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1, kind: "Mass", birads: 4 });
const P = (x0: number, y0: number, x1: number, y1: number, score: number) => ({ x0, y0, x1, y1, score });

// Image A: two lesions; a hit, a duplicate on the same lesion, a false positive, and a box whose
// centre lies in lesion 2 but whose IoU with it is 100 / 900 = 0.11. Image B: negative, two boxes.
const images: DetectionImage[] = [
  {
    imageId: "A",
    groundTruth: [L(0, 0, 10, 10), L(50, 50, 60, 60)],
    predictions: [P(0, 0, 10, 10, 0.9), P(1, 1, 11, 11, 0.8), P(100, 100, 110, 110, 0.7), P(44, 44, 74, 74, 0.6)],
  },
  { imageId: "B", groundTruth: [], predictions: [P(0, 0, 5, 5, 0.75), P(20, 20, 40, 40, 0.5)] },
];

describe("FROC on a hand-made box set", () => {
  it("counts lesions once, duplicates as neither, and FPs per image over all images (IoU >= 0.25)", () => {
    const c = frocCurve(images, { criterion: "iou" });
    expect(c.images).toBe(2);
    expect(c.lesions).toBe(2);
    expect(c.boxes).toBe(6);
    // hand computed, in score order 0.9 hit, 0.8 dup, 0.75 FP, 0.7 FP, 0.6 FP (IoU 0.11), 0.5 FP
    expect(c.fpPerImage).toEqual([0, 0, 0, 0.5, 1, 1.5, 2]);
    expect(c.sensitivity).toEqual([0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(c.thresholds).toEqual([Infinity, 0.9, 0.8, 0.75, 0.7, 0.6, 0.5]);
    expect(sensitivityAtFp(c, 0.5)).toBe(0.5);
    expect(sensitivityAtFp(c, 1)).toBe(0.5);
    expect(sensitivityAtFp(c, 2)).toBe(0.5);
  });

  it("counts a box whose centre lies inside the lesion as a hit under the centre criterion", () => {
    const c = frocCurve(images, { criterion: "centre" });
    expect(c.fpPerImage).toEqual([0, 0, 0, 0.5, 1, 1, 1.5]);
    expect(c.sensitivity).toEqual([0, 0.5, 0.5, 0.5, 0.5, 1, 1]);
    expect(sensitivityAtFp(c, 0.5)).toBe(0.5);
    expect(sensitivityAtFp(c, 1)).toBe(1);
    const row = frocRow("m", images, "centre");
    expect(row.sensAt).toEqual({ "0.5": 0.5, "1": 1, "2": 1 });
    expect(row.maxFpPerImage).toBe(1.5);
    expect(row.maxSensitivity).toBe(1);
  });

  it("puts tied scores into one operating point", () => {
    const tied: DetectionImage[] = [{ imageId: "T", groundTruth: [L(0, 0, 10, 10)], predictions: [P(50, 50, 60, 60, 0.5), P(0, 0, 10, 10, 0.5)] }];
    const c = frocCurve(tied, { criterion: "iou" });
    expect(c.fpPerImage).toEqual([0, 1]);
    expect(c.sensitivity).toEqual([0, 1]);
    // no operating point with 0.5 FP/image reaches the lesion
    expect(sensitivityAtFp(c, 0.5)).toBe(0);
  });

  it("uses half-open lesion boxes for the centre and IoU >= threshold inclusive", () => {
    expect(boxHits(P(0, 0, 20, 20, 1), L(10, 10, 30, 30), "centre")).toBe(true); // centre (10, 10)
    expect(boxHits(P(0, 0, 20, 20, 1), L(0, 0, 10, 10), "centre")).toBe(false); // centre on the far edge
    // IoU exactly 0.25: intersection 4 x 10 = 40, union 100 + 100 - 40 = 160
    expect(boxHits(P(0, 0, 10, 10, 1), L(6, 0, 16, 10), "iou", 0.25)).toBe(true);
    expect(boxHits(P(0, 0, 10, 10, 1), L(7, 0, 17, 10), "iou", 0.25)).toBe(false);
  });

  it("gives NaN sensitivity without lesions", () => {
    const c = frocCurve([images[1]], { criterion: "iou" });
    expect(c.lesions).toBe(0);
    expect(sensitivityAtFp(c, 1)).toBeNaN();
  });
});
