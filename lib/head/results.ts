import * as fs from "node:fs";
import * as path from "node:path";
import { evaluateSplit, evaluateValTest, type BootstrapOptions, type SplitMetrics, type ValTestMetrics } from "../metrics";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { toCsv } from "../util/table";
import { FULL_CONFIG } from "./config";
import { saveHead } from "./deploy";
import type { GridResult, RunResult } from "./train";

/** Mean, sample standard deviation, min and max. */
export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
}

export function spreadOf(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, sd: NaN, min: NaN, max: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v), n };
}

export interface RunSummary {
  config: string;
  seed: number;
  bestEpoch: number;
  epochsRun: number;
  valAuc: number;
  testAuc: number;
  testSpecAtSens: number;
}

export interface ConfigSummary {
  config: string;
  label: string;
  runs: number;
  /** The run with the best validation AUC (ties: first seed). */
  selectedSeed: number;
  selectedBestEpoch: number;
  selectedValAuc: number;
  /** The selected run on validation and test: threshold chosen on validation (balanced accuracy), applied to test. */
  selected: ValTestMetrics;
  spread: { valAuc: Spread; testAuc: Spread; testSpecAtSens: Spread };
}

export interface SummaryOptions {
  /** Target sensitivity of Spec@Sens (default 0.9). */
  sensitivity?: number;
  /** Bootstrap CIs for the selected runs (resampling patients); omit for none. */
  bootstrap?: BootstrapOptions;
}

function splitData(res: GridResult, run: RunResult, split: "val" | "test"): { labels: number[]; scores: number[]; patients: string[] } {
  const labels: number[] = [];
  const scores: number[] = [];
  const patients: string[] = [];
  res.bags.forEach((b, i) => {
    if (b.split !== split || !Number.isFinite(run.scores[i])) return;
    labels.push(b.label);
    scores.push(run.scores[i]);
    patients.push(b.patientId);
  });
  return { labels, scores, patients };
}

/** Per-run test metrics (AUC, Spec@Sens from the run's own test ROC). */
export function summarizeRuns(res: GridResult, opts: SummaryOptions = {}): RunSummary[] {
  return res.runs.map((r) => {
    const t = splitData(res, r, "test");
    let m: SplitMetrics | null = null;
    try {
      m = evaluateSplit(t, null, { sensitivity: opts.sensitivity ?? 0.9 });
    } catch {
      m = null; // one class only in test: metrics undefined (NaN below)
    }
    return {
      config: r.config.name,
      seed: r.seed,
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      valAuc: r.bestValAuc,
      testAuc: m ? m.auc : NaN,
      testSpecAtSens: m ? m.specificityAtSensitivity : NaN,
    };
  });
}

/** Select by validation AUC per config; spread over seeds; the selected run's val/test metrics. */
export function summarizeGrid(res: GridResult, opts: SummaryOptions = {}): ConfigSummary[] {
  const perRun = summarizeRuns(res, opts);
  const names = [...new Set(res.runs.map((r) => r.config.name))];
  return names.map((name) => {
    const idx = res.runs.map((r, i) => (r.config.name === name ? i : -1)).filter((i) => i >= 0);
    let sel = idx[0];
    for (const i of idx) if (res.runs[i].bestValAuc > res.runs[sel].bestValAuc) sel = i;
    const run = res.runs[sel];
    const selected = evaluateValTest(splitData(res, run, "val"), splitData(res, run, "test"), { sensitivity: opts.sensitivity ?? 0.9, bootstrap: opts.bootstrap });
    return {
      config: name,
      label: run.config.label,
      runs: idx.length,
      selectedSeed: run.seed,
      selectedBestEpoch: run.bestEpoch,
      selectedValAuc: run.bestValAuc,
      selected,
      spread: {
        valAuc: spreadOf(idx.map((i) => perRun[i].valAuc)),
        testAuc: spreadOf(idx.map((i) => perRun[i].testAuc)),
        testSpecAtSens: spreadOf(idx.map((i) => perRun[i].testSpecAtSens)),
      },
    };
  });
}

/** The columns of a predictions CSV: training's predictions.csv and `milpf predict`. */
export const PREDICTION_COLUMNS = ["bag_id", "patient_id", "split", "label", "score", "config", "seed"];

/** One row of a predictions CSV (PREDICTION_COLUMNS); the score with 7 significant digits, empty when not finite. */
export function predictionRow(bag: { bagId: string; patientId: string; split: string | null; label: number }, score: number, config: string, seed: number): unknown[] {
  return [bag.bagId, bag.patientId, bag.split, bag.label, Number.isFinite(score) ? score.toPrecision(7) : "", config, seed];
}

export interface WriteOutputsOptions {
  /** "all": every run's scores (default); "selected": only each config's selected run. */
  predictions?: "all" | "selected";
  /** Extra facts recorded in results.json (store path, command line, ...). */
  record?: Record<string, unknown>;
}

/**
 * Write a grid's outputs to `outDir`: predictions.csv (bag_id, patient_id, split, label, score,
 * config, seed), curves.csv (config, seed, epoch, train_loss, val_auc), results.json (settings,
 * timing, per-run and per-config summaries), heads/<config>/ (each config's selected head) and
 * head/ (the selected full MIL-PF head, or the first config's when the full head was not trained).
 */
export function writeTrainOutputs(outDir: string, res: GridResult, summaries: ConfigSummary[], opts: WriteOutputsOptions = {}): void {
  fs.mkdirSync(outDir, { recursive: true });
  const selectedKey = new Set(summaries.map((s) => `${s.config}\u0000${s.selectedSeed}`));
  const predictions: unknown[][] = [];
  for (const r of res.runs) {
    if (opts.predictions === "selected" && !selectedKey.has(`${r.config.name}\u0000${r.seed}`)) continue;
    res.bags.forEach((b, i) => predictions.push(predictionRow(b, r.scores[i], r.config.name, r.seed)));
  }
  writeFileAtomic(path.join(outDir, "predictions.csv"), toCsv({ columns: PREDICTION_COLUMNS, rows: predictions }));
  const curves: unknown[][] = [];
  for (const r of res.runs) for (const p of r.curve) curves.push([r.config.name, r.seed, p.epoch, p.trainLoss.toPrecision(7), Number.isFinite(p.valAuc) ? p.valAuc.toPrecision(7) : ""]);
  writeFileAtomic(path.join(outDir, "curves.csv"), toCsv({ columns: ["config", "seed", "epoch", "train_loss", "val_auc"], rows: curves }));
  for (const s of summaries) {
    const run = res.runs.find((r) => r.config.name === s.config && r.seed === s.selectedSeed) as RunResult;
    const info = { selectedBy: "best validation AUC", valAuc: run.bestValAuc, bestEpoch: run.bestEpoch, testAuc: s.selected.test.auc, threshold: s.selected.threshold.threshold, settings: res.settings, ...(opts.record ?? {}) };
    saveHead(path.join(outDir, "heads", s.config.replace(/[^A-Za-z0-9_.+-]/g, "_")), { config: run.config, dim: res.dim, seed: run.seed, params: run.params, info });
  }
  const main = summaries.find((s) => s.config === FULL_CONFIG.name) ?? summaries[0];
  const mainRun = res.runs.find((r) => r.config.name === main.config && r.seed === main.selectedSeed) as RunResult;
  saveHead(path.join(outDir, "head"), {
    config: mainRun.config,
    dim: res.dim,
    seed: mainRun.seed,
    params: mainRun.params,
    info: { selectedBy: "best validation AUC", valAuc: mainRun.bestValAuc, bestEpoch: mainRun.bestEpoch, testAuc: main.selected.test.auc, threshold: main.selected.threshold.threshold, settings: res.settings, ...(opts.record ?? {}) },
  });
  writeJsonAtomic(path.join(outDir, "results.json"), {
    version: 1,
    createdAt: new Date().toISOString(),
    dim: res.dim,
    bags: res.bags.length,
    settings: res.settings,
    kernel: res.kernel,
    timing: res.timing,
    configs: res.runs.map((r) => r.config).filter((c, i, a) => a.findIndex((x) => x.name === c.name) === i),
    seeds: [...new Set(res.runs.map((r) => r.seed))],
    summaries,
    runs: summarizeRuns(res),
    ...(opts.record ?? {}),
  });
}
