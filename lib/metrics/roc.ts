import { MetricError } from "./errors";
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

/** The positives' and the negatives' scores, each sorted ascending (native typed-array sort). */
function sortedByClass(input: BinaryInput): { pos: Float64Array; neg: Float64Array } {
  const pos = new Float64Array(input.nPositive);
  const neg = new Float64Array(input.nNegative);
  let ip = 0;
  let ineg = 0;
  for (let i = 0; i < input.labels.length; i++) {
    if (input.labels[i] === 1) pos[ip++] = input.scores[i];
    else neg[ineg++] = input.scores[i];
  }
  // Sorting the two classes apart with the native numeric sort is several times faster than
  // sorting an index array with a comparator; the two are then merged.
  pos.sort();
  neg.sort();
  return { pos, neg };
}

/** ROC counts of checked input, O(n log n). Works with one class present (rates are then 0/0). */
export function rocCounts(input: BinaryInput): RocCounts {
  const { pos, neg } = sortedByClass(input);
  const thresholds: number[] = [Infinity];
  const truePositives: number[] = [0];
  const falsePositives: number[] = [0];
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  // Walk the distinct scores from the highest down, taking every sample tied at each value.
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? neg[j] : j < 0 ? pos[i] : Math.max(pos[i], neg[j]);
    while (i >= 0 && pos[i] === v) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === v) {
      fp++;
      j--;
    }
    thresholds.push(v);
    truePositives.push(tp);
    falsePositives.push(fp);
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
 *
 * Argument order as scikit-learn's roc_auc_score(y_true, y_score): LABELS first (0/1), then
 * SCORES (higher = more likely positive). This is the project's one AUC; every caller uses it
 * (directly, through rocAucOrNaN, or through resampleMetrics.auc).
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const input = checkBinaryInput(labels, scores, "rocAuc");
  requireBothClasses(input, "rocAuc", "ROC AUC is undefined");
  return aucOfChecked(input);
}

/**
 * rocAuc (same arguments, same value) for loops that must go on where the AUC is undefined, such
 * as early stopping in head training: NaN instead of a MetricError when the input is empty, only
 * one class is present or a score is NaN/infinite. Labels other than 0/1 and a length mismatch
 * still throw (they are bugs, not outcomes).
 */
export function rocAucOrNaN(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  if (labels.length !== scores.length) throw new MetricError(`rocAucOrNaN: ${labels.length} labels but ${scores.length} scores (lengths must match)`);
  if (labels.length === 0) return NaN;
  for (let i = 0; i < scores.length; i++) if (!Number.isFinite(scores[i])) return NaN;
  const input = checkBinaryInput(labels, scores, "rocAucOrNaN");
  return input.nPositive === 0 || input.nNegative === 0 ? NaN : aucOfChecked(input);
}

/**
 * AUC of input already checked to hold both classes: with both classes sorted apart, each
 * positive counts the negatives below it plus half of those tied with it.
 */
export function aucOfChecked(input: BinaryInput): number {
  const { pos, neg } = sortedByClass(input);
  // twiceU = sum over positives of (#neg < p) + (#neg <= p) = 2 * (wins + ties / 2); exact integers.
  let below = 0;
  let belowOrTied = 0;
  let twiceU = 0;
  for (let k = 0; k < pos.length; k++) {
    const p = pos[k];
    while (below < neg.length && neg[below] < p) below++;
    if (belowOrTied < below) belowOrTied = below;
    while (belowOrTied < neg.length && neg[belowOrTied] <= p) belowOrTied++;
    twiceU += below + belowOrTied;
  }
  return twiceU / (2 * pos.length * neg.length);
}
