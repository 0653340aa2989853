import { describe, expect, it } from "vitest";
import {
  averagePrecision,
  averagePrecisionArea,
  detectionTable,
  lesionType,
  matchPredictions,
  sizeBucket,
  type DetectionImage,
} from "../../lib/explain/detection";
import type { LesionBox } from "../../lib/types";

const gt = (x0: number, y0: number, side: number, kind = "Mass"): LesionBox => ({ x0, y0, x1: x0 + side, y1: y0 + side, kind, birads: 4 });
const pred = (x0: number, y0: number, side: number, score: number) => ({ x0, y0, x1: x0 + side, y1: y0 + side, score });

describe("AP by the area method", () => {
  it("matches a hand computation on one image with a duplicate and a false positive", () => {
    const images: DetectionImage[] = [
      {
        imageId: "a",
        groundTruth: [gt(0, 0, 10), gt(20, 20, 10)],
        predictions: [
          pred(0, 0, 10, 0.9), // TP on G1     -> recall 1/2, precision 1/1
          pred(50, 50, 10, 0.8), // FP          -> recall 1/2, precision 1/2
          pred(21, 20, 10, 0.7), // TP on G2 (IoU 90/110) -> recall 1, precision 2/3
          pred(1, 0, 10, 0.6), // duplicate on G1 = FP   -> recall 1, precision 2/4
        ],
      },
    ];
    // envelope of precision from the right: [1, 2/3, 2/3, 1/2]
    // area = (1/2 - 0) * 1 + (1 - 1/2) * 2/3 = 1/2 + 1/3
    const r = averagePrecision(images, matchPredictions(images, 0.25));
    expect(r.recall).toEqual([0.5, 0.5, 1, 1]);
    expect(r.precision).toEqual([1, 0.5, 2 / 3, 0.5]);
    expect(r.ap).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(r.truePositives).toBe(2);
    expect(r.falsePositives).toBe(2);
  });

  it("uses IoU >= 0.25 inclusive", () => {
    const G = [gt(0, 0, 10)];
    // [0,5)^2 inside [0,10)^2: IoU = 25 / 100 = 0.25 exactly -> TP -> AP 1
    const at = [{ imageId: "x", groundTruth: G, predictions: [pred(0, 0, 5, 1)] }];
    expect(averagePrecision(at, matchPredictions(at, 0.25)).ap).toBe(1);
    // [0,4)x[0,5): IoU = 20 / 100 = 0.2 -> FP -> AP 0
    const below = [{ imageId: "x", groundTruth: G, predictions: [{ x0: 0, y0: 0, x1: 4, y1: 5, score: 1 }] }];
    expect(averagePrecision(below, matchPredictions(below, 0.25)).ap).toBe(0);
  });

  it("is NaN without ground truth and handles the envelope sentinels", () => {
    const none = [{ imageId: "x", groundTruth: [], predictions: [pred(0, 0, 5, 1)] }];
    expect(Number.isNaN(averagePrecision(none, matchPredictions(none)).ap)).toBe(true);
    // FP then TP on a single GT: points (0, 0), (1, 1/2) -> AP = 1 * 1/2
    expect(averagePrecisionArea([0, 1], [0, 0.5])).toBe(0.5);
  });

  it("matches predictions only to ground truth of their own image", () => {
    const images = [
      { imageId: "a", groundTruth: [gt(0, 0, 10)], predictions: [] },
      { imageId: "b", groundTruth: [], predictions: [pred(0, 0, 10, 1)] }, // same place, other image -> FP
    ];
    expect(averagePrecision(images, matchPredictions(images)).ap).toBe(0);
  });
});

describe("size buckets and lesion types", () => {
  it("uses the protocol edges at 4096 px and scales them to other resolutions", () => {
    expect(sizeBucket(128 * 128 - 1)).toBe("small");
    expect(sizeBucket(128 * 128)).toBe("medium");
    expect(sizeBucket(256 * 256 - 1)).toBe("medium");
    expect(sizeBucket(256 * 256)).toBe("large");
    // at 1024 px the edges are 32^2 = 1024 and 64^2 = 4096
    expect(sizeBucket(1023, 1024)).toBe("small");
    expect(sizeBucket(1024, 1024)).toBe("medium");
    expect(sizeBucket(4095, 1024)).toBe("medium");
    expect(sizeBucket(4096, 1024)).toBe("large");
  });

  it("reads lesion types from category text", () => {
    expect(lesionType("Mass")).toBe("mass");
    expect(lesionType("Suspicious Calcification")).toBe("calcification");
    expect(lesionType("Architectural Distortion")).toBe("other");
  });

  it("computes bucketed and per-type AP by hand (ignored matches, shared false positives)", () => {
    // at 4096 px: S side 100 (small), M side 200 (medium), L side 300 (large)
    const images: DetectionImage[] = [
      {
        imageId: "a",
        groundTruth: [gt(0, 0, 100, "Mass"), gt(1000, 1000, 300, "Mass")],
        predictions: [pred(1000, 1000, 300, 0.9), pred(3000, 3000, 50, 0.8), pred(0, 0, 100, 0.7)],
      },
      { imageId: "b", groundTruth: [gt(0, 0, 200, "Suspicious Calcification")], predictions: [pred(0, 0, 200, 0.6)] },
    ];
    const rows = detectionTable(images, { resolutionPx: 4096 });
    const all = rows.find((r) => r.lesionType === "all")!;
    // all: TP, FP, TP, TP -> (1/3, 1), (1/3, 1/2), (2/3, 2/3), (1, 3/4); envelope 1, 3/4, 3/4, 3/4
    // area = 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4 = 5/6
    expect(all.ap).toBeCloseTo(5 / 6, 12);
    // small: L hit ignored, FP -> (0, 0), S hit -> (1, 1/2), M hit ignored; AP = 1 * 1/2
    expect(all.apSmall).toBeCloseTo(0.5, 12);
    // medium: FP (0, 0), M hit (1, 1/2) -> 1/2
    expect(all.apMedium).toBeCloseTo(0.5, 12);
    // large: L hit (1, 1), FP (1, 1/2) -> 1
    expect(all.apLarge).toBeCloseTo(1, 12);
    expect([all.gtCount, all.gtSmall, all.gtMedium, all.gtLarge]).toEqual([3, 1, 1, 1]);
    const mass = rows.find((r) => r.lesionType === "mass")!;
    // mass: TP(L) (1/2, 1), FP (1/2, 1/2), TP(S) (1, 2/3), calcification hit ignored
    // area = 1/2 * 1 + 1/2 * 2/3 = 5/6
    expect(mass.ap).toBeCloseTo(5 / 6, 12);
    expect(Number.isNaN(mass.apMedium)).toBe(true); // no medium mass
    const calc = rows.find((r) => r.lesionType === "calcification")!;
    // calcification: L and S hits ignored, FP (0, 0), TP (1, 1/2) -> 1/2
    expect(calc.ap).toBeCloseTo(0.5, 12);
    // at 1024 px the same boxes are all large (edges 32 and 64 px)
    const r1024 = detectionTable(images, { resolutionPx: 1024 })[0];
    expect([r1024.gtSmall, r1024.gtMedium, r1024.gtLarge]).toEqual([0, 0, 3]);
  });
});
