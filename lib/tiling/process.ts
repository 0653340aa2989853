import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageRecord, ImageTransform, TileRecord, TilingParams } from "../types";
import { encodeGrey16Png, encodeMaskPng } from "../preprocess/grey16";
import { preprocessPixels, type PresentationImage } from "../preprocess/preprocess";
import { writeFileAtomicAsync, writeJsonAtomic, readJson } from "../util/atomic";
import { selectTiles } from "./grid";
import { loadPresentation } from "./source";

/**
 * One image through the stage: decode, preprocess, select tiles, write the working image,
 * global view and mask PNGs, and a done-record that makes the work resumable.
 */

/** What the stage keeps per image, independent of the dataset's label/split/lesion table. */
export interface ProcessedImage {
  imageId: string;
  transform: ImageTransform;
  workingImageFile: string;
  globalViewFile: string;
  maskFile: string;
  tiles: TileRecord[];
  /** Things worth knowing (e.g. the laterality tag overridden by the column sums). */
  notes: string[];
}

interface DoneRecord {
  key: string;
  image: ProcessedImage;
}

export interface TileJob {
  record: ImageRecord;
  params: TilingParams;
  /** The manifest's folder (absolute). */
  outDir: string;
}

/** Safe file stem for an id (ids from datasets may hold '/', ':' ...). */
export function fileStem(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9._-]/g, "_");
  return clean === id ? id : `${clean}-${crypto.createHash("sha1").update(id).digest("hex").slice(0, 8)}`;
}

/** Key of the work for one image: the parameters and the source file's size and mtime. */
export function jobKey(job: TileJob): string {
  const st = fs.statSync(job.record.filePath);
  const h = crypto.createHash("sha256");
  h.update(JSON.stringify({ params: job.params, file: path.resolve(job.record.filePath), size: st.size, mtimeMs: st.mtimeMs, laterality: job.record.laterality, v: 1 }));
  return h.digest("hex");
}

export function doneRecordFile(outDir: string, imageId: string): string {
  return path.join(outDir, "done", `${fileStem(imageId)}.json`);
}

/** The finished result for this job, when a done-record with the same key and its files exist. */
export function findDone(job: TileJob): ProcessedImage | null {
  const file = doneRecordFile(job.outDir, job.record.imageId);
  if (!fs.existsSync(file)) return null;
  try {
    const rec = readJson<DoneRecord>(file);
    if (rec.key !== jobKey(job)) return null;
    const img = rec.image;
    for (const f of [img.workingImageFile, img.globalViewFile, img.maskFile]) if (!fs.existsSync(path.join(job.outDir, f))) return null;
    return img;
  } catch {
    return null;
  }
}

/** Peak memory seen at the checkpoints inside processImage (per thread; reset by the caller). */
export const memoryPeak = { rssBytes: 0, heapBytes: 0, arrayBuffersBytes: 0 };

/** Record the current memory use into memoryPeak (heap and ArrayBuffers are this thread's). */
export function memoryCheckpoint(): void {
  const m = process.memoryUsage();
  memoryPeak.rssBytes = Math.max(memoryPeak.rssBytes, m.rss);
  memoryPeak.heapBytes = Math.max(memoryPeak.heapBytes, m.heapUsed);
  memoryPeak.arrayBuffersBytes = Math.max(memoryPeak.arrayBuffersBytes, m.arrayBuffers);
}

/** Test hook type: replaces DICOM decoding (in-process runs only). */
export type PresentationLoader = (record: ImageRecord) => Promise<PresentationImage>;

export async function processImage(job: TileJob, load: PresentationLoader = loadPresentation): Promise<ProcessedImage> {
  const { record, params, outDir } = job;
  const key = jobKey(job);
  const img = await load(record);
  memoryCheckpoint();
  const r = await preprocessPixels(
    { ...img, laterality: img.laterality ?? record.laterality, source: img.source ?? record.filePath },
    { workingSizePx: params.workingSizePx, globalSizePx: params.globalSizePx },
  );
  memoryCheckpoint();
  const tiles = selectTiles(r.working, r.mask, params);
  const stem = fileStem(record.imageId);
  const out: ProcessedImage = {
    imageId: record.imageId,
    transform: r.transform,
    workingImageFile: `working/${stem}.png`,
    globalViewFile: `global/${stem}.png`,
    maskFile: `mask/${stem}.png`,
    tiles,
    notes: [],
  };
  if (r.orientation.source === "sums-over-tag")
    out.notes.push(`laterality tag ${record.laterality} disagrees with the column sums (balance ${r.orientation.sumsBalance.toFixed(3)}); orientation from the sums`);
  if (tiles.length === 0) out.notes.push("no tile kept");
  const N = r.workingSizePx;
  await writeFileAtomicAsync(path.join(outDir, out.workingImageFile), await encodeGrey16Png({ pixels: r.working, widthPx: N, heightPx: N }));
  await writeFileAtomicAsync(path.join(outDir, out.globalViewFile), await encodeGrey16Png({ pixels: r.global, widthPx: r.globalSizePx, heightPx: r.globalSizePx }));
  await writeFileAtomicAsync(path.join(outDir, out.maskFile), await encodeMaskPng(r.mask, N, N));
  memoryCheckpoint();
  writeJsonAtomic(doneRecordFile(outDir, record.imageId), { key, image: out } satisfies DoneRecord);
  return out;
}
