import { describe, expect, it } from "vitest";
import { MetricError, checkBinaryInput, mannWhitneyU, rocAuc, rocAucOrNaN, rocCounts, rocCurve } from "../../lib/metrics";
import { pairwiseAuc } from "./oracle";
import { Rng } from "../../lib/util/rng";


describe("rocAuc by hand", () => {
  it("small case: 3 of 4 pairs ordered", () => {
    // pos 0.35 beats neg 0.1, loses to neg 0.4; pos 0.8 beats both -> 3/4
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
  });
  it("ties count one half", () => {
    // pos 0.5: tie with neg 0.5 (1/2) + beats 0.2 (1); pos 0.9 beats both (2) -> 3.5/4
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
  });
  it("perfect separation and perfect inversion", () => {
    expect(rocAuc([0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.9])).toBe(1);
    expect(rocAuc([0, 0, 0, 1, 1], [0.9, 0.8, 0.7, 0.2, 0.1])).toBe(0);
  });
  it("all scores tied gives 0.5", () => {
    expect(rocAuc([0, 1, 1, 0, 1], [3, 3, 3, 3, 3])).toBe(0.5);
  });
  it("one pair of each class, tie inside a larger group", () => {
    // pos: 2, 2, 5; neg: 2, 1. pairs (pos,neg): (2,2)=.5 (2,1)=1 (2,2)=.5 (2,1)=1 (5,2)=1 (5,1)=1 -> 5/6
    expect(rocAuc([1, 1, 1, 0, 0], [2, 2, 5, 2, 1])).toBeCloseTo(5 / 6, 15);
  });
  it("accepts typed arrays", () => {
    expect(rocAuc(new Uint8Array([0, 0, 1, 1]), new Float32Array([0.1, 0.4, 0.35, 0.8]))).toBe(0.75);
  });
});

describe("rocAuc: scikit-learn's argument order (y_true, y_score)", () => {
  it("a hand-computed example with ties", () => {
    // positives 0.8, 0.5, 0.5; negatives 0.5, 0.3. Pairs (p, n): 0.8 beats both (2);
    // each 0.5 ties 0.5 (1/2) and beats 0.3 (1): 2 + 2 * 1.5 = 5 of 6 pairs.
    const labels = [1, 0, 1, 1, 0];
    const scores = [0.8, 0.5, 0.5, 0.5, 0.3];
    expect(rocAuc(labels, scores)).toBe(5 / 6);
    expect(rocAucOrNaN(labels, scores)).toBe(5 / 6);
    // swapping the arguments is caught (scores are not 0/1 labels), not silently wrong
    expect(() => rocAuc(scores, labels)).toThrow(/label\(s\) are not 0 or 1/);
  });
  it("rocAucOrNaN: NaN where the AUC is undefined, instead of throwing", () => {
    expect(rocAucOrNaN([1, 1], [0.2, 0.4])).toBeNaN();
    expect(rocAucOrNaN([], [])).toBeNaN();
    expect(rocAucOrNaN([0, 1], [0.2, NaN])).toBeNaN();
    expect(() => rocAucOrNaN([0, 1], [0.2])).toThrow(MetricError);
    expect(() => rocAucOrNaN([0, 2], [0.2, 0.3])).toThrow(MetricError);
  });
});

describe("rocAuc equals the pairwise count on random data", () => {
  it("with many ties (scores rounded) and without", () => {
    const rng = new Rng(11);
    for (const round of [true, false]) {
      for (let trial = 0; trial < 5; trial++) {
        const n = 150 + trial * 17;
        const labels: number[] = [];
        const scores: number[] = [];
        for (let i = 0; i < n; i++) {
          const y = rng.bernoulli(0.3) ? 1 : 0;
          const s = rng.normal(y * 0.8, 1);
          labels.push(y);
          scores.push(round ? Math.round(s * 4) / 4 : s);
        }
        expect(rocAuc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 12);
      }
    }
  });
  it("equals the trapezoidal area under rocCurve", () => {
    const rng = new Rng(5);
    const labels = Array.from({ length: 300 }, () => (rng.bernoulli(0.5) ? 1 : 0));
    const scores = labels.map((y) => Math.round(rng.normal(y, 1.5) * 3) / 3);
    const roc = rocCurve(labels, scores);
    let area = 0;
    for (let k = 1; k < roc.fpr.length; k++) area += ((roc.fpr[k] - roc.fpr[k - 1]) * (roc.tpr[k] + roc.tpr[k - 1])) / 2;
    expect(rocAuc(labels, scores)).toBeCloseTo(area, 12);
    // and the Mann-Whitney U counted from the ROC groups (a second code path)
    const c = rocCounts(checkBinaryInput(labels, scores, "test"));
    expect(rocAuc(labels, scores)).toBeCloseTo(mannWhitneyU(c) / (c.nPositive * c.nNegative), 12);
  });
});

describe("rocCurve by hand", () => {
  it("distinct thresholds, descending, starting at +Infinity", () => {
    const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(roc.thresholds).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    expect(roc.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(roc.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
  });
  it("a tied group is one point", () => {
    const roc = rocCurve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]);
    expect(roc.thresholds).toEqual([Infinity, 0.9, 0.5, 0.2]);
    expect(roc.tpr).toEqual([0, 0.5, 1, 1]);
    expect(roc.fpr).toEqual([0, 0, 0.5, 1]);
  });
  it("all tied: two points", () => {
    const roc = rocCurve([1, 0, 0], [7, 7, 7]);
    expect(roc.thresholds).toEqual([Infinity, 7]);
    expect(roc.tpr).toEqual([0, 1]);
    expect(roc.fpr).toEqual([0, 1]);
  });
});

describe("edge cases give a clear error", () => {
  it("one class present: MetricError saying AUC is undefined", () => {
    expect(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3])).toThrow(MetricError);
    expect(() => rocAuc([0, 0], [0.1, 0.2])).toThrow(/only one class present \(0 positive, 2 negative\); ROC AUC is undefined/);
    expect(() => rocCurve([1, 1], [0.1, 0.2])).toThrow(/only one class/);
  });
  it("NaN scores: names the count and the first index", () => {
    expect(() => rocAuc([0, 1, 0, 1], [0.1, NaN, 0.3, NaN])).toThrow(/2 NaN score\(s\) \(first at index 1\)/);
  });
  it("infinite scores, empty input, labels not 0/1, length mismatch", () => {
    expect(() => rocAuc([0, 1], [0.1, Infinity])).toThrow(/1 infinite score/);
    expect(() => rocAuc([], [])).toThrow(/empty input/);
    expect(() => rocAuc([0, 2, 1, -1], [0.1, 0.2, 0.3, 0.4])).toThrow(/2 label\(s\) are not 0 or 1 \(first at index 1: 2\)/);
    expect(() => rocAuc([0, 1, 1], [0.1, 0.2])).toThrow(/3 labels but 2 scores/);
    expect(() => rocAuc([0, 0.5, 1], [0.1, 0.2, 0.3])).toThrow(MetricError);
  });
});
