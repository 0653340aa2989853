import type { ImageRecord } from "../types";

/** Dataset records with splits applied (placeholder until lib/data lands). */
export async function loadRecords(opts: {
  datasetDir: string;
  adapter: string;
  splitsFile: string;
  seed: number;
  records?: ImageRecord[];
}): Promise<{ records: ImageRecord[]; skipped: { file: string; error: string }[] }> {
  if (opts.records) return { records: opts.records, skipped: [] };
  throw new Error(`${opts.datasetDir}: dataset adapters (lib/data) not wired yet`);
}
