import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exportTable } from "../plot/export";
import { openStore } from "../store/read";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { ablationTableRows, resultsTableRows } from "./figures";
import { ablationNarrative } from "./narrative";
import type { TrainingRun } from "./run";

/**
 * Publish a training run's paper tables to a results folder (e.g. docs/results/paper/):
 * table1_results and table4_ablations as CSV, Markdown and LaTeX, the narrative
 * (findings.md), and run.json with every parameter needed to regenerate them (seeds, the
 * store's dataset, task and encoder, the training settings, timing, machine).
 */
export async function publishResults(dir: string, run: TrainingRun, settings: Record<string, unknown>): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const r = run.result;
  const seeds = [...new Set(r.runs.map((x) => x.seed))];
  const caption4 = `Ablations (synthetic benchmark): test AUC and Spec@Sens0.9 of the run selected on validation, and mean ± sd over ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]})`;
  const caption1 = "Selected runs on test: AUC, balanced accuracy (threshold from validation), Spec@Sens0.9, patient bootstrap 95 % CIs";
  const t4 = await exportTable("table4_ablations", ablationTableRows(run.summaries), { dir, caption: caption4 });
  const t1 = await exportTable("table1_results", resultsTableRows(run.summaries), { dir, caption: caption1 });
  const findings = path.join(dir, "findings.md");
  writeFileAtomic(findings, ablationNarrative(run.summaries) + "\n");
  // meta only: the store was verified when training opened it
  const store = openStore(path.resolve(String(settings.store ?? "")), { verify: false });
  const record = path.join(dir, "run.json");
  writeJsonAtomic(record, {
    settings,
    seeds,
    configs: [...new Set(r.runs.map((x) => x.config.name))],
    bags: { train: r.bags.filter((b) => b.split === "train").length, val: r.bags.filter((b) => b.split === "val").length, test: r.bags.filter((b) => b.split === "test").length },
    store: { encoder: store.meta.encoder, dtype: store.meta.dtype, tiles: store.meta.tileCount, params: store.meta.params },
    timing: { ...r.timing, peakRssMiB: Math.round(run.peakRssBytes / 2 ** 20) },
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadavg: os.loadavg(), node: process.version },
    finishedAt: new Date().toISOString(),
  });
  return [t4.csv, t4.md, t4.tex, t1.csv, t1.md, t1.tex, findings, record];
}
