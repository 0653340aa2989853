import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { WritableTransferSyntax } from "../dicom/uids";
import type { ImageRecord } from "../types";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { Progress } from "../util/progress";
import { Rng } from "../util/rng";
import { recordsTable, toCsv } from "../util/table";
import { type Density, type ViewPosition, sampleBreastShape, sampleLesions, sampleLesionsV3 } from "./phantom";
import { sampleAnatomy } from "./physics";
import { makeSplits } from "./splits";
import type { BreastResult, BreastTask, ImageTask, ImageTruth } from "./synthRender";
import { renderAndWriteBreast } from "./synthRender";

/**
 * The synthetic mammography dataset: real DICOM Part-10 files in a mix of transfer syntaxes and
 * the dataset tables in the VinDr-Mammo layout, so it goes through the same adapter as a real
 * VinDr download:
 *
 *   DIR/breast-level_annotations.csv, DIR/finding_annotations.csv
 *   DIR/images/<study_id>/<image_id>.dicom
 *   DIR/ground_truth/<study_id>/<image_id>.mask.png   breast silhouette (255 = breast)
 *   DIR/ground_truth/<study_id>/<image_id>.json       lesion boxes, orientation, encoding facts
 *   DIR/synthetic.json                                 the options and the summary (written last)
 *
 * Everything is a function of the options: the same options give byte-identical files. A re-run
 * over a complete folder only re-reads the ground-truth JSONs.
 */

export interface SyntheticOptions {
  outDir: string;
  patients: number;
  /** Image height; width is 13/16 of it (1024 -> 832, 4096 -> 3328). Default 1024. */
  heightPx?: number;
  seed?: number;
  /** Fraction of breasts that are suspicious (BI-RADS 4/5/6). Default 0.3. */
  prevalence?: number;
  /** Fraction of breasts that are benign (BI-RADS 2/3). Default 0.1. */
  benignRate?: number;
  /** Fraction of breasts with an extra XCCL view. Default 0.05. */
  extraViewRate?: number;
  /** Fraction of images written MONOCHROME1. Default 0.2. */
  monochrome1Rate?: number;
  /** Fraction of breasts whose chest wall is on the unusual side of the image. Default 0.1. */
  flippedRate?: number;
  /** Cycled over the images in order. Default: all eight syntaxes writeDicom supports. */
  transferSyntaxes?: WritableTransferSyntax[];
  /** 12, 14, or "mixed" (default: alternating per patient). */
  bitsStored?: 12 | 14 | "mixed";
  /** Worker threads (only from compiled JS); default min(4, cores). 1 = in-process. */
  workers?: number;
  /** Print progress (default true). */
  progress?: boolean;
  /**
   * Generator version (default 3). 3: lesions and normal anatomy at mammography's physical scale
   * (lib/data/physics.ts); 2: the earlier generator, kept byte-reproducible.
   */
  version?: SyntheticVersion;
}

export type SyntheticVersion = 2 | 3;
export const SYNTHETIC_VERSIONS: readonly SyntheticVersion[] = [2, 3] as const;

export interface SyntheticSummary {
  outDir: string;
  patients: number;
  studies: number;
  breasts: number;
  images: number;
  widthPx: number;
  heightPx: number;
  /** Breasts by group. */
  suspiciousBreasts: number;
  benignBreasts: number;
  negativeBreasts: number;
  lesions: number;
  imagesWritten: number;
  imagesReused: number;
  transferSyntaxCounts: Record<string, number>;
  monochrome1Images: number;
  seconds: number;
  workers: number;
}

/**
 * The default cycle (12 images): every syntax writeDicom supports, the cheap uncompressed ones
 * more often. JPEG 2000 encoding costs ~0.5 s per 1024 px image, 40x an uncompressed write, so it
 * comes once per cycle to keep the default set under a minute.
 */
export const DEFAULT_SYNTHETIC_TRANSFER_SYNTAXES: readonly WritableTransferSyntax[] = [
  "explicit-le",
  "jpeg2000-lossless",
  "implicit-le",
  "jpegls-lossless",
  "explicit-le",
  "rle",
  "jpeg-lossless-sv1",
  "explicit-le",
  "explicit-be",
  "deflated-le",
  "implicit-le",
  "jpegls-lossless",
];

/** The columns both VinDr-style tables start with (one image and its breast). */
const IMAGE_COLUMNS = ["study_id", "series_id", "image_id", "laterality", "view_position", "height", "width", "breast_birads", "breast_density"] as const;

export const BREAST_LEVEL_COLUMNS = [...IMAGE_COLUMNS, "split"] as const;

export const FINDING_COLUMNS = [
  ...IMAGE_COLUMNS,
  "finding_categories",
  "finding_birads",
  "xmin",
  "ymin",
  "xmax",
  "ymax",
  "split",
] as const;

/** 32 lowercase hex characters derived from the seed and labels (VinDr-style ids). */
export function hexId(seed: number, ...labels: (string | number)[]): string {
  const r = Rng.derive(seed, ...labels);
  let s = "";
  for (let i = 0; i < 4; i++) s += r.nextUint32().toString(16).padStart(8, "0");
  return s;
}

/** A DICOM UID under the 2.25 root (UUID-derived) from the seed and labels. */
export function uidFor(seed: number, ...labels: (string | number)[]): string {
  return `2.25.${BigInt("0x" + hexId(seed, "uid", ...labels)).toString(10)}`;
}

interface ResolvedOptions {
  outDir: string;
  patients: number;
  heightPx: number;
  widthPx: number;
  seed: number;
  prevalence: number;
  benignRate: number;
  extraViewRate: number;
  monochrome1Rate: number;
  flippedRate: number;
  transferSyntaxes: WritableTransferSyntax[];
  bitsStored: 12 | 14 | "mixed";
  version: SyntheticVersion;
}

function resolve(opts: SyntheticOptions): ResolvedOptions {
  const heightPx = opts.heightPx ?? 1024;
  if (!Number.isInteger(opts.patients) || opts.patients < 1) throw new Error(`synthetic: patients must be a positive integer, got ${opts.patients}`);
  if (!Number.isInteger(heightPx) || heightPx < 64 || heightPx > 8192) throw new Error(`synthetic: heightPx must be an integer in 64..8192, got ${heightPx}`);
  const prevalence = opts.prevalence ?? 0.3;
  const benignRate = opts.benignRate ?? 0.1;
  if (!(prevalence >= 0 && benignRate >= 0 && prevalence + benignRate <= 1)) {
    throw new Error(`synthetic: prevalence (${prevalence}) and benignRate (${benignRate}) must be >= 0 and sum to at most 1`);
  }
  const transferSyntaxes = [...(opts.transferSyntaxes ?? DEFAULT_SYNTHETIC_TRANSFER_SYNTAXES)];
  if (transferSyntaxes.length === 0) throw new Error("synthetic: transferSyntaxes is empty");
  return {
    outDir: path.resolve(opts.outDir),
    patients: opts.patients,
    heightPx,
    widthPx: Math.round((heightPx * 13) / 16),
    seed: opts.seed ?? 0,
    prevalence,
    benignRate,
    extraViewRate: opts.extraViewRate ?? 0.05,
    monochrome1Rate: opts.monochrome1Rate ?? 0.2,
    flippedRate: opts.flippedRate ?? 0.1,
    transferSyntaxes,
    bitsStored: opts.bitsStored ?? "mixed",
    version: resolveVersion(opts.version),
  };
}

function resolveVersion(v: unknown): SyntheticVersion {
  return v === undefined ? 3 : parseSyntheticVersion(v, "synthetic: version");
}

/** A generator version from a parameter; one clear error naming `name` and what is allowed. */
export function parseSyntheticVersion(v: unknown, name = "generator"): SyntheticVersion {
  if (v === 2 || v === 3) return v;
  throw new Error(`${name}: ${JSON.stringify(v)} is not a synthetic generator version; allowed: ${SYNTHETIC_VERSIONS.join(", ")}`);
}

const DENSITIES: Density[] = ["A", "B", "C", "D"];

/** Bumped whenever the rendering changes, so a folder made by another version is not silently mixed. */
export const SYNTHETIC_GENERATOR_VERSIONS: Readonly<Record<SyntheticVersion, string>> = { 2: "milpf synthetic v2", 3: "milpf synthetic v3" };
/** The default generator's version string. */
export const SYNTHETIC_GENERATOR_VERSION = SYNTHETIC_GENERATOR_VERSIONS[3];

function sampleDensity(rng: Rng): Density {
  const u = rng.uniform();
  return u < 0.1 ? "A" : u < 0.5 ? "B" : u < 0.9 ? "C" : "D";
}

function sampleBirads(rng: Rng, prevalence: number, benignRate: number): number {
  const u = rng.uniform();
  if (u < prevalence) {
    const k = rng.uniform();
    return k < 0.6 ? 4 : k < 0.9 ? 5 : 6;
  }
  if (u < prevalence + benignRate) return rng.bernoulli(0.6) ? 2 : 3;
  return 1;
}

/** The full plan: one task per breast, in output order. Pure function of the options. */
export function planSyntheticDataset(opts: SyntheticOptions): BreastTask[] {
  const o = resolve(opts);
  const tasks: BreastTask[] = [];
  let imageIndex = 0;
  // v3: 0.1 mm per pixel at 4096 px (the physical scale its lesions are drawn at); v2: 0.07 mm
  const spacingMm = ((o.version === 3 ? 0.1 : 0.07) * 4096) / o.heightPx;
  for (let p = 0; p < o.patients; p++) {
    const studyId = hexId(o.seed, "study", p);
    const prng = Rng.derive(o.seed, "patient", p);
    const density = sampleDensity(prng);
    const bits: 12 | 14 = o.bitsStored === "mixed" ? (p % 2 === 0 ? 12 : 14) : o.bitsStored;
    const studyUid = uidFor(o.seed, "study", studyId);
    let instance = 1;
    for (const laterality of ["R", "L"] as const) {
      const brng = Rng.derive(o.seed, "breast", studyId, laterality);
      const birads = sampleBirads(brng, o.prevalence, o.benignRate);
      const shape = sampleBreastShape(brng);
      const views: ViewPosition[] = ["CC", "MLO"];
      if (brng.bernoulli(o.extraViewRate)) views.push("XCCL");
      const lesions = o.version === 3 ? sampleLesionsV3(brng, birads, shape, views, o.widthPx, o.heightPx) : sampleLesions(brng, birads, shape, views, o.widthPx, o.heightPx);
      // v3 anatomy from its own stream, so the v2 streams above are untouched
      const anatomy = o.version === 3 ? sampleAnatomy(Rng.derive(o.seed, "anatomy", studyId, laterality), density, views) : undefined;
      // convention: right breast -> chest wall on the image's right, left breast -> on the left
      const usual = laterality === "R" ? "right" : "left";
      const chestWallSide = brng.bernoulli(o.flippedRate) ? (usual === "right" ? "left" : "right") : usual;
      const textureSeeds = [brng.nextUint32(), brng.nextUint32()];
      const images: ImageTask[] = views.map((view, k) => {
        const imageId = hexId(o.seed, "image", studyId, laterality, view);
        const seriesId = hexId(o.seed, "series", studyId, laterality, view);
        const ts = o.transferSyntaxes[imageIndex % o.transferSyntaxes.length];
        imageIndex++;
        const mono1 = Rng.derive(o.seed, "mono1", imageId).bernoulli(o.monochrome1Rate);
        const rescaled = Rng.derive(o.seed, "rescale", imageId).bernoulli(0.15);
        return {
          imageId,
          seriesId,
          view,
          transferSyntax: ts,
          bitsStored: bits,
          photometric: mono1 ? "MONOCHROME1" : "MONOCHROME2",
          rescaleSlope: rescaled ? 2 : 1,
          rescaleIntercept: rescaled ? -100 : 0,
          studyInstanceUid: studyUid,
          seriesInstanceUid: uidFor(o.seed, "series", seriesId),
          sopInstanceUid: uidFor(o.seed, "sop", imageId),
          instanceNumber: instance++,
          texture: k < 2 ? [0, k as 0 | 1] : [1, 0],
          noiseSeed: Rng.derive(o.seed, "noise", imageId).nextUint32(),
          dicomFile: path.join("images", studyId, `${imageId}.dicom`),
          maskFile: path.join("ground_truth", studyId, `${imageId}.mask.png`),
          truthFile: path.join("ground_truth", studyId, `${imageId}.json`),
        };
      });
      tasks.push({
        patientId: studyId,
        studyId,
        laterality,
        chestWallSide,
        density,
        birads,
        shape,
        lesions,
        ...(anatomy ? { anatomy } : {}),
        widthPx: o.widthPx,
        heightPx: o.heightPx,
        pixelSpacingMm: Math.round(spacingMm * 1e4) / 1e4,
        textureSeeds,
        images,
      });
    }
  }
  return tasks;
}

const FINDING_TEXT: Record<string, string> = { mass: "['Mass']", calcification: "['Suspicious Calcification']" };

/** Split column of the synthetic tables: VinDr-like "training" / "test", stratified by BI-RADS. */
function studySplits(tasks: BreastTask[], seed: number): Map<string, string> {
  const pseudo: ImageRecord[] = tasks.map((t) => ({
    patientId: t.patientId,
    studyId: t.studyId,
    imageId: t.studyId + t.laterality,
    breastId: `${t.studyId}_${t.laterality}`,
    laterality: t.laterality,
    view: "CC",
    filePath: "",
    birads: t.birads,
    label: null,
    density: t.density,
    split: null,
    lesions: [],
  }));
  const m = makeSplits(pseudo, { seed, fractions: { train: 0.8, val: 0, test: 0.2 } });
  const out = new Map<string, string>();
  for (const [k, v] of m) out.set(k, v === "test" ? "test" : "training");
  return out;
}

/** The two VinDr-layout tables for the planned tasks and their rendered ground truth. */
export function buildTables(tasks: BreastTask[], truths: Map<string, ImageTruth>, seed: number): { breastLevel: string; findings: string } {
  const splits = studySplits(tasks, seed);
  const breastRows: Record<string, string | number>[] = [];
  const findingRows: Record<string, string | number>[] = [];
  for (const t of tasks) {
    for (const im of t.images) {
      const truth = truths.get(im.imageId);
      if (!truth) continue;
      const base = {
        study_id: t.studyId,
        series_id: im.seriesId,
        image_id: im.imageId,
        laterality: t.laterality,
        view_position: im.view,
        height: t.heightPx,
        width: t.widthPx,
        breast_birads: `BI-RADS ${t.birads}`,
        breast_density: `DENSITY ${t.density}`,
      };
      const split = splits.get(t.patientId) ?? "training";
      breastRows.push({ ...base, split });
      if (truth.lesions.length === 0) {
        findingRows.push({ ...base, finding_categories: "['No Finding']", finding_birads: "", xmin: "", ymin: "", xmax: "", ymax: "", split });
      }
      for (const l of truth.lesions) {
        findingRows.push({
          ...base,
          finding_categories: FINDING_TEXT[l.kind] ?? `['${l.kind}']`,
          finding_birads: l.birads === null ? "" : `BI-RADS ${l.birads}`,
          xmin: l.x0,
          ymin: l.y0,
          xmax: l.x1,
          ymax: l.y1,
          split,
        });
      }
    }
  }
  return { breastLevel: toCsv(recordsTable(BREAST_LEVEL_COLUMNS, breastRows)), findings: toCsv(recordsTable(FINDING_COLUMNS, findingRows)) };
}

type Runner = { run(task: BreastTask): Promise<BreastResult>; close(): Promise<void>; workers: number };

function inProcessRunner(outDir: string): Runner {
  return { run: (task) => renderAndWriteBreast(outDir, task), close: async () => {}, workers: 1 };
}

function workerRunner(outDir: string, n: number, workerFile: string): Runner {
  const workers: Worker[] = [];
  const idle: Worker[] = [];
  const waiting: (() => void)[] = [];
  const pending = new Map<number, { resolve: (r: BreastResult) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  for (let i = 0; i < n; i++) {
    const w = new Worker(workerFile, { workerData: { outDir } });
    w.on("message", (msg: { id: number; result?: BreastResult; error?: string }) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      idle.push(w);
      waiting.shift()?.();
      if (!p) return;
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result as BreastResult);
    });
    w.on("error", (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
    workers.push(w);
    idle.push(w);
  }
  return {
    workers: n,
    async run(task) {
      while (idle.length === 0) await new Promise<void>((r) => waiting.push(r));
      const w = idle.pop() as Worker;
      const id = nextId++;
      return new Promise<BreastResult>((resolveP, rejectP) => {
        pending.set(id, { resolve: resolveP, reject: rejectP });
        w.postMessage({ id, task });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function optionsRecord(o: ResolvedOptions): Record<string, unknown> {
  const { outDir: _outDir, version, ...rest } = o;
  // v2 folders were written before the version option existed: keep their record unchanged
  return version === 2 ? rest : { ...rest, version };
}

/**
 * Generate (or complete) a synthetic dataset. Deterministic for the options; images already
 * complete on disk are reused. Throws if `outDir` holds a set made with different options.
 */
export async function generateSyntheticDataset(opts: SyntheticOptions): Promise<SyntheticSummary> {
  const t0 = Date.now();
  const o = resolve(opts);
  const infoFile = path.join(o.outDir, "synthetic.json");
  if (fs.existsSync(infoFile)) {
    let previous: { generator?: string; options?: Record<string, unknown> } = {};
    try {
      previous = JSON.parse(fs.readFileSync(infoFile, "utf8")) as { generator?: string; options?: Record<string, unknown> };
    } catch {
      previous = {};
    }
    if (previous.options && JSON.stringify(previous.options) !== JSON.stringify(optionsRecord(o))) {
      throw new Error(`${infoFile}: this folder holds a synthetic set made with other options; use another folder or delete it`);
    }
    if (previous.generator && previous.generator !== SYNTHETIC_GENERATOR_VERSIONS[o.version]) {
      throw new Error(`${infoFile}: this folder was made by "${previous.generator}", not "${SYNTHETIC_GENERATOR_VERSIONS[o.version]}"; use another folder or delete it`);
    }
  }
  fs.mkdirSync(o.outDir, { recursive: true });
  const tasks = planSyntheticDataset(opts);
  const compiled = __filename.endsWith(".js");
  const workerFile = path.join(__dirname, "synthWorker.js");
  const wantWorkers = Math.max(1, Math.min(opts.workers ?? Math.min(4, os.cpus().length), tasks.length));
  const runner = compiled && wantWorkers > 1 && fs.existsSync(workerFile) ? workerRunner(o.outDir, wantWorkers, workerFile) : inProcessRunner(o.outDir);
  const progress = new Progress({ label: "synth", total: tasks.length, unit: "breasts", enabled: opts.progress ?? true });
  const truths = new Map<string, ImageTruth>();
  let written = 0;
  let reused = 0;
  try {
    // one lane per worker (one lane in-process, so only one breast's buffers live at a time)
    const results: BreastResult[] = new Array<BreastResult>(tasks.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: runner.workers }, async () => {
        while (next < tasks.length) {
          const i = next++;
          results[i] = await runner.run(tasks[i]);
          progress.tick();
        }
      }),
    );
    for (const r of results) {
      written += r.written;
      reused += r.reused;
      for (const t of r.truths) truths.set(t.imageId, t);
    }
  } finally {
    await runner.close();
  }
  const tables = buildTables(tasks, truths, o.seed);
  writeFileAtomic(path.join(o.outDir, "breast-level_annotations.csv"), tables.breastLevel);
  writeFileAtomic(path.join(o.outDir, "finding_annotations.csv"), tables.findings);
  const tsCounts: Record<string, number> = {};
  let mono1 = 0;
  let lesions = 0;
  for (const t of tasks) {
    lesions += t.lesions.length;
    for (const im of t.images) {
      tsCounts[im.transferSyntax] = (tsCounts[im.transferSyntax] ?? 0) + 1;
      if (im.photometric === "MONOCHROME1") mono1++;
    }
  }
  const summary: SyntheticSummary = {
    outDir: o.outDir,
    patients: o.patients,
    studies: o.patients,
    breasts: tasks.length,
    images: tasks.reduce((a, t) => a + t.images.length, 0),
    widthPx: o.widthPx,
    heightPx: o.heightPx,
    suspiciousBreasts: tasks.filter((t) => t.birads >= 4).length,
    benignBreasts: tasks.filter((t) => t.birads === 2 || t.birads === 3).length,
    negativeBreasts: tasks.filter((t) => t.birads === 1).length,
    lesions,
    imagesWritten: written,
    imagesReused: reused,
    transferSyntaxCounts: tsCounts,
    monochrome1Images: mono1,
    seconds: (Date.now() - t0) / 1000,
    workers: runner.workers,
  };
  // The info file holds only deterministic content (no timings), so a re-run leaves it identical.
  const { seconds: _s, imagesWritten: _w, imagesReused: _r, workers: _k, outDir: _o, ...stable } = summary;
  writeJsonAtomic(infoFile, { generator: SYNTHETIC_GENERATOR_VERSIONS[o.version], options: optionsRecord(o), summary: stable, densities: DENSITIES });
  return summary;
}

/** Where the generator puts an image's ground truth (mask PNG, JSON) inside a synthetic set. */
export function groundTruthFiles(datasetDir: string, studyId: string, imageId: string): { mask: string; truth: string } {
  const base = path.join(path.resolve(datasetDir), "ground_truth", studyId, imageId);
  return { mask: `${base}.mask.png`, truth: `${base}.json` };
}

/** An image's ground truth (lesion boxes, chest-wall side, encoding facts) from a synthetic set. */
export function readImageTruth(datasetDir: string, studyId: string, imageId: string): ImageTruth {
  const file = groundTruthFiles(datasetDir, studyId, imageId).truth;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read ground truth (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as ImageTruth;
  } catch (e) {
    throw new Error(`${file}: ground truth is not valid JSON (${(e as Error).message})`);
  }
}
