import type { SplitFractions } from "../data/splits";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ImageRecord, ManifestImage, TileManifest, TilingParams } from "../types";
import { readJson } from "../util/atomic";
import { reasonBeforeColon, runStage } from "../util/stageRun";
import { type LabelTask, defaultTask } from "../data/labels";
import { lesionsToWorking } from "../preprocess/transform";
import { loadRecords } from "./dataset";
import { resolveTilingParams } from "./params";
import { runPool, type WorkerMemory } from "./pool";
import { checkDone, processImage, type PresentationLoader, type ProcessedImage, type TileJob } from "./process";
import { TILE_STAGE } from "./stageConfig";

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
 * skipped and listed in manifest.skipped. Writes <outDir>/manifest.json atomically. The control
 * flow (lock, resume, progress, skipped items, atomic outputs, stage record) is lib/util/stageRun.ts.
 */
export async function runTilingWithStats(opts: RunTilingOptions): Promise<{ manifest: TileManifest; stats: TilingStats }> {
  const params = resolveTilingParams(opts.params);
  const outDir = path.resolve(opts.outDir);
  const t0 = Date.now();
  const workers = opts.workers ?? os.cpus().length;
  if (opts.loader && workers > 0) throw new Error("runTiling: a custom loader works only in-process (workers: 0)");
  let workerMemory: WorkerMemory[] = [];
  const task = opts.task ?? defaultTask(opts.adapter);
  const { value } = await runStage({
    stage: "tile",
    outDir,
    config: { spec: TILE_STAGE, given: { seed: opts.seed, workingSizePx: params.workingSizePx, tileSizePx: params.tileSizePx, globalSizePx: params.globalSizePx, overlap: params.overlap } },
    unit: "images",
    open: () =>
      loadRecords({
        datasetDir: opts.datasetDir,
        adapter: opts.adapter,
        splitsFile: opts.splitsFile,
        seed: opts.seed ?? 42,
        fractions: opts.splitFractions,
        records: opts.records,
        task: opts.task,
      }),
    items: ({ records, skipped }) => ({
      items: records.filter((r) => r.label !== null && r.split !== null).map((record): TileJob => ({ record, params, outDir })),
      skipped: skipped.map((s) => ({ id: s.file, error: s.error })),
    }),
    id: (job) => job.record.imageId,
    // Reuse finished images whose identity (source content, parameters, code) and outputs are unchanged.
    check: (job) => {
      const done = checkDone(job);
      return "image" in done ? { reuse: done.image } : done;
    },
    compute: (job) => processImage(job, opts.loader),
    runAll:
      workers > 0
        ? async (todo, _s, settle) => {
            workerMemory = await runPool(todo, workers, (k, outcome) => settle(k, outcome.ok ? { ok: true, result: outcome.image } : outcome));
          }
        : undefined,
    afterItem: (n, total) => {
      opts.onProgress?.(n, total);
      if (opts.abortAfter !== undefined && n >= opts.abortAfter) throw new Error(`runTiling: aborted after ${n} images (test hook)`);
    },
    progress: { label: "tile", unit: "images", enabled: opts.progress !== false },
    reasonKind: reasonBeforeColon,
    finish: (_s, work, ctx) => {
      const images: ManifestImage[] = [];
      // skipped images by their source file
      const skipped = work.skipped.map((s) => ({ file: s.item ? s.item.record.filePath : s.id, error: s.error }));
      work.results.forEach((r, i) => {
        if (r) images.push(manifestImage(work.items[i].record, r));
      });
      const manifest: TileManifest = { version: 1, createdAt: new Date().toISOString(), datasetDir: path.resolve(opts.datasetDir), task, params, images, skipped };
      const stats: TilingStats = {
        images: images.length,
        processed: work.redone.length,
        reused: work.reused,
        skipped: skipped.length,
        tiles: images.reduce((a, m) => a + m.tiles.length, 0),
        seconds: (Date.now() - t0) / 1000,
        workers: Math.max(0, workers),
        workerMemory,
        redone: work.redone.map((r) => ({ imageId: r.id, reason: r.reason })),
        redoneSummary: work.reasons,
        notes: ctx.notes,
      };
      return {
        value: { manifest, stats },
        files: [[MANIFEST_FILE, manifest]],
        record: {
          config: { adapter: opts.adapter, task, seed: opts.seed ?? null, params },
          inputs: { datasetDir: manifest.datasetDir, splits: opts.splitsFile ? path.resolve(opts.splitsFile) : null },
          upstream: {},
          extra: { skipped: skipped.length },
        },
      };
    },
  });
  return value;
}

export async function runTiling(opts: RunTilingOptions): Promise<TileManifest> {
  return (await runTilingWithStats(opts)).manifest;
}
