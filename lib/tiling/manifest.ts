import type { SplitFractions } from "../data/splits";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ImageRecord, ManifestImage, TileManifest, TilingParams } from "../types";
import { cleanTempFiles, readJson, writeJsonAtomic } from "../util/atomic";
import { acquireLock } from "../util/lock";
import { reasonSummary } from "../util/workId";
import { writeStageRecord } from "../util/stage";
import { Progress } from "../util/progress";
import { type LabelTask, defaultTask } from "../data/labels";
import { lesionsToWorking } from "../preprocess/transform";
import { loadRecords } from "./dataset";
import { resolveTilingParams } from "./params";
import { runPool, type JobOutcome, type WorkerMemory } from "./pool";
import { checkDone, processImage, type PresentationLoader, type ProcessedImage, type TileJob } from "./process";

export const MANIFEST_FILE = "manifest.json";

export interface RunTilingOptions {
  /** Dataset folder (absolute, or project-relative). */
  datasetDir: string;
  /** Dataset adapter: synthetic | vindr | rsna | embed. */
  adapter: string;
  /** Output folder: manifest.json, working/, global/, mask/, done/. */
  outDir: string;
  /** Split file: read when it exists, otherwise made from `seed` and written. */
  splitsFile: string;
  params?: Partial<TilingParams>;
  /** Worker threads (default: all cores); 0 = in this thread. */
  workers?: number;
  /** Seed for a new split file. */
  seed?: number;
  /** Shares of a new split file (lib/data/splits.ts; default the paper's 70/10/20). */
  splitFractions?: SplitFractions;
  onProgress?: (done: number, total: number) => void;
  /** Show the progress bar / log lines on stderr (default true). */
  progress?: boolean;
  /** Test hook: use these records instead of the adapter (splits still applied from the file). */
  records?: ImageRecord[];
  /** Test hook (in-process runs only): decode images with this instead of lib/dicom. */
  loader?: PresentationLoader;
  /** Test hook: throw after this many images were newly processed (simulates a crash). */
  abortAfter?: number;
  /** Label task (lib/data/labels.ts LABEL_TASKS); default: the adapter's own. Recorded in the manifest. */
  task?: LabelTask;
}

export interface TilingStats {
  images: number;
  processed: number;
  reused: number;
  skipped: number;
  tiles: number;
  seconds: number;
  workers: number;
  workerMemory: WorkerMemory[];
  /** Images processed although a done-record existed or not, and why (new, input changed, parameters changed, output damaged ...). */
  redone: { imageId: string; reason: string }[];
  /** One phrase per reason: "2 new, 1 input changed". */
  redoneSummary: string;
  /** A stale lock taken over, temporary files of killed runs removed. */
  notes: string[];
}

/** Read and check a tile manifest. */
export function readManifest(file: string): TileManifest {
  const m = readJson<TileManifest>(file);
  if (m.version !== 1) throw new Error(`${file}: unsupported manifest version ${String(m.version)}`);
  if (!Array.isArray(m.images) || !m.params) throw new Error(`${file}: not a tile manifest (no images/params)`);
  return m;
}

function manifestImage(record: ImageRecord, p: ProcessedImage): ManifestImage {
  const img: ManifestImage = {
    imageId: record.imageId,
    patientId: record.patientId,
    studyId: record.studyId,
    breastId: record.breastId,
    laterality: record.laterality,
    view: record.view,
    label: record.label,
    birads: record.birads,
    split: record.split,
    sourceFile: record.filePath,
    transform: p.transform,
    workingImageFile: p.workingImageFile,
    globalViewFile: p.globalViewFile,
    lesionsWorking: lesionsToWorking(record.lesions, p.transform),
    tiles: p.tiles,
    maskFile: p.maskFile,
  };
  if (p.notes.length) img.notes = p.notes;
  return img;
}

/**
 * Run stage 1 over a dataset: every labelled image with a split is preprocessed and tiled
 * (worker threads), images done before with the same parameters are reused, bad images are
 * skipped and listed in manifest.skipped. Writes <outDir>/manifest.json atomically.
 */
export async function runTilingWithStats(opts: RunTilingOptions): Promise<{ manifest: TileManifest; stats: TilingStats }> {
  const params = resolveTilingParams(opts.params);
  const outDir = path.resolve(opts.outDir);
  // One writer per output folder; temporary files of killed runs go first.
  const lock = acquireLock(outDir, { command: "tile" });
  try {
    const notes: string[] = [];
    if (lock.tookOver) notes.push(lock.tookOver);
    const leftovers = cleanTempFiles(outDir, { recursive: true });
    if (leftovers.length) notes.push(`removed ${leftovers.length} temporary file(s) of an interrupted run`);
    return await runTilingLocked(opts, params, outDir, notes);
  } finally {
    lock.release();
  }
}

async function runTilingLocked(opts: RunTilingOptions, params: TilingParams, outDir: string, notes: string[]): Promise<{ manifest: TileManifest; stats: TilingStats }> {
  const t0 = Date.now();
  const { records: all, skipped: loadSkipped } = await loadRecords({
    datasetDir: opts.datasetDir,
    adapter: opts.adapter,
    splitsFile: opts.splitsFile,
    seed: opts.seed ?? 42,
    fractions: opts.splitFractions,
    records: opts.records,
    task: opts.task,
  });
  const records = all.filter((r) => r.label !== null && r.split !== null);
  const jobs: TileJob[] = records.map((record) => ({ record, params, outDir }));
  const results: (JobOutcome | null)[] = jobs.map(() => null);
  const workers = opts.workers ?? os.cpus().length;
  if (opts.loader && workers > 0) throw new Error("runTiling: a custom loader works only in-process (workers: 0)");

  // Reuse finished images whose identity (source content, parameters, code) and outputs are unchanged.
  const todo: number[] = [];
  const redone: { imageId: string; reason: string }[] = [];
  let reused = 0;
  jobs.forEach((job, i) => {
    const done = checkDone(job);
    if ("image" in done) {
      results[i] = { ok: true, image: done.image };
      reused++;
    } else {
      todo.push(i);
      redone.push({ imageId: job.record.imageId, reason: done.reason });
    }
  });

  const bar = new Progress({ label: "tile", total: todo.length, unit: "images", enabled: opts.progress !== false });
  let processed = 0;
  const onDone = (i: number, outcome: JobOutcome): void => {
    results[i] = outcome;
    processed++;
    bar.tick();
    opts.onProgress?.(processed, todo.length);
    if (opts.abortAfter !== undefined && processed >= opts.abortAfter) throw new Error(`runTiling: aborted after ${processed} images (test hook)`);
  };
  let workerMemory: WorkerMemory[] = [];
  if (workers <= 0) {
    for (const i of todo) {
      let outcome: JobOutcome;
      try {
        outcome = { ok: true, image: await processImage(jobs[i], opts.loader) };
      } catch (e) {
        outcome = { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      onDone(i, outcome);
    }
  } else {
    workerMemory = await runPool(
      todo.map((i) => jobs[i]),
      workers,
      (k, outcome) => onDone(todo[k], outcome),
    );
  }

  const images: ManifestImage[] = [];
  const skipped: { file: string; error: string }[] = [...loadSkipped];
  results.forEach((r, i) => {
    if (!r) return;
    if (r.ok) images.push(manifestImage(jobs[i].record, r.image));
    else skipped.push({ file: jobs[i].record.filePath, error: r.error });
  });
  const manifest: TileManifest = {
    version: 1,
    createdAt: new Date().toISOString(),
    datasetDir: path.resolve(opts.datasetDir),
    task: opts.task ?? defaultTask(opts.adapter),
    params,
    images,
    skipped,
  };
  writeJsonAtomic(path.join(outDir, MANIFEST_FILE), manifest);
  const stats: TilingStats = {
    images: images.length,
    processed,
    reused,
    skipped: skipped.length,
    tiles: images.reduce((a, m) => a + m.tiles.length, 0),
    seconds: (Date.now() - t0) / 1000,
    workers: Math.max(0, workers),
    workerMemory,
    redone,
    redoneSummary: reasonSummary(redone.map((r) => (r.reason.includes(": ") ? r.reason.slice(0, r.reason.indexOf(": ")) : r.reason))),
    notes,
  };
  writeStageRecord(outDir, {
    stage: "tile",
    config: { adapter: opts.adapter, task: manifest.task, seed: opts.seed ?? null, params },
    inputs: { datasetDir: manifest.datasetDir, splits: opts.splitsFile ? path.resolve(opts.splitsFile) : null },
    upstream: {},
    summary: { unit: "images", done: processed, reused, reasons: stats.redoneSummary },
    skipped: skipped.length,
  });
  return { manifest, stats };
}

export async function runTiling(opts: RunTilingOptions): Promise<TileManifest> {
  return (await runTilingWithStats(opts)).manifest;
}
