import * as fs from "node:fs";
import type { ImageRecord } from "../types";
import { loadDataset, type LoadDatasetOptions } from "../data/adapters";
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
  records?: ImageRecord[];
}): Promise<{ records: ImageRecord[]; skipped: { file: string; error: string }[]; splitsCreated: boolean }> {
  let records: ImageRecord[];
  const skipped: { file: string; error: string }[] = [];
  if (opts.records) records = opts.records;
  else {
    const res = await loadDataset({ adapter: opts.adapter, dir: opts.datasetDir } as LoadDatasetOptions);
    records = res.records;
    for (const s of res.skipped) skipped.push({ file: `${s.file}:${s.row}`, error: s.reason });
  }
  let splitsCreated = false;
  let splits: Map<string, import("../types").Split>;
  if (fs.existsSync(opts.splitsFile)) splits = readSplits(opts.splitsFile);
  else {
    splits = makeSplits(records, { seed: opts.seed });
    writeSplits(opts.splitsFile, splits);
    splitsCreated = true;
  }
  return { records: applySplits(records, splits), skipped, splitsCreated };
}

/**
 * The synthetic set for the notebook/pipeline: generated (lib/data) unless `dir` already holds a
 * complete one (its synthetic.json, written last, exists), whatever options that one was made
 * with. Returns a one-line description.
 */
export async function ensureSyntheticDataset(opts: { dir: string; patients: number; heightPx: number; seed: number; progress?: boolean }): Promise<string> {
  const path = await import("node:path");
  const info = path.join(opts.dir, "synthetic.json");
  if (fs.existsSync(info)) return `synthetic set present in ${opts.dir} (kept as it is)`;
  const { generateSyntheticDataset } = await import("../data/synthetic");
  const s = await generateSyntheticDataset({ outDir: opts.dir, patients: opts.patients, heightPx: opts.heightPx, seed: opts.seed, progress: opts.progress ?? false });
  return `synthetic set generated in ${opts.dir}: ${s.images} images of ${s.widthPx} x ${s.heightPx} px, ${s.patients} patients, ${s.seconds.toFixed(1)} s`;
}
