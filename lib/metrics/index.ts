// The public API of lib/metrics: classification metrics with scikit-learn semantics, exact
// operating points, thresholds chosen on validation, patient-level bootstrap intervals, and the
// predictions-CSV scoring behind `milpf metrics`. (Detection AP lives in lib/explain.)
export { MetricError } from "./errors";
export { checkBinaryInput } from "./validate";
export type { BinaryInput } from "./validate";
export { rocCurve, rocAuc, rocAucOrNaN, rocCounts, mannWhitneyU } from "./roc";
export type { RocCurve, RocCounts } from "./roc";
export { balancedAccuracy, chooseThreshold, confusionAtThreshold, specificityAtSensitivity } from "./operating";
export type { ConfusionCounts, OperatingPoint, ThresholdChoice, ThresholdRule } from "./operating";
export { bootstrapCi, quantileSorted } from "./bootstrap";
export type { BootstrapInterval, BootstrapOptions, ResampleMetric } from "./bootstrap";
export { evaluateSplit, evaluateValTest, resampleMetrics } from "./evaluate";
export type { EvaluateOptions, SplitIntervals, SplitMetrics, SplitPredictions, ValTestMetrics } from "./evaluate";
export { parsePredictionsCsv, readPredictionsCsv } from "./predictionsCsv";
export type { PredictionsTable } from "./predictionsCsv";
export { formatMetricsReport, scorePredictions } from "./report";
export type { IntervalSummary, MetricsReport, ScoreOptions, SplitReport } from "./report";
