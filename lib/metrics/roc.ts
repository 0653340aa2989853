import { BinaryInput, checkBinaryInput, requireBothClasses } from "./validate";

/** A ROC curve in scikit-learn's form (roc_curve with drop_intermediate=False). */
export interface RocCurve {
  /** False-positive rate at each threshold (non-decreasing, starts at 0, ends at 1). */
  fpr: number[];
  /** True-positive rate at each threshold (non-decreasing, starts at 0, ends at 1). */
  tpr: number[];
  /**
   * Distinct score values in descending order, preceded by +Infinity (the "predict nothing
   * positive" point). A sample is predicted positive at threshold t when score >= t.
   */
  thresholds: number[];
}

/**
 * Cumulative counts at each distinct threshold (descending), with the leading +Infinity point
 * (0 true positives, 0 false positives). Shared by the ROC, the AUC and the operating points.
 */
export interface RocCounts {
  thresholds: number[];
  truePositives: number[];
  falsePositives: number[];
  nPositive: number;
  nNegative: number;
}

/** Indices of the scores ordered by descending score. */
export function descendingOrder(scores: Float64Array): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a]);
  return order;
}

/** ROC counts of checked input, O(n log n). Works with one class present (rates are then 0/0). */
export function rocCounts(input: BinaryInput): RocCounts {
  const { labels, scores } = input;
  const order = descendingOrder(scores);
  const thresholds: number[] = [Infinity];
  const truePositives: number[] = [0];
  const falsePositives: number[] = [0];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    // Close a threshold group at the last sample carrying this score value.
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) {
      thresholds.push(scores[i]);
      truePositives.push(tp);
      falsePositives.push(fp);
    }
  }
  return { thresholds, truePositives, falsePositives, nPositive: input.nPositive, nNegative: input.nNegative };
}

/**
 * ROC curve: one point per distinct score (descending) plus the leading (+Infinity, 0, 0) point,
 * as scikit-learn's roc_curve(drop_intermediate=False). Throws a MetricError when only one class
 * is present (one of the rates would be 0/0), on NaN/infinite scores, labels not 0/1, empty input
 * or a length mismatch.
 */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  const input = checkBinaryInput(labels, scores, "rocCurve");
  requireBothClasses(input, "rocCurve", "the ROC curve is undefined");
  const c = rocCounts(input);
  return {
    fpr: c.falsePositives.map((f) => f / c.nNegative),
    tpr: c.truePositives.map((t) => t / c.nPositive),
    thresholds: c.thresholds,
  };
}

/**
 * Mann-Whitney U from ROC counts: the number of (positive, negative) pairs ranked correctly, a
 * tie counting one half. Exact in double precision while 2 * nPositive * nNegative < 2^53.
 */
export function mannWhitneyU(c: RocCounts): number {
  let u = 0;
  for (let g = 1; g < c.thresholds.length; g++) {
    const negInGroup = c.falsePositives[g] - c.falsePositives[g - 1];
    const posInGroup = c.truePositives[g] - c.truePositives[g - 1];
    // Each negative in this group is beaten by every positive above it and ties with those in it.
    u += negInGroup * (2 * c.truePositives[g - 1] + posInGroup);
  }
  return u / 2;
}

/**
 * Area under the ROC curve, exact: U / (nPositive * nNegative) with ties counting one half
 * (the Mann-Whitney statistic; equal to the trapezoidal area under rocCurve). O(n log n).
 * All scores tied gives 0.5. One class present throws a MetricError (AUC undefined), as
 * scikit-learn's roc_auc_score raises.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const input = checkBinaryInput(labels, scores, "rocAuc");
  requireBothClasses(input, "rocAuc", "ROC AUC is undefined");
  return aucOfChecked(input);
}

/** AUC of input already checked to hold both classes. */
export function aucOfChecked(input: BinaryInput): number {
  const c = rocCounts(input);
  return mannWhitneyU(c) / (c.nPositive * c.nNegative);
}
