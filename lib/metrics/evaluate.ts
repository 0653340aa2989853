import { BootstrapInterval, BootstrapOptions, ResampleMetric, bootstrapCi } from "./bootstrap";
import { MetricError } from "./errors";
import {
  ThresholdChoice,
  ThresholdRule,
  balancedAccuracyOfChecked,
  chooseThreshold,
  specificityAtSensitivityOfChecked,
} from "./operating";
import { aucOfChecked } from "./roc";
import { BinaryInput, checkBinaryInput, requireBothClasses } from "./validate";

/** The predictions of one split. `patients` (optional) groups rows for the bootstrap. */
export interface SplitPredictions {
  labels: ArrayLike<number>;
  scores: ArrayLike<number>;
  patients?: ArrayLike<string | number> | null;
}

function counted(labels: Uint8Array, scores: Float64Array): BinaryInput {
  let nPositive = 0;
  for (let i = 0; i < labels.length; i++) nPositive += labels[i];
  return { labels, scores, nPositive, nNegative: labels.length - nPositive };
}

/** Ready-made metrics for bootstrapCi (they trust the resample bootstrapCi has checked). */
export const resampleMetrics = {
  auc(): ResampleMetric {
    return (y, s) => aucOfChecked(counted(y, s));
  },
  balancedAccuracy(threshold: number): ResampleMetric {
    return (y, s) => balancedAccuracyOfChecked(counted(y, s), threshold);
  },
  specificityAtSensitivity(target: number): ResampleMetric {
    return (y, s) => specificityAtSensitivityOfChecked(counted(y, s), target).specificity;
  },
};

/** Bootstrap intervals of the three headline metrics. */
export interface SplitIntervals {
  auc: BootstrapInterval;
  balancedAccuracy: BootstrapInterval | null;
  specificityAtSensitivity: BootstrapInterval;
}

/** The metrics of one split at a given decision threshold. */
export interface SplitMetrics {
  n: number;
  nPositive: number;
  nNegative: number;
  auc: number;
  /** The threshold used for balanced accuracy (chosen elsewhere, e.g. on validation); null if none. */
  threshold: number | null;
  /** Balanced accuracy at `threshold`; null when no threshold was given. */
  balancedAccuracy: number | null;
  /** Sensitivity and specificity at `threshold`; null when no threshold was given. */
  sensitivity: number | null;
  specificity: number | null;
  /** The target sensitivity of specificityAtSensitivity. */
  sensitivityTarget: number;
  /** Exact specificity at sensitivity >= target, from this split's own ROC. */
  specificityAtSensitivity: number;
  /** The operating point that gives specificityAtSensitivity. */
  specAtSensSensitivity: number;
  specAtSensThreshold: number;
  /** Bootstrap intervals (present when bootstrap options were given). */
  ci?: SplitIntervals;
}

export interface EvaluateOptions {
  /** Target sensitivity for specificityAtSensitivity (default 0.9). */
  sensitivity?: number;
  /** Bootstrap the intervals (resampling patients where given). Omit for none. */
  bootstrap?: BootstrapOptions;
}

/**
 * Metrics of one split at a threshold chosen elsewhere (pass null for none): AUC,
 * balanced accuracy at the threshold, specificity at sensitivity >= target; with bootstrap
 * options, percentile intervals resampling patients (the threshold stays fixed in resamples).
 * Needs both classes (MetricError otherwise).
 */
export function evaluateSplit(split: SplitPredictions, threshold: number | null, options: EvaluateOptions = {}): SplitMetrics {
  const what = "evaluateSplit";
  const input = checkBinaryInput(split.labels, split.scores, what);
  requireBothClasses(input, what, "AUC and specificity at sensitivity are undefined");
  const target = options.sensitivity ?? 0.9;
  const point = specificityAtSensitivityOfChecked(input, target);
  let balanced: number | null = null;
  let sensitivity: number | null = null;
  let specificity: number | null = null;
  if (threshold !== null) {
    if (Number.isNaN(threshold)) throw new MetricError(`${what}: threshold is NaN`);
    let tp = 0;
    let tn = 0;
    for (let i = 0; i < input.labels.length; i++) {
      const positive = input.scores[i] >= threshold;
      if (positive && input.labels[i] === 1) tp++;
      if (!positive && input.labels[i] === 0) tn++;
    }
    sensitivity = tp / input.nPositive;
    specificity = tn / input.nNegative;
    balanced = (sensitivity + specificity) / 2;
  }
  const result: SplitMetrics = {
    n: input.labels.length,
    nPositive: input.nPositive,
    nNegative: input.nNegative,
    auc: aucOfChecked(input),
    threshold,
    balancedAccuracy: balanced,
    sensitivity,
    specificity,
    sensitivityTarget: target,
    specificityAtSensitivity: point.specificity,
    specAtSensSensitivity: point.sensitivity,
    specAtSensThreshold: point.threshold,
  };
  if (options.bootstrap) {
    const patients = split.patients ?? null;
    const b = options.bootstrap;
    result.ci = {
      auc: bootstrapCi(input.labels, input.scores, patients, resampleMetrics.auc(), b),
      balancedAccuracy:
        threshold === null ? null : bootstrapCi(input.labels, input.scores, patients, resampleMetrics.balancedAccuracy(threshold), b),
      specificityAtSensitivity: bootstrapCi(
        input.labels,
        input.scores,
        patients,
        resampleMetrics.specificityAtSensitivity(target),
        b,
      ),
    };
  }
  return result;
}

export interface ValTestMetrics {
  /** The threshold chosen on validation (and applied to test unchanged). */
  threshold: ThresholdChoice;
  val: SplitMetrics;
  test: SplitMetrics;
}

/**
 * The reporting protocol: choose the threshold on validation (rule default "balancedAccuracy"),
 * then evaluate both splits at that threshold. Test data never influences the threshold.
 */
export function evaluateValTest(
  val: SplitPredictions,
  test: SplitPredictions,
  options: EvaluateOptions & { rule?: ThresholdRule } = {},
): ValTestMetrics {
  const choice = chooseThreshold(val.labels, val.scores, options.rule ?? "balancedAccuracy");
  return {
    threshold: choice,
    val: evaluateSplit(val, choice.threshold, options),
    test: evaluateSplit(test, choice.threshold, options),
  };
}
