import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readJson } from "../util/atomic";
import { assertLittleEndianHost, dtypeBytes, firstNonFinite, readInt32File, readMatrixElements } from "./binio";
import { GLOBAL_ROW_WIDTH, STORE_FILES, TILE_ROW_WIDTH, type StoreData, type StoreMeta, type StorePart, type StoreReader } from "./format";

/**
 * Read a data file once: its sha256 must equal the one in store.json (when the store has
 * checksums), and for a matrix no value may be NaN/Inf. One error naming the file otherwise.
 */
function verifyFile(file: string, part: StorePart, meta: StoreMeta): void {
  const expected = meta.checksums?.[part];
  const matrix = part === "globals" || part === "tiles";
  if (!expected && !matrix) return;
  const elemBytes = matrix ? dtypeBytes(meta.dtype) : 4;
  const rowBytes = elemBytes * (matrix ? meta.dim : 1);
  const hash = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const piece = Math.max(1, Math.floor((8 << 20) / rowBytes)) * rowBytes;
    const buf = new Uint8Array(piece);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, piece, pos);
      if (n <= 0) break;
      const got = buf.subarray(0, n);
      if (expected) hash.update(got);
      if (matrix) {
        const bad = firstNonFinite(got, meta.dtype);
        if (bad >= 0) throw new Error(`${file}: row ${Math.floor((pos / elemBytes + bad) / meta.dim)} holds a non-finite value (NaN or Inf); the store is damaged, embed it again`);
      }
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  if (expected && hash.digest("hex") !== expected) throw new Error(`${file}: checksum mismatch (sha256 differs from store.json): the file is damaged or was changed; embed it again`);
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function validateMeta(file: string, m: StoreMeta): void {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (typeof m !== "object" || m === null) fail("not a store description (expected a JSON object)");
  if (m.version !== 1) fail(`unsupported store version ${String(m.version)} (expected 1)`);
  if (m.dtype !== "float32" && m.dtype !== "float16") fail(`dtype must be "float32" or "float16" (got ${String(m.dtype)})`);
  if (!isInt(m.dim) || m.dim === 0) fail(`dim must be a positive integer (got ${String(m.dim)})`);
  if (!isInt(m.globalCount)) fail(`globalCount must be a non-negative integer (got ${String(m.globalCount)})`);
  if (!isInt(m.tileCount)) fail(`tileCount must be a non-negative integer (got ${String(m.tileCount)})`);
  if (!Array.isArray(m.bags)) fail("bags must be an array");
  if (!Array.isArray(m.images)) fail("images must be an array");
  if (typeof m.encoder !== "object" || m.encoder === null) fail("encoder is missing");
  m.bags.forEach((b, i) => {
    if (typeof b.bagId !== "string") fail(`bags[${i}].bagId must be a string`);
    if (b.label !== 0 && b.label !== 1) fail(`bags[${i}] (${b.bagId}): label must be 0 or 1 (got ${String(b.label)})`);
    if (b.split !== "train" && b.split !== "val" && b.split !== "test") fail(`bags[${i}] (${b.bagId}): split must be train/val/test (got ${String(b.split)})`);
  });
  if (m.checksums !== undefined && (typeof m.checksums !== "object" || m.checksums === null)) fail("checksums must be an object");
  m.images.forEach((im, i) => {
    if (!isInt(im.bagIndex) || im.bagIndex >= m.bags.length) fail(`images[${i}] (${im.imageId}): bagIndex ${String(im.bagIndex)} outside [0, ${m.bags.length})`);
  });
}

/** Check that rows are grouped by bag in order and return the per-bag offsets (length bags + 1). */
function bagOffsets(file: string, rows: Int32Array, width: number, meta: StoreMeta): Int32Array {
  const nBags = meta.bags.length;
  const offsets = new Int32Array(nBags + 1);
  const n = rows.length / width;
  let prev = 0;
  for (let r = 0; r < n; r++) {
    const b = rows[r * width];
    const im = rows[r * width + 1];
    if (b < prev || b >= nBags) throw new Error(`${file}: row ${r} has bag ${b}: rows must be grouped by bag in bag order within [0, ${nBags})`);
    if (im < 0 || im >= meta.images.length || meta.images[im].bagIndex !== b) {
      throw new Error(`${file}: row ${r} has image ${im}, which is not an image of bag ${b}`);
    }
    prev = b;
    offsets[b + 1]++;
  }
  for (let b = 0; b < nBags; b++) offsets[b + 1] += offsets[b];
  return offsets;
}

class FileStoreReader implements StoreReader {
  readonly meta: StoreMeta;
  readonly globalRows: Int32Array;
  readonly tileRows: Int32Array;
  readonly bagGlobalOffsets: Int32Array;
  readonly bagTileOffsets: Int32Array;
  private readonly verified: boolean;

  constructor(
    readonly dir: string,
    verify = true,
  ) {
    assertLittleEndianHost();
    const metaFile = path.join(dir, STORE_FILES.meta);
    if (!fs.existsSync(metaFile)) {
      throw new Error(`${metaFile}: not found (not an embedding store, or its writing did not finish)`);
    }
    this.meta = readJson<StoreMeta>(metaFile);
    validateMeta(metaFile, this.meta);
    const { dim, dtype, globalCount, tileCount } = this.meta;
    const bytes = dtypeBytes(dtype);
    const expectSize = (name: string, expected: number, what: string): string => {
      const file = path.join(dir, name);
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        throw new Error(`${file}: missing (store.json lists ${what})`);
      }
      if (size !== expected) throw new Error(`${file}: ${size} bytes, expected ${expected} (${what})`);
      return file;
    };
    expectSize(STORE_FILES.globals, globalCount * dim * bytes, `${globalCount} x ${dim} ${dtype}`);
    expectSize(STORE_FILES.tiles, tileCount * dim * bytes, `${tileCount} x ${dim} ${dtype}`);
    const gFile = expectSize(STORE_FILES.globalRows, globalCount * GLOBAL_ROW_WIDTH * 4, `${globalCount} x ${GLOBAL_ROW_WIDTH} int32`);
    const tFile = expectSize(STORE_FILES.tileRows, tileCount * TILE_ROW_WIDTH * 4, `${tileCount} x ${TILE_ROW_WIDTH} int32`);
    if (verify) {
      verifyFile(path.join(dir, STORE_FILES.globals), "globals", this.meta);
      verifyFile(path.join(dir, STORE_FILES.tiles), "tiles", this.meta);
      verifyFile(gFile, "globalRows", this.meta);
      verifyFile(tFile, "tileRows", this.meta);
    }
    this.verified = verify;
    this.globalRows = readInt32File(gFile);
    this.tileRows = readInt32File(tFile);
    this.bagGlobalOffsets = bagOffsets(gFile, this.globalRows, GLOBAL_ROW_WIDTH, this.meta);
    this.bagTileOffsets = bagOffsets(tFile, this.tileRows, TILE_ROW_WIDTH, this.meta);
  }

  readGlobals(start = 0, end = this.meta.globalCount): Float32Array {
    return this.readRows(STORE_FILES.globals, this.meta.globalCount, start, end);
  }

  readTiles(start = 0, end = this.meta.tileCount): Float32Array {
    return this.readRows(STORE_FILES.tiles, this.meta.tileCount, start, end);
  }

  private readRows(name: string, count: number, start: number, end: number): Float32Array {
    const file = path.join(this.dir, name);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > count) {
      throw new Error(`${file}: row range [${start}, ${end}) outside [0, ${count})`);
    }
    const D = this.meta.dim;
    const out = readMatrixElements(file, this.meta.dtype, start * D, (end - start) * D);
    if (!this.verified) {
      for (let i = 0; i < out.length; i++) {
        if (!Number.isFinite(out[i])) throw new Error(`${file}: row ${start + Math.floor(i / D)} holds a non-finite value (NaN or Inf); the store is damaged, embed it again`);
      }
    }
    return out;
  }
}

/**
 * Open a store folder for reading: validates store.json (labels 0/1, splits), file sizes and
 * row grouping, and reads the data files once to check their checksums and refuse NaN/Inf
 * (`verify: false` skips that pass; rows are then checked for NaN/Inf as they are read).
 */
export function openStore(dir: string, opts: { verify?: boolean } = {}): StoreReader {
  return new FileStoreReader(dir, opts.verify !== false);
}

/** Check a store completely (meta, sizes, rows, checksums, NaN/Inf); throws one error naming the file. */
export function verifyStore(dir: string): StoreMeta {
  return openStore(dir).meta;
}

/** Read a whole store into memory (tests, HDF5 export, small stores). */
export function readStoreData(dir: string): StoreData & { meta: StoreMeta } {
  const r = openStore(dir);
  return {
    meta: r.meta,
    encoder: r.meta.encoder,
    dtype: r.meta.dtype,
    bags: r.meta.bags,
    images: r.meta.images,
    params: r.meta.params,
    globals: r.readGlobals(),
    tiles: r.readTiles(),
    globalRows: r.globalRows,
    tileRows: r.tileRows,
  };
}
