import { BootstrapInterval } from "./bootstrap";
import { MetricError } from "./errors";
import { SplitMetrics, evaluateSplit } from "./evaluate";
import { ThresholdChoice, chooseThreshold } from "./operating";
import { PredictionsTable } from "./predictionsCsv";

export interface ScoreOptions {
  /** Target sensitivity of specificityAtSensitivity (default 0.9). */
  sensitivity?: number;
  /** A fixed decision threshold; overrides choosing one on the val split. */
  threshold?: number;
  /** Bootstrap resamples for 95 % intervals (0 or omitted: none). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
}

/** [lower, upper] of a bootstrap interval, with its bookkeeping. */
export interface IntervalSummary {
  lower: number;
  upper: number;
  valid: number;
  skippedOneClass: number;
}

/** One split's line of the report. */
export interface SplitReport extends SplitMetrics {
  split: string;
}

/**
 * What `milpf metrics` prints with --json. The top-level metrics are those of the reported split
 * (`reportedSplit`: test if present, else val, else train; "all" when the file has no split
 * column). Thresholds of +Infinity print as null in JSON.
 */
export interface MetricsReport {
  file: string;
  reportedSplit: string;
  auc: number;
  specificityAtSensitivity: number;
  sensitivityTarget: number;
  specAtSensSensitivity: number;
  specAtSensThreshold: number;
  balancedAccuracy: number | null;
  threshold: number | null;
  /** "val" (chosen on the val split by max balanced accuracy), "given" (--threshold) or "none". */
  thresholdSource: "val" | "given" | "none";
  counts: { n: number; positive: number; negative: number };
  ci?: {
    alpha: number;
    iterations: number;
    seed: number;
    /** "patient" when the file has a patient column, else "row". */
    resampling: "patient" | "row";
    auc: IntervalSummary;
    balancedAccuracy: IntervalSummary | null;
    specificityAtSensitivity: IntervalSummary;
  };
  splits: SplitReport[];
  notes: string[];
}

const SPLIT_ORDER = ["train", "val", "test"];

function summary(b: BootstrapInterval): IntervalSummary {
  return { lower: b.lower, upper: b.upper, valid: b.valid, skippedOneClass: b.skippedOneClass };
}

/**
 * Scores a predictions table: per split metrics, the threshold chosen on val (max balanced
 * accuracy) and applied to every split, bootstrap intervals on request. Errors name the file.
 */
export function scorePredictions(table: PredictionsTable, options: ScoreOptions = {}): MetricsReport {
  const target = options.sensitivity ?? 0.9;
  const seed = options.seed ?? 0;
  const iterations = options.bootstrap ?? 0;
  const notes: string[] = [];
  const groups = new Map<string, number[]>();
  if (table.splits) {
    table.splits.forEach((s, i) => {
      let rows = groups.get(s);
      if (!rows) groups.set(s, (rows = []));
      rows.push(i);
    });
  } else {
    groups.set("all", table.labels.map((_, i) => i));
  }
  const present = table.splits ? SPLIT_ORDER.filter((s) => groups.has(s)) : ["all"];
  const pick = <T>(values: T[], rows: number[]): T[] => rows.map((i) => values[i]);
  const wrap = <T>(split: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      const where = split === "all" ? "" : ` split '${split}'`;
      throw new MetricError(`${table.file}:${where} ${(e as Error).message}`);
    }
  };

  let threshold: number | null = null;
  let thresholdSource: MetricsReport["thresholdSource"] = "none";
  let choice: ThresholdChoice | null = null;
  if (options.threshold !== undefined) {
    threshold = options.threshold;
    thresholdSource = "given";
  } else if (groups.has("val")) {
    const rows = groups.get("val") as number[];
    choice = wrap("val", () => chooseThreshold(pick(table.labels, rows), pick(table.scores, rows), "balancedAccuracy"));
    threshold = choice.threshold;
    thresholdSource = "val";
  } else {
    notes.push("no val split and no --threshold: balanced accuracy is not reported (a threshold is never chosen on the reported split)");
  }

  const splits: SplitReport[] = present.map((split) => {
    const rows = groups.get(split) as number[];
    const metrics = wrap(split, () =>
      evaluateSplit(
        {
          labels: pick(table.labels, rows),
          scores: pick(table.scores, rows),
          patients: table.patients ? pick(table.patients, rows) : null,
        },
        threshold,
        { sensitivity: target, bootstrap: iterations > 0 ? { iterations, seed, alpha: 0.05 } : undefined },
      ),
    );
    return { split, ...metrics };
  });
  const reported = splits.find((s) => s.split === "test") ?? splits.find((s) => s.split === "val") ?? splits[0];
  if (reported.split !== "test" && reported.split !== "all") notes.push(`no test split: reporting split '${reported.split}'`);
  if (reported.split === "val" && thresholdSource === "val") {
    notes.push("the reported split is the one the threshold was chosen on: its balanced accuracy is optimistic");
  }

  const report: MetricsReport = {
    file: table.file,
    reportedSplit: reported.split,
    auc: reported.auc,
    specificityAtSensitivity: reported.specificityAtSensitivity,
    sensitivityTarget: target,
    specAtSensSensitivity: reported.specAtSensSensitivity,
    specAtSensThreshold: reported.specAtSensThreshold,
    balancedAccuracy: reported.balancedAccuracy,
    threshold,
    thresholdSource,
    counts: { n: reported.n, positive: reported.nPositive, negative: reported.nNegative },
    splits,
    notes,
  };
  if (reported.ci) {
    report.ci = {
      alpha: 0.05,
      iterations,
      seed,
      resampling: table.patients ? "patient" : "row",
      auc: summary(reported.ci.auc),
      balancedAccuracy: reported.ci.balancedAccuracy ? summary(reported.ci.balancedAccuracy) : null,
      specificityAtSensitivity: summary(reported.ci.specificityAtSensitivity),
    };
  }
  return report;
}

function fmt(v: number | null, digits = 4): string {
  if (v === null) return "-";
  if (v === Infinity) return "+inf";
  return v.toFixed(digits);
}

function withCi(v: number | null, ci: BootstrapInterval | null | undefined): string {
  if (v === null) return "-";
  return ci ? `${fmt(v)} [${fmt(ci.lower)}, ${fmt(ci.upper)}]` : fmt(v);
}

/** A readable table of a report (what `milpf metrics` prints without --json). */
export function formatMetricsReport(report: MetricsReport): string {
  const sensPct = `${+(report.sensitivityTarget * 100).toFixed(2)}%`;
  const header = ["split", "n", "pos", "neg", "AUC", "bACC", "sens@thr", "spec@thr", `Spec@Sens>=${sensPct}`, "(sens, thr)"];
  const rows = report.splits.map((s) => [
    s.split,
    String(s.n),
    String(s.nPositive),
    String(s.nNegative),
    withCi(s.auc, s.ci?.auc),
    withCi(s.balancedAccuracy, s.ci?.balancedAccuracy),
    fmt(s.sensitivity),
    fmt(s.specificity),
    withCi(s.specificityAtSensitivity, s.ci?.specificityAtSensitivity),
    `(${fmt(s.specAtSensSensitivity)}, ${fmt(s.specAtSensThreshold)})`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  const out = [`metrics of ${report.file}`, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
  const source =
    report.thresholdSource === "val"
      ? "chosen on val (max balanced accuracy), applied to every split"
      : report.thresholdSource === "given"
        ? "given (--threshold)"
        : "none";
  out.push(`threshold: ${fmt(report.threshold, 6)} ${source}; predicted positive when score >= threshold`);
  if (report.ci) {
    out.push(
      `95% bootstrap percentile intervals: ${report.ci.iterations} resamples of ${report.ci.resampling}s, seed ${report.ci.seed}` +
        ` (${report.ci.auc.skippedOneClass} one-class resamples skipped in split '${report.reportedSplit}')`,
    );
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  return out.join("\n") + "\n";
}
