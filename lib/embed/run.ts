import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ManifestImage, StoreBag, TileManifest } from "../types";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { fingerprintFile, hashBytes, hashJson, staleReason, workIdentity, type FileFingerprint, type WorkIdentity } from "../util/workId";
import { resolveProjectPath } from "../util/paths";
import { readStageRecord } from "../util/stage";
import { runStage } from "../util/stageRun";
import { decodeGrey16Png } from "../preprocess/grey16";
import { readManifest } from "../tiling/manifest";
import type { StoreDtype, StoreMeta } from "../store/format";
import { StoreWriter, type ImageEmbeddings } from "../store/write";
import type { BuiltinEncoderOptions } from "./builtin";
import type { Encoder, ExecutionProviderName, OutputChoice } from "./encoder";
import { writeEncoderInput, writeTileEncoderInput } from "./input";
import { loadEncoder } from "./loadEncoder";
import { EMBED_STAGE } from "./stageConfig";

/** One shard of a sharded run: bags i with i % count === index (0-based). */
export interface Shard {
  index: number;
  count: number;
}

export interface RunEmbeddingOptions {
  /** Tile manifest file (project-relative or absolute). */
  manifest: string;
  /** "builtin" or an HF-style ONNX export folder. */
  encoder: string;
  /** Store folder to write (project-relative or absolute). */
  out: string;
  provider?: ExecutionProviderName;
  output?: OutputChoice;
  /** Images per encoder call are split into batches of this many (default 64). */
  batchSize?: number;
  dtype?: StoreDtype;
  shard?: Shard | null;
  threads?: number;
  builtin?: BuiltinEncoderOptions;
  builtinFolder?: string;
  /** Show progress on stderr (default true). */
  progress?: boolean;
  /** Use this encoder instead of loading one (it is not closed). */
  encoderInstance?: Encoder;
  /** Keep the per-image chunk files after the store is assembled (default true: they make re-runs instant). */
  keepChunks?: boolean;
}

export interface EmbeddingRunStats {
  bags: number;
  images: number;
  globals: number;
  tiles: number;
  /** Images embedded by this call (the rest were reused from chunk files of an earlier, interrupted run). */
  embeddedImages: number;
  reusedImages: number;
  /** Images embedded again although a chunk existed or not (why: new, input changed, parameters changed, damaged chunk ...). */
  redone: { imageId: string; reason: string }[];
  /** One phrase per reason: "2 new, 1 input changed". */
  redoneSummary: string;
  /** Things the run did on the side: a stale lock taken over, temporary files of killed runs removed. */
  notes: string[];
  skipped: { imageId: string; error: string }[];
  seconds: number;
  /** Global views + tiles embedded by this call per second of encoder time (the encoder calls only). */
  tilesPerSecond: number;
  /** Global views + tiles embedded by this call (reused ones not counted). */
  embeddedRows?: number;
  /** Seconds spent in the encoder calls (the rest of `seconds`: decoding PNGs, writing, assembling the store). */
  encoderSeconds?: number;
  provider: string;
  encoder: string;
}

export interface EmbeddingRunResult {
  storeDir: string;
  meta: StoreMeta;
  stats: EmbeddingRunStats;
}

/** Chunk and state files of a run live here, inside the output folder. */
export const CHUNK_DIR = "chunks";
const STATE_FILE = "state.json";
export const RUN_STATS_FILE = "embed_run.json";

interface RunState {
  key: string;
  startedAt: string;
  /** Content hashes of the encoder's files with their size and mtime (not re-read while unchanged). */
  encoderFiles?: Record<string, FileFingerprint>;
}

/**
 * A chunk file: one image's embeddings with the identity of the work that made them.
 *   "MILPFCK2" | uint32 LE header length | header JSON | rows x D float32 | sha256 of all before (32 bytes)
 * The header holds the work identity (lib/util/workId.ts) and the size/mtime/hash of the input
 * PNGs, so an unchanged PNG is not re-read to decide whether the chunk is still good.
 */
const CHUNK_MAGIC = Buffer.from("MILPFCK2", "ascii");

interface ChunkHeader {
  imageId: string;
  rows: number;
  dim: number;
  identity: WorkIdentity;
  sources: Record<string, FileFingerprint>;
}

export function encodeChunk(header: ChunkHeader, emb: Float32Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  const body = Buffer.concat([CHUNK_MAGIC, len, json, Buffer.from(emb.buffer, emb.byteOffset, emb.byteLength)]);
  return Buffer.concat([body, Buffer.from(hashBytes(body), "hex")]);
}

/** Read and verify a chunk file: its header and data, or why it cannot be used (never a silent partial). */
export function decodeChunk(file: string, buf: Buffer): { header: ChunkHeader; data: Float32Array } | { damaged: string } {
  if (buf.length < CHUNK_MAGIC.length + 4 + 32 || !buf.subarray(0, CHUNK_MAGIC.length).equals(CHUNK_MAGIC)) return { damaged: `${file}: not a chunk file of this version` };
  const body = buf.subarray(0, buf.length - 32);
  if (hashBytes(body) !== buf.subarray(buf.length - 32).toString("hex")) return { damaged: `${file}: checksum mismatch (damaged chunk file)` };
  const len = buf.readUInt32LE(CHUNK_MAGIC.length);
  const start = CHUNK_MAGIC.length + 4 + len;
  let header: ChunkHeader;
  try {
    header = JSON.parse(buf.subarray(CHUNK_MAGIC.length + 4, start).toString("utf8")) as ChunkHeader;
  } catch {
    return { damaged: `${file}: unreadable header` };
  }
  if (body.length - start !== header.rows * header.dim * 4) return { damaged: `${file}: ${body.length - start} data bytes, header says ${header.rows} x ${header.dim} float32` };
  const data = new Float32Array(header.rows * header.dim);
  new Uint8Array(data.buffer).set(body.subarray(start));
  return { header, data };
}

interface PlannedBag {
  bag: StoreBag;
  images: ManifestImage[];
}

/** Check a provider name given as text (CLI flags, notebook parameters). */
export function parseProvider(text: string): ExecutionProviderName {
  if (text === "cpu" || text === "cuda" || text === "webgpu") return text;
  throw new Error(`provider must be cpu, cuda or webgpu (got "${text}")`);
}

/** Check a store dtype given as text. */
export function parseDtype(text: string): StoreDtype {
  if (text === "float32" || text === "float16") return text;
  throw new Error(`dtype must be float32 or float16 (got "${text}")`);
}

/** The run's numbers as table rows (for the notebook's throughput table). */
export function runStatsRows(stats: EmbeddingRunStats): { field: string; value: string | number }[] {
  return [
    { field: "encoder", value: stats.encoder },
    { field: "provider that ran", value: stats.provider },
    { field: "bags", value: stats.bags },
    { field: "images", value: stats.images },
    { field: "global views + tiles", value: stats.globals + stats.tiles },
    { field: "images embedded now", value: stats.embeddedImages },
    { field: "images reused (earlier run)", value: stats.reusedImages },
    { field: "images skipped", value: stats.skipped.length },
    // Times and rates as text with one decimal (the value column mixes counts and rates).
    { field: "wall clock (s)", value: stats.seconds.toFixed(1) },
    ...(stats.encoderSeconds === undefined ? [] : [{ field: "encoder time (s)", value: stats.encoderSeconds.toFixed(1) }]),
    ...(stats.embeddedRows === undefined ? [] : [{ field: "throughput, wall clock (views + tiles / s)", value: (stats.seconds > 0 ? stats.embeddedRows / stats.seconds : 0).toFixed(1) }]),
    { field: "throughput, encoder time only (views + tiles / s)", value: stats.tilesPerSecond.toFixed(1) },
  ];
}

/** Parse "K/N" (0-based K) into a Shard. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`--shard must look like K/N (0-based K), got "${text}"`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  if (shard.count < 1 || shard.index >= shard.count) throw new Error(`--shard ${text}: need 0 <= K < N`);
  return shard;
}

/**
 * The bags of a manifest: labelled images with a split, grouped by breastId, sorted by bagId
 * (images keep manifest order). A bag whose images disagree on label or split is left out and
 * reported. With a shard, only bags i with i % count === index are kept.
 */
export function planBags(manifest: TileManifest, shard: Shard | null = null): { bags: PlannedBag[]; skipped: { imageId: string; error: string }[] } {
  const byBag = new Map<string, ManifestImage[]>();
  for (const im of manifest.images) {
    if (im.label === null || im.split === null) continue;
    const list = byBag.get(im.breastId);
    if (list) list.push(im);
    else byBag.set(im.breastId, [im]);
  }
  const ids = Array.from(byBag.keys()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bags: PlannedBag[] = [];
  const skipped: { imageId: string; error: string }[] = [];
  ids.forEach((id, i) => {
    if (shard && i % shard.count !== shard.index) return;
    const images = byBag.get(id) ?? [];
    const first = images[0];
    const bad = images.find((im) => im.label !== first.label || im.split !== first.split || im.patientId !== first.patientId);
    if (bad) {
      for (const im of images) skipped.push({ imageId: im.imageId, error: `bag ${id}: images disagree on label/split/patient` });
      return;
    }
    bags.push({ bag: { bagId: id, patientId: first.patientId, label: first.label as 0 | 1, split: first.split as StoreBag["split"] }, images });
  });
  return { bags, skipped };
}

export function chunkFile(chunkDir: string, im: Pick<ManifestImage, "imageId">): string {
  const safe = im.imageId.replace(/[^A-Za-z0-9._-]/g, "_");
  const h = crypto.createHash("sha1").update(im.imageId).digest("hex").slice(0, 8);
  return path.join(chunkDir, `${safe}.${h}.chunk`);
}

/** The PNGs an image's embeddings are computed from (manifest-relative paths). */
function inputFiles(im: ManifestImage): string[] {
  return im.tiles.length > 0 ? [im.globalViewFile, im.workingImageFile] : [im.globalViewFile];
}

/** Encoder files whose content decides the embeddings (an ONNX export folder; empty for an instance without a folder). */
function encoderContent(folder: string | null, known: Record<string, FileFingerprint>): Record<string, FileFingerprint> {
  const out: Record<string, FileFingerprint> = {};
  if (!folder || !fs.existsSync(folder)) return out;
  for (const f of fs.readdirSync(folder).sort()) {
    if (!/\.(onnx|onnx_data|data|json)$/.test(f)) continue;
    const file = path.join(folder, f);
    if (!fs.statSync(file).isFile()) continue;
    out[f] = fingerprintFile(file, known[f]);
  }
  return out;
}

/** Read one image's global view and tiles as encoder inputs (count x S x S in [0, 1]). */
async function loadImageInputs(manifestDir: string, im: ManifestImage, enc: Encoder): Promise<Float32Array> {
  const S = enc.inputSizePx;
  const out = new Float32Array((1 + im.tiles.length) * S * S);
  const globalFile = path.join(manifestDir, im.globalViewFile);
  const g = await decodeGrey16Png(globalFile);
  if (g.widthPx !== g.heightPx) throw new Error(`${globalFile}: global view is ${g.widthPx} x ${g.heightPx}, expected a square`);
  await writeEncoderInput(g, enc, out, 0);
  if (im.tiles.length === 0) return out;
  const workFile = path.join(manifestDir, im.workingImageFile);
  const w = await decodeGrey16Png(workFile);
  if (w.widthPx !== w.heightPx) throw new Error(`${workFile}: working image is ${w.widthPx} x ${w.heightPx}, expected a square`);
  for (let t = 0; t < im.tiles.length; t++) await writeTileEncoderInput(w.pixels, w.widthPx, im.tiles[t], enc, out, (1 + t) * S * S);
  return out;
}


const testDelayMs = Number(process.env.MILPF_EMBED_TEST_DELAY_MS ?? 0);

/** What the embed stage holds while it runs: the encoder, the run's parameters, each image's work identity. */
interface EmbedState {
  enc: Encoder;
  runParams: unknown;
  state: RunState;
  identities: Map<string, { identity: WorkIdentity; sources: Record<string, FileFingerprint> }>;
}

/**
 * The embedding stage: every labelled image with a split (global view + tiles) through the
 * encoder, then the store assembled in bag order. Resumable: each image's embeddings go to a
 * chunk file (written atomically) as soon as they are computed; a re-run after a crash or
 * kill reuses them, and the store is assembled from chunks in a fixed order, so the result
 * equals an uninterrupted run. Each image is embedded in its own batches (batch composition
 * never depends on where a run was interrupted). Images that fail are skipped and reported.
 * The control flow (lock, resume, prefetch, progress, skipped items, stage record) is
 * lib/util/stageRun.ts; this function says how an image is checked, embedded and assembled.
 */
export async function runEmbedding(opts: RunEmbeddingOptions): Promise<EmbeddingRunResult> {
  const t0 = Date.now();
  const manifestFile = resolveProjectPath(opts.manifest);
  const manifestDir = path.dirname(manifestFile);
  const manifest = readManifest(manifestFile);
  const outDir = resolveProjectPath(opts.out);
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer (got ${batchSize})`);
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float16") throw new Error(`dtype must be float32 or float16 (got ${String(dtype)})`);
  const shard = opts.shard ?? null;
  const plan = planBags(manifest, shard);
  const chunkDir = path.join(outDir, CHUNK_DIR);
  let embeddedRows = 0;
  let embedMs = 0;
  const { value } = await runStage<EmbedState, ManifestImage, true, EmbeddingRunResult, Float32Array>({
    stage: "embed",
    outDir,
    config: { spec: EMBED_STAGE, given: { batchSize, dtype, provider: opts.provider } },
    unit: "images",
    open: async () => {
      fs.mkdirSync(chunkDir, { recursive: true });
      const enc =
        opts.encoderInstance ??
        (await loadEncoder(opts.encoder, { provider: opts.provider, output: opts.output, threads: opts.threads, builtin: opts.builtin, builtinFolder: opts.builtinFolder }));
      try {
        const stateFile = path.join(chunkDir, STATE_FILE);
        let state: RunState | null = null;
        try {
          state = fs.existsSync(stateFile) ? readJson<RunState>(stateFile) : null;
        } catch {
          state = null; // damaged: rebuilt below
        }
        // The encoder's identity: its description without where its folder is, plus its files' content.
        const folder = typeof enc.params.folder === "string" ? enc.params.folder : null;
        const encoderFiles = encoderContent(folder, state?.encoderFiles ?? {});
        const { folder: _folder, ...encParams } = enc.params;
        const runParams = { encoder: { name: enc.name, dim: enc.dim, inputSizePx: enc.inputSizePx, params: encParams }, encoderFiles: Object.fromEntries(Object.entries(encoderFiles).map(([k, v]) => [k, v.sha256])), batchSize };
        const key = hashJson(runParams);
        if (!state || state.key !== key) state = { key, startedAt: new Date().toISOString() };
        state.encoderFiles = encoderFiles;
        writeJsonAtomic(stateFile, state);
        return { enc, runParams, state, identities: new Map() };
      } catch (e) {
        if (!opts.encoderInstance) await enc.close();
        throw e;
      }
    },
    close: async ({ enc }) => {
      if (!opts.encoderInstance) await enc.close();
    },
    items: () => ({ items: plan.bags.flatMap((b) => b.images), skipped: plan.skipped.map((k) => ({ id: k.imageId, error: k.error })) }),
    id: (im) => im.imageId,
    // The identity of each image's work: its input PNGs' content and tile list, the encoder and run parameters, the code.
    check: (im, s) => {
      const file = chunkFile(chunkDir, im);
      let have: ChunkHeader | null = null;
      let damaged: string | null = null;
      if (fs.existsSync(file)) {
        const got = decodeChunk(file, fs.readFileSync(file));
        if ("damaged" in got) damaged = got.damaged;
        else have = got.header;
      }
      let sources: Record<string, FileFingerprint>;
      try {
        sources = Object.fromEntries(inputFiles(im).map((f) => [f, fingerprintFile(path.join(manifestDir, f), have?.sources?.[f])]));
      } catch (e) {
        // a missing input: the embedding reports it as skipped
        sources = {};
        damaged = damaged ?? (e as Error).message;
      }
      const inputs: Record<string, string> = Object.fromEntries(Object.entries(sources).map(([f, fp]) => [f, fp.sha256]));
      inputs.tiles = hashJson(im.tiles.map((t) => [t.xPx, t.yPx, t.sizePx]));
      const identity = workIdentity("embed", inputs, s.runParams);
      s.identities.set(im.imageId, { identity, sources });
      const reason = damaged ?? (have && (have.rows !== 1 + im.tiles.length || have.dim !== s.enc.dim) ? "row count changed" : staleReason(have?.identity, identity));
      return reason === null ? { reuse: true } : { reason };
    },
    // Prefetch: the next image's PNGs decode while the encoder runs on this one.
    prefetch: (im, s) => loadImageInputs(manifestDir, im, s.enc),
    compute: async (im, { enc, identities }, inputs) => {
      const D = enc.dim;
      const S = enc.inputSizePx;
      const rows = 1 + im.tiles.length;
      const e0 = Date.now();
      const emb = new Float32Array(rows * D);
      for (let s = 0; s < rows; s += batchSize) {
        const n = Math.min(batchSize, rows - s);
        emb.set(await enc.embed(inputs.subarray(s * S * S, (s + n) * S * S), n), s * D);
      }
      embedMs += Date.now() - e0;
      const bad = emb.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        fs.rmSync(chunkFile(chunkDir, im), { force: true });
        throw new Error(`encoder ${enc.name} gave a non-finite value (${emb[bad]}) at row ${Math.floor(bad / D)}`);
      }
      embeddedRows += rows;
      const id = identities.get(im.imageId);
      if (!id) throw new Error(`internal: no identity for ${im.imageId}`);
      writeFileAtomic(chunkFile(chunkDir, im), encodeChunk({ imageId: im.imageId, rows, dim: D, identity: id.identity, sources: id.sources }, emb));
      if (testDelayMs > 0) await new Promise((r) => setTimeout(r, testDelayMs));
      return true;
    },
    progress: { label: ({ enc }) => `embed (${enc.name}, ${enc.provider})`, unit: "tiles", weight: (im) => 1 + im.tiles.length, enabled: opts.progress !== false },
    reasonKind: (r) => (r.includes(": ") ? "damaged or unreadable chunk" : r),
    finish: ({ enc, state, identities }, work, ctx) => {
      const { meta, nBags, nImages } = assembleStore(plan.bags, work.failed, identities, chunkDir, enc, {
        outDir,
        dtype,
        createdAt: state.startedAt,
        params: {
          manifest: manifestFile,
          // how to load the encoder again (explain reads it through lib/head/record.ts): "builtin" or the resolved ONNX folder
          encoderSpec: opts.encoderInstance ? null : opts.encoder === "builtin" ? "builtin" : resolveProjectPath(opts.encoder),
          task: manifest.task ?? "birads",
          tiling: manifest.params,
          batchSize,
          shard: shard ? `${shard.index}/${shard.count}` : null,
        },
      });
      if (opts.keepChunks === false) fs.rmSync(chunkDir, { recursive: true, force: true });
      const skipped = work.skipped.map((k) => ({ imageId: k.id, error: k.error }));
      const stats: EmbeddingRunStats = {
        bags: nBags,
        images: nImages,
        globals: meta.globalCount,
        tiles: meta.tileCount,
        embeddedImages: work.done,
        reusedImages: work.reused,
        redone: work.redone.map((r) => ({ imageId: r.id, reason: r.reason })),
        redoneSummary: work.reasons,
        notes: ctx.notes,
        skipped,
        seconds: (Date.now() - t0) / 1000,
        tilesPerSecond: embedMs > 0 ? embeddedRows / (embedMs / 1000) : 0,
        embeddedRows,
        encoderSeconds: embedMs / 1000,
        provider: enc.provider,
        encoder: enc.name,
      };
      return {
        value: { storeDir: outDir, meta, stats },
        files: [[RUN_STATS_FILE, stats]],
        record: {
          config: { encoder: meta.params.encoderSpec ?? enc.name, provider: enc.provider, dtype, batchSize, shard: meta.params.shard },
          inputs: { manifest: manifestFile },
          upstream: { tile: readStageRecord(manifestDir) },
          extra: { skipped: skipped.length },
        },
      };
    },
  });
  return value;
}

/** Assemble the store from the chunks, in bag order (each chunk verified again as it is read); failed images are left out. */
function assembleStore(
  bags: PlannedBag[],
  failed: ReadonlySet<string>,
  identities: EmbedState["identities"],
  chunkDir: string,
  enc: Encoder,
  o: { outDir: string; dtype: StoreDtype; createdAt: string; params: StoreMeta["params"] },
): { meta: StoreMeta; nBags: number; nImages: number } {
  const D = enc.dim;
  const writer = new StoreWriter(o.outDir, {
    encoder: { name: enc.name, dim: D, inputSizePx: enc.inputSizePx, params: enc.params, provider: enc.provider },
    dtype: o.dtype,
    params: o.params,
    createdAt: o.createdAt,
  });
  let nBags = 0;
  let nImages = 0;
  try {
    for (const pb of bags) {
      const ims: ImageEmbeddings[] = [];
      for (const im of pb.images) {
        if (failed.has(im.imageId)) continue;
        const file = chunkFile(chunkDir, im);
        const got = decodeChunk(file, fs.readFileSync(file));
        if ("damaged" in got) throw new Error(got.damaged);
        if (got.header.identity.inputs !== identities.get(im.imageId)?.identity.inputs) throw new Error(`${file}: chunk changed during the run (another writer?)`);
        const all = got.data;
        const coords = new Int32Array(im.tiles.length * 3);
        im.tiles.forEach((t, k) => coords.set([t.xPx, t.yPx, t.sizePx], k * 3));
        ims.push({ imageId: im.imageId, view: im.view, globals: all.subarray(0, D), tiles: all.subarray(D), tileCoordsPx: coords });
      }
      if (ims.length === 0) continue;
      writer.appendBag(pb.bag, ims);
      nBags++;
      nImages += ims.length;
    }
  } catch (e) {
    writer.abort();
    throw e;
  }
  return { meta: writer.finish(), nBags, nImages };
}
