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
