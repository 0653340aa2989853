import { MetricError } from "./errors";
import { rocCounts } from "./roc";
import { BinaryInput, checkBinaryInput, checkRate, requireBothClasses } from "./validate";

/**
 * Rates compared against a target sensitivity get this slack, so that e.g. 9/10 >= 0.9 holds
 * whatever rounding the caller's target went through.
 */
const RATE_TOLERANCE = 1e-12;

/** An operating point on the ROC curve: predict positive when score >= threshold. */
export interface OperatingPoint {
  threshold: number;
  sensitivity: number;
  specificity: number;
}

/** Counts at one threshold (predicted positive when score >= threshold). */
export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/** Confusion counts at a threshold: a sample is predicted positive when score >= threshold. */
export function confusionAtThreshold(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold: number): ConfusionCounts {
  const input = checkBinaryInput(labels, scores, "confusionAtThreshold");
  return confusionOfChecked(input, threshold, "confusionAtThreshold");
}

function confusionOfChecked(input: BinaryInput, threshold: number, what: string): ConfusionCounts {
  if (Number.isNaN(threshold)) throw new MetricError(`${what}: threshold is NaN`);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < input.labels.length; i++) {
    if (input.scores[i] >= threshold) {
      if (input.labels[i] === 1) tp++;
      else fp++;
    }
  }
  return {
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: input.nNegative - fp,
    falseNegatives: input.nPositive - tp,
  };
}

/**
 * Balanced accuracy at a threshold (predicted positive when score >= threshold): the mean of
 * sensitivity and specificity. As scikit-learn's balanced_accuracy_score, the mean runs over the
 * classes present in `labels`: with one class only it is that class's recall (documented value,
 * no error).
 */
export function balancedAccuracy(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold: number): number {
  const input = checkBinaryInput(labels, scores, "balancedAccuracy");
  return balancedAccuracyOfChecked(input, threshold);
}

export function balancedAccuracyOfChecked(input: BinaryInput, threshold: number): number {
  const c = confusionOfChecked(input, threshold, "balancedAccuracy");
  const recalls: number[] = [];
  if (input.nPositive > 0) recalls.push(c.truePositives / input.nPositive);
  if (input.nNegative > 0) recalls.push(c.trueNegatives / input.nNegative);
  return recalls.reduce((a, b) => a + b, 0) / recalls.length;
}

/**
 * Specificity at a target sensitivity, exact from the ROC curve: among all operating points
 * (the distinct scores and +Infinity) whose sensitivity is >= target, the one with the highest
 * specificity; among those with equal specificity, the one with the highest sensitivity.
 * Not a scan over a fixed grid of thresholds. Needs both classes (MetricError otherwise).
 */
export function specificityAtSensitivity(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  target = 0.9,
): OperatingPoint {
  const input = checkBinaryInput(labels, scores, "specificityAtSensitivity");
  return specificityAtSensitivityOfChecked(input, target);
}

export function specificityAtSensitivityOfChecked(input: BinaryInput, target: number): OperatingPoint {
  const what = "specificityAtSensitivity";
  checkRate(target, what, "target sensitivity");
  requireBothClasses(input, what, "sensitivity and specificity need both classes");
  const c = rocCounts(input);
  // Along the ROC (descending thresholds) both counts are non-decreasing, so the highest
  // specificity with sensitivity >= target is at the first point reaching the target, moved on
  // while the false-positive count stays the same (higher sensitivity, same specificity).
  let g = 0;
  while (c.truePositives[g] / c.nPositive < target - RATE_TOLERANCE) g++;
  while (g + 1 < c.thresholds.length && c.falsePositives[g + 1] === c.falsePositives[g]) g++;
  return {
    threshold: c.thresholds[g],
    sensitivity: c.truePositives[g] / c.nPositive,
    specificity: 1 - c.falsePositives[g] / c.nNegative,
  };
}

/** How to choose a decision threshold on the validation split. */
export type ThresholdRule = "balancedAccuracy" | { sensitivity: number };

/** A threshold chosen on validation data, with the validation operating point it gives. */
export interface ThresholdChoice extends OperatingPoint {
  rule: ThresholdRule;
  /** Balanced accuracy on the validation data at this threshold. */
  balancedAccuracy: number;
}

/**
 * Chooses a decision threshold ON VALIDATION DATA, to be applied unchanged to test data (never
 * choose it on the split you report). The candidates are the ROC operating points of the
 * validation scores (each distinct score, plus +Infinity = predict nothing positive); the
 * returned threshold is a validation score value and `score >= threshold` means positive.
 * - "balancedAccuracy": the point with the highest balanced accuracy (ties: highest threshold).
 * - { sensitivity: t }: the specificityAtSensitivity point for target t.
 * Needs both classes in the validation data (MetricError otherwise).
 */
export function chooseThreshold(
  valLabels: ArrayLike<number>,
  valScores: ArrayLike<number>,
  rule: ThresholdRule = "balancedAccuracy",
): ThresholdChoice {
  const input = checkBinaryInput(valLabels, valScores, "chooseThreshold");
  requireBothClasses(input, "chooseThreshold", "a threshold cannot be chosen on one class");
  if (rule === "balancedAccuracy") {
    const c = rocCounts(input);
    let best = 0;
    let bestValue = -1;
    for (let g = 0; g < c.thresholds.length; g++) {
      // Compare 2 * bAcc as an exact sum of the two rates (ties resolved to the first = highest).
      const value = c.truePositives[g] / c.nPositive + (1 - c.falsePositives[g] / c.nNegative);
      if (value > bestValue + RATE_TOLERANCE) {
        bestValue = value;
        best = g;
      }
    }
    const sensitivity = c.truePositives[best] / c.nPositive;
    const specificity = 1 - c.falsePositives[best] / c.nNegative;
    return {
      rule,
      threshold: c.thresholds[best],
      sensitivity,
      specificity,
      balancedAccuracy: (sensitivity + specificity) / 2,
    };
  }
  if (typeof rule === "object" && rule !== null && typeof rule.sensitivity === "number") {
    const point = specificityAtSensitivityOfChecked(input, rule.sensitivity);
    return { rule, ...point, balancedAccuracy: (point.sensitivity + point.specificity) / 2 };
  }
  throw new MetricError(`chooseThreshold: unknown rule ${JSON.stringify(rule)} (use "balancedAccuracy" or {sensitivity: t})`);
}
