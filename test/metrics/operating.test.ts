import { describe, expect, it } from "vitest";
import {
  MetricError,
  balancedAccuracy,
  chooseThreshold,
  confusionAtThreshold,
  evaluateSplit,
  evaluateValTest,
  specificityAtSensitivity,
} from "../../lib/metrics";

describe("specificityAtSensitivity exact from the ROC", () => {
  it("by hand on a small case", () => {
    const labels = [0, 0, 1, 1];
    const scores = [0.1, 0.4, 0.35, 0.8];
    // sens >= 0.9 needs both positives: threshold 0.35 also flags neg 0.4 -> spec 1/2
    expect(specificityAtSensitivity(labels, scores, 0.9)).toEqual({ threshold: 0.35, sensitivity: 1, specificity: 0.5 });
    // sens >= 0.5: threshold 0.8 flags one positive, no negative -> spec 1
    expect(specificityAtSensitivity(labels, scores, 0.5)).toEqual({ threshold: 0.8, sensitivity: 0.5, specificity: 1 });
  });
  it("default target is 0.9", () => {
    expect(specificityAtSensitivity([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).specificity).toBe(0.5);
  });
  it("among points with equal specificity, takes the higher sensitivity", () => {
    // thr 0.9: (sens 1/2, spec 1); thr 0.8: (sens 1, spec 1) -> the latter
    expect(specificityAtSensitivity([1, 1, 0], [0.9, 0.8, 0.1], 0.5)).toEqual({ threshold: 0.8, sensitivity: 1, specificity: 1 });
  });
  it("is exact where a 100-threshold scan is wrong", () => {
    // 9 positives packed in [0.9025, 0.9045], one low positive; one negative just below them.
    const pos = [0.9025, 0.9028, 0.903, 0.9033, 0.9035, 0.9038, 0.904, 0.9043, 0.9045, 0.3];
    const neg = [0.9021, 0.1, 0.15, 0.2, 0.25, 0.35, 0.4, 0.45, 0.5, 0.55];
    const labels = [...pos.map(() => 1), ...neg.map(() => 0)];
    const scores = [...pos, ...neg];
    // By hand: threshold 0.9025 keeps 9/10 positives and no negative -> specificity 1.
    const exact = specificityAtSensitivity(labels, scores, 0.9);
    expect(exact).toEqual({ threshold: 0.9025, sensitivity: 0.9, specificity: 1 });
    // The authors' scan over 100 thresholds in [0, 1] (shown here so the difference is visible).
    let scanBest = 0;
    for (let k = 0; k < 100; k++) {
      const t = k / 99;
      const sens = pos.filter((s) => s >= t).length / pos.length;
      const spec = neg.filter((s) => s < t).length / neg.length;
      if (sens >= 0.9) scanBest = Math.max(scanBest, spec);
    }
    expect(scanBest).toBe(0.9);
    expect(exact.specificity).not.toBe(scanBest);
  });
  it("targets 1 and 0", () => {
    const labels = [0, 0, 1, 1];
    const scores = [0.1, 0.4, 0.35, 0.8];
    expect(specificityAtSensitivity(labels, scores, 1)).toEqual({ threshold: 0.35, sensitivity: 1, specificity: 0.5 });
    // target 0 is met at +Infinity; moving on while no negative is flagged reaches 0.8
    expect(specificityAtSensitivity(labels, scores, 0)).toEqual({ threshold: 0.8, sensitivity: 0.5, specificity: 1 });
    // all tied: the only points are +Infinity (sens 0) and the tie (sens 1, spec 0)
    expect(specificityAtSensitivity([0, 1, 1], [2, 2, 2], 0.9)).toEqual({ threshold: 2, sensitivity: 1, specificity: 0 });
  });
  it("one class present and bad targets throw", () => {
    expect(() => specificityAtSensitivity([1, 1], [0.2, 0.3])).toThrow(MetricError);
    expect(() => specificityAtSensitivity([0, 1], [0.2, 0.3], 1.5)).toThrow(/target sensitivity must be in \[0, 1\]/);
  });
});

describe("balancedAccuracy by hand", () => {
  const labels = [0, 0, 1, 1];
  const scores = [0.1, 0.4, 0.35, 0.8];
  it("mean of sensitivity and specificity, score >= threshold is positive", () => {
    // t = 0.38: predictions 0,1,0,1 -> sens 1/2, spec 1/2
    expect(balancedAccuracy(labels, scores, 0.38)).toBe(0.5);
    // t = 0.35 (inclusive): predictions 0,1,1,1 -> sens 1, spec 1/2
    expect(balancedAccuracy(labels, scores, 0.35)).toBe(0.75);
    // t = 0.9: nothing positive -> sens 0, spec 1
    expect(balancedAccuracy(labels, scores, 0.9)).toBe(0.5);
    // unbalanced classes: 1 positive of 1, 2 negatives of 3 correct -> (1 + 2/3) / 2
    expect(balancedAccuracy([0, 0, 0, 1], [0.1, 0.2, 0.7, 0.9], 0.5)).toBeCloseTo(5 / 6, 15);
  });
  it("one class present: documented as that class's recall", () => {
    expect(balancedAccuracy([1, 1], [0.2, 0.7], 0.5)).toBe(0.5);
    expect(balancedAccuracy([0, 0, 0], [0.2, 0.7, 0.1], 0.5)).toBeCloseTo(2 / 3, 15);
  });
  it("confusion counts by hand", () => {
    expect(confusionAtThreshold(labels, scores, 0.35)).toEqual({
      truePositives: 2,
      falsePositives: 1,
      trueNegatives: 1,
      falseNegatives: 0,
    });
  });
});

describe("thresholds are chosen on validation, never on test", () => {
  const val = { labels: [0, 0, 1, 1], scores: [0.1, 0.2, 0.3, 0.4] };
  const test = { labels: [0, 0, 1, 1], scores: [0.25, 0.35, 0.5, 0.6] };
  it("max balanced accuracy on val", () => {
    const choice = chooseThreshold(val.labels, val.scores, "balancedAccuracy");
    expect(choice.threshold).toBe(0.3);
    expect(choice.balancedAccuracy).toBe(1);
  });
  it("ties resolve to the highest threshold", () => {
    // 2 * bAcc at thresholds inf, .4, .3, .2, .1 = 1, 1.5, 1, 1.5, 1 -> 0.4
    const choice = chooseThreshold([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], "balancedAccuracy");
    expect(choice.threshold).toBe(0.4);
    expect(choice.balancedAccuracy).toBe(0.75);
  });
  it("sensitivity rule", () => {
    const choice = chooseThreshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], { sensitivity: 0.9 });
    expect(choice.threshold).toBe(0.35);
    expect(choice.specificity).toBe(0.5);
  });
  it("evaluateValTest applies the val threshold to test", () => {
    const r = evaluateValTest(val, test);
    expect(r.threshold.threshold).toBe(0.3);
    // On test, 0.3 flags neg 0.35 too: sens 1, spec 1/2 (a test-chosen 0.5 would give 1).
    expect(r.test.threshold).toBe(0.3);
    expect(r.test.balancedAccuracy).toBe(0.75);
    expect(r.test.specificity).toBe(0.5);
    expect(r.test.auc).toBe(1);
    expect(r.val.balancedAccuracy).toBe(1);
  });
  it("changing the test scores never changes the threshold", () => {
    const a = evaluateValTest(val, test);
    const b = evaluateValTest(val, { labels: test.labels, scores: [0.9, 0.8, 0.01, 0.02] });
    expect(b.threshold.threshold).toBe(a.threshold.threshold);
    expect(b.test.auc).toBe(0);
  });
  it("evaluateSplit without a threshold leaves balanced accuracy null", () => {
    const m = evaluateSplit({ labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8] }, null);
    expect(m.balancedAccuracy).toBeNull();
    expect(m.auc).toBe(0.75);
    expect(m.specificityAtSensitivity).toBe(0.5);
    expect(m).toMatchObject({ n: 4, nPositive: 2, nNegative: 2, specAtSensThreshold: 0.35 });
  });
  it("one class on val cannot choose a threshold", () => {
    expect(() => chooseThreshold([1, 1], [0.3, 0.4])).toThrow(/a threshold cannot be chosen on one class/);
  });
});
