import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageRecord, ImageTransform, TileRecord, TilingParams } from "../types";
import { encodeGrey16Png, encodeMaskPng } from "../preprocess/grey16";
import { preprocessPixels, type PresentationImage } from "../preprocess/preprocess";
import { writeFileAtomicAsync, writeJsonAtomic, readJson } from "../util/atomic";
import { fingerprintFile, hashBytes, staleReason, workIdentity, type FileFingerprint, type WorkIdentity } from "../util/workId";
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
  /** What the work was done from (lib/util/workId.ts): the source's content, the parameters, the code version. */
  identity: WorkIdentity;
  /** The source file's size, mtime and content hash (re-read only when size or mtime changed). */
  source: FileFingerprint;
  /** The written PNGs' size, mtime and content hash, checked before they are reused. */
  outputs: Record<string, FileFingerprint>;
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

/** Identity of the work for one image: the source file's content, the parameters that change the result, the code version. */
export function jobIdentity(job: TileJob, source: FileFingerprint): WorkIdentity {
  return workIdentity("tile", { source: source.sha256 }, { params: job.params, laterality: job.record.laterality });
}

/** Key of the work for one image (a hash of its identity; the source file is read to hash it). */
export function jobKey(job: TileJob): string {
  return crypto.createHash("sha256").update(JSON.stringify(jobIdentity(job, fingerprintFile(job.record.filePath)))).digest("hex");
}

export function doneRecordFile(outDir: string, imageId: string): string {
  return path.join(outDir, "done", `${fileStem(imageId)}.json`);
}

/**
 * The finished result for this job when its done-record has the same identity (source
 * content, parameters, code) and its PNGs are unchanged; otherwise why it must be redone
 * ("new", "input changed", "parameters changed", "output damaged: FILE" ...).
 */
export function checkDone(job: TileJob): { image: ProcessedImage } | { reason: string } {
  const file = doneRecordFile(job.outDir, job.record.imageId);
  if (!fs.existsSync(file)) return { reason: "new" };
  let rec: DoneRecord;
  try {
    rec = readJson<DoneRecord>(file);
  } catch {
    return { reason: `unreadable done record ${file}` };
  }
  if (!rec.identity || !rec.source || !rec.outputs) return { reason: "record of an older version" };
  let source: FileFingerprint;
  try {
    source = fingerprintFile(job.record.filePath, rec.source);
  } catch (e) {
    return { reason: (e as Error).message };
  }
  const stale = staleReason(rec.identity, jobIdentity(job, source));
  if (stale) return { reason: stale };
  const img = rec.image;
  for (const f of [img.workingImageFile, img.globalViewFile, img.maskFile]) {
    const out = path.join(job.outDir, f);
    const want = rec.outputs[f];
    if (!want) return { reason: `no checksum for ${f}` };
    let got: FileFingerprint;
    try {
      got = fingerprintFile(out, want);
    } catch {
      return { reason: `output missing: ${out}` };
    }
    if (got.sha256 !== want.sha256) return { reason: `output damaged or changed: ${out}` };
  }
  return { image: img };
}

/** The finished result for this job, or null (see checkDone for the reason). */
export function findDone(job: TileJob): ProcessedImage | null {
  const r = checkDone(job);
  return "image" in r ? r.image : null;
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
  const source = fingerprintFile(record.filePath);
  const identity = jobIdentity(job, source);
  const img = await load(record);
  memoryCheckpoint();
  const r = await preprocessPixels(
    { ...img, laterality: img.laterality ?? record.laterality, source: img.source ?? record.filePath },
    { workingSizePx: params.workingSizePx, globalSizePx: params.globalSizePx, preset: params.preprocessing },
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
  // The three PNGs are encoded (sharp, off this thread) and written side by side; each one's
  // fingerprint is the hash of the bytes written with the size and mtime of the renamed file
  // (what fingerprintFile would read back, without reading it). The working image is written at
  // zlib level 1 (OpenCV's default, what the Python pipeline of bench/tile_python.py writes):
  // ~22 MB at 4096 px against 33.6 MB stored (level 0), for ~0.2 s more CPU per image; on a
  // real dataset (tens of thousands of images) the disk matters more than that.
  const put = async (rel: string, encoded: Promise<Buffer>): Promise<FileFingerprint> => {
    const bytes = await encoded;
    const file = path.join(outDir, rel);
    await writeFileAtomicAsync(file, bytes);
    const st = await fs.promises.stat(file);
    return { size: st.size, mtimeMs: st.mtimeMs, sha256: hashBytes(bytes) };
  };
  const files = [out.workingImageFile, out.globalViewFile, out.maskFile];
  const written = await Promise.allSettled([
    put(files[0], encodeGrey16Png({ pixels: r.working, widthPx: N, heightPx: N }, { compressionLevel: 1 })),
    put(files[1], encodeGrey16Png({ pixels: r.global, widthPx: r.globalSizePx, heightPx: r.globalSizePx })),
    put(files[2], encodeMaskPng(r.mask, N, N)),
  ]);
  const outputs: Record<string, FileFingerprint> = {};
  written.forEach((w, k) => {
    if (w.status === "rejected") throw w.reason;
    outputs[files[k]] = w.value;
  });
  memoryCheckpoint();
  writeJsonAtomic(doneRecordFile(outDir, record.imageId), { identity, source, outputs, image: out } satisfies DoneRecord);
  return out;
}
