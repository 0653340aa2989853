import type { Command } from "commander";
import { formatMetricsReport, readPredictionsCsv, scorePredictions } from "../../lib/metrics";
import type { MetricsReport } from "../../lib/metrics";

/** Options of `milpf metrics` as commander hands them over (strings until parsed). */
export interface MetricsCommandOptions {
  sensitivity?: string;
  json?: boolean;
  bootstrap?: string;
  seed?: string;
  threshold?: string;
}

function parseNumber(text: string | undefined, name: string, check: (v: number) => boolean, expect: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === "" || !check(v)) throw new Error(`metrics: --${name} must be ${expect}, got '${text}'`);
  return v;
}

/**
 * The action of `milpf metrics FILE.csv`: reads the predictions, scores them, writes JSON or a
 * table through `write`. Throws one Error naming the file and the problem (the CLI exits 1).
 */
export function runMetricsCommand(
  file: string,
  options: MetricsCommandOptions,
  write: (text: string) => void = (t) => process.stdout.write(t),
): MetricsReport {
  const sensitivity = parseNumber(options.sensitivity, "sensitivity", (v) => v >= 0 && v <= 1, "a number in [0, 1]");
  const bootstrap = parseNumber(options.bootstrap, "bootstrap", (v) => Number.isInteger(v) && v >= 0, "a non-negative integer");
  const seed = parseNumber(options.seed, "seed", (v) => Number.isInteger(v), "an integer");
  const threshold = parseNumber(options.threshold, "threshold", (v) => !Number.isNaN(v), "a number");
  const table = readPredictionsCsv(file);
  const report = scorePredictions(table, { sensitivity, bootstrap, seed, threshold });
  write(options.json ? JSON.stringify(report, null, 2) + "\n" : formatMetricsReport(report));
  return report;
}

/** Registers `milpf metrics`. */
export function register(program: Command): void {
  program
    .command("metrics")
    .description(
      "Score predictions from a CSV with columns label (0/1) and score; optional split (train/val/test: the " +
        "threshold is chosen on val by max balanced accuracy and applied to test) and patient (bootstrap groups). " +
        "Errors name the data row (1 = first row after the header) and the file line.",
    )
    .argument("<file>", "predictions CSV")
    .option("--sensitivity <s>", "target sensitivity of Spec@Sens", "0.9")
    .option("--json", "print a JSON object (keys auc, specificityAtSensitivity, balancedAccuracy, threshold, counts, ci, splits)")
    .option("--bootstrap <n>", "bootstrap resamples (of patients when a patient column exists) for 95% intervals", "0")
    .option("--seed <s>", "bootstrap seed", "0")
    .option("--threshold <t>", "use this decision threshold instead of choosing one on val")
    .action((file: string, options: MetricsCommandOptions) => {
      runMetricsCommand(file, options);
    });
}
