import * as fs from "node:fs";
import * as path from "node:path";
import { readJson, writeJsonAtomic } from "./atomic";
import { CODE_VERSIONS, type StageName } from "./workId";

/**
 * Stage records: every stage writes `stage.json` next to its output (the tile manifest's folder,
 * the embedding store, the training run, the explain folder) when it finishes: the resolved
 * configuration, the code version, its inputs' identities, its upstream records, and what it
 * did (`summary`: pieces of work done and reused, and why the done ones were done). The next
 * stage and the pipeline's summary read it (lib/head/record.ts reads train's; runner/pipeline.ts
 * prints every stage's summary).
 */
export const STAGE_RECORD_FILE = "stage.json";

/** What a stage run did, in its own unit of work (images, units of seeds, breasts). */
export interface StageSummary {
  unit: string;
  done: number;
  reused: number;
  /** Why the done pieces were done ("3 new, 1 parameters changed"); empty when all were reused. */
  reasons: string;
  /** Pieces left out (failed, or refused while listing); absent when none. */
  skipped?: number;
}

/** What a stage hands to `writeStageRecord`; the record adds the code version and the time. */
export interface StageRecordInput {
  stage: StageName;
  config: Record<string, unknown>;
  inputs: Record<string, unknown>;
  upstream: Record<string, unknown>;
  summary: StageSummary;
  /** Stage-specific facts (skipped counts, the train units, ...). */
  [extra: string]: unknown;
}

export interface StageRecord extends StageRecordInput {
  code: number;
  finishedAt: string;
}

export function writeStageRecord(dir: string, rec: StageRecordInput): StageRecord {
  const full = { ...rec, code: CODE_VERSIONS[rec.stage], finishedAt: new Date().toISOString() } as StageRecord;
  writeJsonAtomic(path.join(dir, STAGE_RECORD_FILE), full);
  return full;
}

/** The stage record of `dir`, or null when there is none (a damaged one is an error naming the file). */
export function readStageRecord(dir: string): StageRecord | null {
  const f = path.join(dir, STAGE_RECORD_FILE);
  if (!fs.existsSync(f)) return null;
  return readJson<StageRecord>(f);
}

/** "4913 images: 3 done (3 input changed), 4910 reused" (", 2 skipped" when some were). */
export function describeStageSummary(s: StageSummary): string {
  const skipped = s.skipped ?? 0;
  const total = s.done + s.reused + skipped;
  if (s.done === 0 && skipped === 0) return `${total} ${s.unit}: all reused`;
  return `${total} ${s.unit}: ${s.done} done${s.reasons ? ` (${s.reasons})` : ""}, ${s.reused} reused${skipped ? `, ${skipped} skipped` : ""}`;
}
