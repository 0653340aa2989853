import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EncoderInfo, StoreBag } from "../types";
import { writeJsonAtomic } from "../util/atomic";
import { assertLittleEndianHost, writeInt32, writeMatrix } from "./binio";
import {
  GLOBAL_ROW_WIDTH,
  STORE_FILES,
  TILE_ROW_WIDTH,
  type StoreData,
  type StoreDtype,
  type StoreImage,
  type StoreMeta,
  type StorePart,
} from "./format";

/** One image's embeddings, as the appendable writer takes them. */
export interface ImageEmbeddings {
  imageId: string;
  view: string;
  /** k x D global-view embeddings of this image (k is usually 1; 0 is allowed). */
  globals: Float32Array;
  /** n x D tile embeddings. */
  tiles: Float32Array;
  /** n x 3 tile coordinates in the working frame: [xPx, yPx, sizePx]. */
  tileCoordsPx: Int32Array;
}

export interface StoreWriterOptions {
  encoder: EncoderInfo;
  dtype: StoreDtype;
  params: Record<string, unknown>;
  /** createdAt for store.json (default: now). Fix it to make two runs byte-identical. */
  createdAt?: string;
  /** Mark the store as holding only some shards (see StoreMeta.partial). */
  partial?: StoreMeta["partial"];
}

type Part = StorePart;
const PARTS: Part[] = ["globals", "tiles", "globalRows", "tileRows"];

function tempName(dir: string, file: string): string {
  return path.join(dir, `.${file}.${process.pid}.writing`);
}

/**
 * Appendable store writer: bags are appended one at a time (each with its images' embeddings)
 * and streamed to temporary files in `dir`; `finish()` renames them into place and writes
 * store.json LAST. Any existing store.json is removed first, so a crash at any moment leaves
 * either the old complete store or no store.json at all - never a store that looks whole but
 * is not. Resuming a crashed embedding run is done one level up (per-image chunk files, see
 * lib/embed/run.ts): the assembly with this writer is cheap and simply runs again.
 */
export class StoreWriter {
  private readonly fds = new Map<Part, number>();
  private readonly hashes = new Map<Part, crypto.Hash>(PARTS.map((p) => [p, crypto.createHash("sha256")]));
  private readonly bags: StoreBag[] = [];
  private readonly images: StoreImage[] = [];
  private globalCount = 0;
  private tileCount = 0;
  private done = false;
  readonly dim: number;

  constructor(
    readonly dir: string,
    private readonly opts: StoreWriterOptions,
  ) {
    assertLittleEndianHost();
    const dim = opts.encoder.dim;
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${dir}: encoder.dim must be a positive integer (got ${dim})`);
    if (opts.dtype !== "float32" && opts.dtype !== "float16") throw new Error(`${dir}: dtype must be float32 or float16 (got ${String(opts.dtype)})`);
    this.dim = dim;
    fs.mkdirSync(dir, { recursive: true });
    fs.rmSync(path.join(dir, STORE_FILES.meta), { force: true });
    for (const p of PARTS) this.fds.set(p, fs.openSync(tempName(dir, STORE_FILES[p]), "w"));
  }

  get bagCount(): number {
    return this.bags.length;
  }

  /** Append one bag and its images (rows for globals and tiles are derived). */
  appendBag(bag: StoreBag, images: ImageEmbeddings[]): void {
    if (this.done) throw new Error(`${this.dir}: store writer already finished`);
    const D = this.dim;
    const bagIndex = this.bags.length;
    for (const im of images) {
      const where = `${this.dir}: bag ${bag.bagId} image ${im.imageId}`;
      if (im.globals.length % D !== 0) throw new Error(`${where}: globals length ${im.globals.length} is not a multiple of dim ${D}`);
      const nTiles = im.tiles.length / D;
      if (!Number.isInteger(nTiles)) throw new Error(`${where}: tiles length ${im.tiles.length} is not a multiple of dim ${D}`);
      if (im.tileCoordsPx.length !== nTiles * 3) throw new Error(`${where}: ${nTiles} tiles but ${im.tileCoordsPx.length / 3} tile coordinates`);
      const g = firstNonFiniteValue(im.globals);
      if (g >= 0) throw new Error(`${where}: global embedding row ${Math.floor(g / D)} has a non-finite value (${im.globals[g]})`);
      const t = firstNonFiniteValue(im.tiles);
      if (t >= 0) throw new Error(`${where}: tile embedding row ${Math.floor(t / D)} has a non-finite value (${im.tiles[t]})`);
    }
    checkBag(this.dir, bag);
    this.bags.push({ bagId: bag.bagId, patientId: bag.patientId, label: bag.label, split: bag.split });
    for (const im of images) {
      const imageIndex = this.images.length;
      this.images.push({ imageId: im.imageId, bagIndex, view: im.view });
      const nGlobals = im.globals.length / D;
      const nTiles = im.tiles.length / D;
      const gRows = new Int32Array(nGlobals * GLOBAL_ROW_WIDTH);
      for (let i = 0; i < nGlobals; i++) {
        gRows[i * 2] = bagIndex;
        gRows[i * 2 + 1] = imageIndex;
      }
      const tRows = new Int32Array(nTiles * TILE_ROW_WIDTH);
      for (let i = 0; i < nTiles; i++) {
        tRows[i * 5] = bagIndex;
        tRows[i * 5 + 1] = imageIndex;
        tRows[i * 5 + 2] = im.tileCoordsPx[i * 3];
        tRows[i * 5 + 3] = im.tileCoordsPx[i * 3 + 1];
        tRows[i * 5 + 4] = im.tileCoordsPx[i * 3 + 2];
      }
      writeMatrix(this.fd("globals"), im.globals, this.opts.dtype, this.hashes.get("globals"));
      writeMatrix(this.fd("tiles"), im.tiles, this.opts.dtype, this.hashes.get("tiles"));
      writeInt32(this.fd("globalRows"), gRows, this.hashes.get("globalRows"));
      writeInt32(this.fd("tileRows"), tRows, this.hashes.get("tileRows"));
      this.globalCount += nGlobals;
      this.tileCount += nTiles;
    }
  }

  /** Make the store visible: fsync + rename the data files, then write store.json. */
  finish(): StoreMeta {
    if (this.done) throw new Error(`${this.dir}: store writer already finished`);
    this.done = true;
    for (const p of PARTS) {
      const fd = this.fd(p);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tempName(this.dir, STORE_FILES[p]), path.join(this.dir, STORE_FILES[p]));
    }
    this.fds.clear();
    const meta: StoreMeta = {
      version: 1,
      createdAt: this.opts.createdAt ?? new Date().toISOString(),
      encoder: this.opts.encoder,
      dim: this.dim,
      dtype: this.opts.dtype,
      globalCount: this.globalCount,
      tileCount: this.tileCount,
      bags: this.bags,
      images: this.images,
      params: this.opts.params,
      checksums: Object.fromEntries(PARTS.map((p) => [p, this.hashes.get(p)?.digest("hex") ?? ""])),
    };
    if (this.opts.partial) meta.partial = this.opts.partial;
    writeJsonAtomic(path.join(this.dir, STORE_FILES.meta), meta);
    return meta;
  }

  /** Give up: close and delete the temporary files (the folder keeps no store.json). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    for (const p of PARTS) {
      const fd = this.fds.get(p);
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tempName(this.dir, STORE_FILES[p]), { force: true });
    }
    this.fds.clear();
  }

  private fd(p: Part): number {
    const fd = this.fds.get(p);
    if (fd === undefined) throw new Error(`${this.dir}: store writer is closed`);
    return fd;
  }
}

function firstNonFiniteValue(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}

/** A bag's label must be 0 or 1 and its split train, val or test. */
function checkBag(dir: string, bag: StoreBag): void {
  if (bag.label !== 0 && bag.label !== 1) throw new Error(`${dir}: bag ${bag.bagId}: label must be 0 or 1 (got ${String(bag.label)})`);
  if (bag.split !== "train" && bag.split !== "val" && bag.split !== "test") throw new Error(`${dir}: bag ${bag.bagId}: split must be train, val or test (got ${String(bag.split)})`);
}

/** Check a StoreData for consistency; throws one error naming `dir` and the problem. */
export function validateStoreData(dir: string, data: StoreData): void {
  const D = data.encoder.dim;
  const fail = (msg: string): never => {
    throw new Error(`${dir}: invalid store data: ${msg}`);
  };
  if (!Number.isInteger(D) || D <= 0) fail(`encoder.dim must be a positive integer (got ${D})`);
  if (data.globalRows.length % GLOBAL_ROW_WIDTH !== 0) fail(`globalRows length ${data.globalRows.length} is not a multiple of ${GLOBAL_ROW_WIDTH}`);
  if (data.tileRows.length % TILE_ROW_WIDTH !== 0) fail(`tileRows length ${data.tileRows.length} is not a multiple of ${TILE_ROW_WIDTH}`);
  const G = data.globalRows.length / GLOBAL_ROW_WIDTH;
  const T = data.tileRows.length / TILE_ROW_WIDTH;
  if (data.globals.length !== G * D) fail(`globals has ${data.globals.length} values, expected ${G} rows x ${D}`);
  if (data.tiles.length !== T * D) fail(`tiles has ${data.tiles.length} values, expected ${T} rows x ${D}`);
  for (const b of data.bags) checkBag(`${dir}: invalid store data`, b);
  const g = firstNonFiniteValue(data.globals);
  if (g >= 0) fail(`globals row ${Math.floor(g / D)} has a non-finite value (${data.globals[g]})`);
  const t = firstNonFiniteValue(data.tiles);
  if (t >= 0) fail(`tiles row ${Math.floor(t / D)} has a non-finite value (${data.tiles[t]})`);
  data.images.forEach((im, i) => {
    if (!(im.bagIndex >= 0 && im.bagIndex < data.bags.length)) fail(`image ${i} (${im.imageId}) has bagIndex ${im.bagIndex} outside [0, ${data.bags.length})`);
  });
  const checkRows = (rows: Int32Array, width: number, name: string): void => {
    let prev = 0;
    for (let r = 0; r < rows.length / width; r++) {
      const b = rows[r * width];
      const im = rows[r * width + 1];
      if (b < prev) fail(`${name} row ${r}: bag ${b} after bag ${prev} (rows must be grouped by bag in bag order)`);
      if (b >= data.bags.length) fail(`${name} row ${r}: bag ${b} outside [0, ${data.bags.length})`);
      if (im < 0 || im >= data.images.length) fail(`${name} row ${r}: image ${im} outside [0, ${data.images.length})`);
      if (data.images[im].bagIndex !== b) fail(`${name} row ${r}: image ${im} belongs to bag ${data.images[im].bagIndex}, not ${b}`);
      prev = b;
    }
  };
  checkRows(data.globalRows, GLOBAL_ROW_WIDTH, "globalRows");
  checkRows(data.tileRows, TILE_ROW_WIDTH, "tileRows");
}

/**
 * Write a whole store from memory. Data files go through temp files + rename, store.json is
 * written last (and removed first), so readers never see a half-written store as complete.
 */
export function writeStore(dir: string, data: StoreData, opts: { createdAt?: string } = {}): StoreMeta {
  assertLittleEndianHost();
  validateStoreData(dir, data);
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, STORE_FILES.meta), { force: true });
  const D = data.encoder.dim;
  const checksums: Partial<Record<Part, string>> = {};
  const write = (p: Part, fn: (fd: number, hash: crypto.Hash) => void): void => {
    const tmp = tempName(dir, STORE_FILES[p]);
    const fd = fs.openSync(tmp, "w");
    try {
      const hash = crypto.createHash("sha256");
      fn(fd, hash);
      checksums[p] = hash.digest("hex");
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(dir, STORE_FILES[p]));
  };
  write("globals", (fd, h) => writeMatrix(fd, data.globals, data.dtype, h));
  write("tiles", (fd, h) => writeMatrix(fd, data.tiles, data.dtype, h));
  write("globalRows", (fd, h) => writeInt32(fd, data.globalRows, h));
  write("tileRows", (fd, h) => writeInt32(fd, data.tileRows, h));
  const meta: StoreMeta = {
    version: 1,
    createdAt: opts.createdAt ?? new Date().toISOString(),
    encoder: data.encoder,
    dim: D,
    dtype: data.dtype,
    globalCount: data.globalRows.length / GLOBAL_ROW_WIDTH,
    tileCount: data.tileRows.length / TILE_ROW_WIDTH,
    bags: data.bags.map((b) => ({ bagId: b.bagId, patientId: b.patientId, label: b.label, split: b.split })),
    images: data.images.map((im) => ({ imageId: im.imageId, bagIndex: im.bagIndex, view: im.view })),
    params: data.params,
    checksums,
  };
  writeJsonAtomic(path.join(dir, STORE_FILES.meta), meta);
  return meta;
}
