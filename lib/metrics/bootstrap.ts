import { Rng } from "../util/rng";
import { MetricError } from "./errors";
import { checkBinaryInput } from "./validate";

/**
 * A metric evaluated on one bootstrap resample. `indices` are the positions (into the caller's
 * original arrays) of the resampled rows, in resample order, so a metric can look up anything
 * else it needs (e.g. patient ids).
 */
export type ResampleMetric = (labels: Uint8Array, scores: Float64Array, indices: Uint32Array) => number;

export interface BootstrapOptions {
  /** Number of resamples drawn (default 1000). */
  iterations?: number;
  /** Seed of the lib/util Rng stream (default 0). */
  seed?: number | string;
  /** Two-sided level: the interval covers 1 - alpha (default 0.05 -> 95 %). */
  alpha?: number;
}

export interface BootstrapInterval {
  /** The metric on the full data. */
  estimate: number;
  /** Percentile interval [lower, upper] of the valid resamples. */
  lower: number;
  upper: number;
  alpha: number;
  iterations: number;
  /** Resamples that gave a finite metric value (the ones the interval is built from). */
  valid: number;
  /** Resamples skipped because only one class was drawn. */
  skippedOneClass: number;
  /** Resamples skipped because the metric returned NaN or an infinite value. */
  skippedNonFinite: number;
  /** Number of distinct patients resampled. */
  patients: number;
}

/**
 * Percentile of sorted values with linear interpolation between order statistics (the default
 * "linear" method of numpy.percentile / R type 7).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new MetricError("quantileSorted: no values");
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Bootstrap percentile interval of `metric`, resampling PATIENTS with replacement: each
 * resample draws as many patients as there are distinct patients, and every row (bag) of a drawn
 * patient comes along (a patient drawn twice contributes its rows twice). `patients` may be null
 * to resample rows individually. Resamples holding one class only are skipped and counted (most
 * metrics are undefined there); so are resamples where the metric is not finite. Seeded through
 * lib/util/rng: the same seed gives the same interval.
 */
export function bootstrapCi(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  patients: ArrayLike<string | number> | null,
  metric: ResampleMetric,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const what = "bootstrapCi";
  const input = checkBinaryInput(labels, scores, what);
  const iterations = options.iterations ?? 1000;
  const alpha = options.alpha ?? 0.05;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new MetricError(`${what}: iterations must be a positive integer, got ${String(iterations)}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new MetricError(`${what}: alpha must be in (0, 1), got ${String(alpha)}`);
  const n = input.labels.length;
  if (patients !== null && patients.length !== n) {
    throw new MetricError(`${what}: ${patients.length} patient ids but ${n} labels (lengths must match)`);
  }

  // Group row indices by patient, in order of first appearance.
  const groups: number[][] = [];
  if (patients === null) {
    for (let i = 0; i < n; i++) groups.push([i]);
  } else {
    const byPatient = new Map<string | number, number[]>();
    for (let i = 0; i < n; i++) {
      const key = patients[i];
      let rows = byPatient.get(key);
      if (!rows) {
        rows = [];
        byPatient.set(key, rows);
        groups.push(rows);
      }
      rows.push(i);
    }
  }

  const estimate = metric(input.labels, input.scores, Uint32Array.from({ length: n }, (_, i) => i));
  const rng = new Rng(seed);
  const values: number[] = [];
  let skippedOneClass = 0;
  let skippedNonFinite = 0;
  const drawn: number[] = [];
  for (let it = 0; it < iterations; it++) {
    drawn.length = 0;
    for (let p = 0; p < groups.length; p++) {
      const rows = groups[rng.int(0, groups.length - 1)];
      for (const r of rows) drawn.push(r);
    }
    const indices = Uint32Array.from(drawn);
    const y = new Uint8Array(indices.length);
    const s = new Float64Array(indices.length);
    let nPos = 0;
    for (let k = 0; k < indices.length; k++) {
      y[k] = input.labels[indices[k]];
      s[k] = input.scores[indices[k]];
      nPos += y[k];
    }
    if (nPos === 0 || nPos === indices.length) {
      skippedOneClass++;
      continue;
    }
    const v = metric(y, s, indices);
    if (!Number.isFinite(v)) {
      skippedNonFinite++;
      continue;
    }
    values.push(v);
  }
  if (values.length === 0) {
    throw new MetricError(
      `${what}: no valid resample out of ${iterations} (${skippedOneClass} had one class only, ${skippedNonFinite} gave a non-finite metric)`,
    );
  }
  values.sort((a, b) => a - b);
  return {
    estimate,
    lower: quantileSorted(values, alpha / 2),
    upper: quantileSorted(values, 1 - alpha / 2),
    alpha,
    iterations,
    valid: values.length,
    skippedOneClass,
    skippedNonFinite,
    patients: groups.length,
  };
}
