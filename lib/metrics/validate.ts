import { MetricError } from "./errors";

/** Labels and scores after checking: labels are 0/1, scores are finite, lengths agree. */
export interface BinaryInput {
  labels: Uint8Array;
  scores: Float64Array;
  nPositive: number;
  nNegative: number;
}

/**
 * Checks one (labels, scores) pair and copies it into typed arrays.
 * Throws a MetricError (prefixed with `what`) for: length mismatch, empty input, a label that is
 * not 0 or 1 (naming the first index and the count), NaN or infinite scores (naming the count and
 * the first index).
 */
export function checkBinaryInput(labels: ArrayLike<number>, scores: ArrayLike<number>, what: string): BinaryInput {
  if (labels.length !== scores.length) {
    throw new MetricError(`${what}: ${labels.length} labels but ${scores.length} scores (lengths must match)`);
  }
  const n = labels.length;
  if (n === 0) throw new MetricError(`${what}: empty input (no labels, no scores)`);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  let badLabels = 0;
  let firstBadLabel = -1;
  let nanScores = 0;
  let firstNan = -1;
  let infScores = 0;
  let firstInf = -1;
  let nPositive = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l === 1) {
      y[i] = 1;
      nPositive++;
    } else if (l !== 0) {
      if (badLabels === 0) firstBadLabel = i;
      badLabels++;
    }
    const v = scores[i];
    if (Number.isNaN(v)) {
      if (nanScores === 0) firstNan = i;
      nanScores++;
    } else if (!Number.isFinite(v)) {
      if (infScores === 0) firstInf = i;
      infScores++;
    }
    s[i] = v;
  }
  if (badLabels > 0) {
    throw new MetricError(
      `${what}: ${badLabels} label(s) are not 0 or 1 (first at index ${firstBadLabel}: ${String(labels[firstBadLabel])})`,
    );
  }
  if (nanScores > 0) {
    throw new MetricError(`${what}: ${nanScores} NaN score(s) (first at index ${firstNan})`);
  }
  if (infScores > 0) {
    throw new MetricError(`${what}: ${infScores} infinite score(s) (first at index ${firstInf})`);
  }
  return { labels: y, scores: s, nPositive, nNegative: n - nPositive };
}

/** Throws a MetricError unless both classes are present. */
export function requireBothClasses(input: BinaryInput, what: string, why: string): void {
  if (input.nPositive === 0 || input.nNegative === 0) {
    throw new MetricError(
      `${what}: only one class present (${input.nPositive} positive, ${input.nNegative} negative); ${why}`,
    );
  }
}

/** Checks a target rate (sensitivity) lies in [0, 1]. */
export function checkRate(value: number, what: string, name: string): void {
  if (!(value >= 0 && value <= 1)) {
    throw new MetricError(`${what}: ${name} must be in [0, 1], got ${String(value)}`);
  }
}
