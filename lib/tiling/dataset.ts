import type { SplitFractions } from "../data/splits";
import * as fs from "node:fs";
import { type SyntheticVersion, generateSyntheticDataset } from "../data/synthetic";
import type { ImageRecord } from "../types";
import { loadDataset, type LoadDatasetOptions } from "../data/adapters";
import { type LabelTask, applyLabelTask } from "../data/labels";
import { applySplits, makeSplits, readSplits, writeSplits } from "../data/splits";

/**
 * The dataset's records with splits from the split file: read when it exists, otherwise made
 * from the seed (grouped by patient, stratified; see lib/data splits) and written.
 * Table rows the adapter could not use come back as skipped entries ("file:row").
 */
export async function loadRecords(opts: {
  datasetDir: string;
  adapter: string;
  splitsFile: string;
  seed: number;
  /** Shares of a new split file (default 70/10/20). */
  fractions?: SplitFractions;
  records?: ImageRecord[];
  /** Label task (lib/data/labels.ts); default: the adapter's own (birads, or cancer for RSNA). */
  task?: LabelTask;
}): Promise<{ records: ImageRecord[]; skipped: { file: string; error: string }[]; splitsCreated: boolean }> {
  let records: ImageRecord[];
  const skipped: { file: string; error: string }[] = [];
  if (opts.records) records = opts.records;
  else {
    const res = await loadDataset({ adapter: opts.adapter, dir: opts.datasetDir } as LoadDatasetOptions);
    records = res.records;
    for (const s of res.skipped) skipped.push({ file: `${s.file}:${s.row}`, error: s.reason });
  }
  if (opts.task) applyLabelTask(records, opts.task, opts.adapter);
  let splitsCreated = false;
  let splits: Map<string, import("../types").Split>;
  if (fs.existsSync(opts.splitsFile)) splits = readSplits(opts.splitsFile);
  else {
    splits = makeSplits(records, { seed: opts.seed, fractions: opts.fractions });
    writeSplits(opts.splitsFile, splits);
    splitsCreated = true;
  }
  return { records: applySplits(records, splits), skipped, splitsCreated };
}

/**
 * The synthetic set for the notebook/pipeline: generated (lib/data), or completed, in `dir`.
 * A complete set made with the same options is reused (the generator only re-reads its
 * ground truth, ~0.2 s); one made with other options or another generator version is an error
 * naming the folder, never silently reused. Returns a one-line description.
 */
export async function ensureSyntheticDataset(opts: { dir: string; patients: number; heightPx: number; seed: number; version?: SyntheticVersion; progress?: boolean }): Promise<string> {
  const s = await generateSyntheticDataset({ outDir: opts.dir, patients: opts.patients, heightPx: opts.heightPx, seed: opts.seed, version: opts.version, progress: opts.progress ?? false });
  if (s.imagesWritten === 0) return `synthetic set (generator v${opts.version ?? 3}) present in ${opts.dir}: ${s.images} images, ${s.patients} patients (reused)`;
  return `synthetic set (generator v${opts.version ?? 3}) generated in ${opts.dir}: ${s.images} images of ${s.widthPx} x ${s.heightPx} px, ${s.patients} patients, ${s.seconds.toFixed(1)} s`;
}
