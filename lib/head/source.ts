import * as fs from "node:fs";
import * as path from "node:path";
import type { StoreBag } from "../types";
import { GLOBAL_ROW_WIDTH, STORE_FILES, TILE_ROW_WIDTH, type StoreData, type StoreMeta } from "../store/format";
import { readJson } from "../util/atomic";
import { float16ArrayToFloat32 } from "../store/float16";
import { verifyStore } from "../store/read";

/** How X is stored: float32 values or float16 bit patterns. */
export type XDtype = "float32" | "float16";

/** Rows of X (of a set of bags, packed) as stored. */
export interface XChunk {
  /** rows x dim, row-major: float32 values, or float16 bit patterns. */
  data: Float32Array | Uint16Array;
  dtype: XDtype;
  rows: number;
  dim: number;
}

/** The values of a chunk as float32 (float16 widened). */
export function asFloat32(x: Pick<XChunk, "data" | "dtype">): Float32Array {
  return x.dtype === "float16" ? float16ArrayToFloat32(x.data as Uint16Array) : (x.data as Float32Array);
}

/**
 * What head training reads: the bags, where each bag's rows are, and the rows of any set of bags
 * packed into one chunk. The store-backed source reads tiles.bin / globals.bin directly at byte
 * offsets (the layout is fixed in lib/store/format.ts) and hands float16 bit patterns through
 * unchanged, so X is never widened to float32 in JS (trainGrid keeps the chunks it reads every
 * epoch in memory within its xMemoryBytes budget; the source itself holds nothing).
 */
export interface EmbeddingSource {
  readonly dim: number;
  readonly dtype: XDtype;
  readonly bags: StoreBag[];
  /** Length bags + 1: bag b's global rows are [o[b], o[b+1]). */
  readonly bagGlobalOffsets: Int32Array;
  readonly bagTileOffsets: Int32Array;
  /** The global rows of `bagIndices` (in that order), packed. */
  readGlobals(bagIndices: readonly number[]): XChunk;
  /** The tile rows of `bagIndices`, packed. */
  readTiles(bagIndices: readonly number[]): XChunk;
  close(): void;
}

/** Offsets (length nBags + 1) from a rows table whose first column is the bag index; checks grouping. */
export function offsetsFromRows(rows: Int32Array, width: number, nBags: number, what: string): Int32Array {
  const n = rows.length / width;
  const off = new Int32Array(nBags + 1);
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const b = rows[i * width];
    if (b < prev || b < 0 || b >= nBags) throw new Error(`${what}: row ${i} has bag index ${b}; rows must be grouped by bag in bag order (0..${nBags - 1})`);
    prev = b;
    off[b + 1]++;
  }
  for (let b = 0; b < nBags; b++) off[b + 1] += off[b];
  return off;
}

/** Contiguous row ranges covering the bags (neighbouring bags merged). */
function ranges(offsets: Int32Array, bagIndices: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const b of bagIndices) {
    const s = offsets[b];
    const e = offsets[b + 1];
    if (e === s) continue;
    const last = out[out.length - 1];
    if (last && last[1] === s) last[1] = e;
    else out.push([s, e]);
  }
  return out;
}

/** A source over in-memory float32 matrices (tests, small stores). */
export function sourceFromStoreData(data: Pick<StoreData, "bags" | "globals" | "tiles" | "globalRows" | "tileRows">, dim: number): EmbeddingSource {
  const nBags = data.bags.length;
  const go = offsetsFromRows(data.globalRows, GLOBAL_ROW_WIDTH, nBags, "globals rows");
  const to = offsetsFromRows(data.tileRows, TILE_ROW_WIDTH, nBags, "tiles rows");
  const pack = (m: Float32Array, off: Int32Array, bagIndices: readonly number[]): XChunk => {
    const rs = ranges(off, bagIndices);
    const rows = rs.reduce((n, [s, e]) => n + e - s, 0);
    const out = new Float32Array(rows * dim);
    let at = 0;
    for (const [s, e] of rs) {
      out.set(m.subarray(s * dim, e * dim), at);
      at += (e - s) * dim;
    }
    return { data: out, dtype: "float32", rows, dim };
  };
  return {
    dim,
    dtype: "float32",
    bags: data.bags,
    bagGlobalOffsets: go,
    bagTileOffsets: to,
    readGlobals: (b) => pack(data.globals, go, b),
    readTiles: (b) => pack(data.tiles, to, b),
    close: () => undefined,
  };
}

function readInt32(file: string): Int32Array {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  if (buf.length % 4 !== 0) throw new Error(`${file}: size ${buf.length} is not a multiple of 4`);
  const out = new Int32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Open an embedding store folder (lib/store/format.ts layout) for streaming head training. */
export function openEmbeddingSource(dir: string): EmbeddingSource {
  // Labels 0/1, splits, checksums and no NaN/Inf: refused here, before any training or scoring.
  verifyStore(dir);
  const meta = readJson<StoreMeta>(path.join(dir, STORE_FILES.meta));
  if (meta.version !== 1) throw new Error(`${path.join(dir, STORE_FILES.meta)}: unsupported store version ${String(meta.version)}`);
  const dim = meta.dim;
  const dtype = meta.dtype;
  if (dtype !== "float16" && dtype !== "float32") throw new Error(`${dir}/${STORE_FILES.meta}: unknown dtype ${String(dtype)}`);
  const bytes = dtype === "float16" ? 2 : 4;
  const nBags = meta.bags.length;
  const gRows = readInt32(path.join(dir, STORE_FILES.globalRows));
  const tRows = readInt32(path.join(dir, STORE_FILES.tileRows));
  if (gRows.length !== meta.globalCount * GLOBAL_ROW_WIDTH) throw new Error(`${dir}/${STORE_FILES.globalRows}: ${gRows.length / GLOBAL_ROW_WIDTH} rows, store.json says ${meta.globalCount}`);
  if (tRows.length !== meta.tileCount * TILE_ROW_WIDTH) throw new Error(`${dir}/${STORE_FILES.tileRows}: ${tRows.length / TILE_ROW_WIDTH} rows, store.json says ${meta.tileCount}`);
  const go = offsetsFromRows(gRows, GLOBAL_ROW_WIDTH, nBags, `${dir}/${STORE_FILES.globalRows}`);
  const to = offsetsFromRows(tRows, TILE_ROW_WIDTH, nBags, `${dir}/${STORE_FILES.tileRows}`);
  const files = { g: path.join(dir, STORE_FILES.globals), t: path.join(dir, STORE_FILES.tiles) };
  const fds = { g: fs.openSync(files.g, "r"), t: fs.openSync(files.t, "r") };
  for (const [k, count] of [["g", meta.globalCount], ["t", meta.tileCount]] as const) {
    const size = fs.fstatSync(fds[k]).size;
    if (size !== count * dim * bytes) throw new Error(`${files[k]}: ${size} bytes, expected ${count} x ${dim} x ${bytes}`);
  }
  const pack = (k: "g" | "t", off: Int32Array, bagIndices: readonly number[]): XChunk => {
    const rs = ranges(off, bagIndices);
    const rows = rs.reduce((n, [s, e]) => n + e - s, 0);
    const buf = new Uint8Array(rows * dim * bytes);
    let at = 0;
    for (const [s, e] of rs) {
      const len = (e - s) * dim * bytes;
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fds[k], buf, at + got, len - got, s * dim * bytes + got);
        if (n <= 0) throw new Error(`${files[k]}: unexpected end of file at row ${s}`);
        got += n;
      }
      at += len;
    }
    const data = dtype === "float16" ? new Uint16Array(buf.buffer, 0, rows * dim) : new Float32Array(buf.buffer, 0, rows * dim);
    return { data, dtype, rows, dim };
  };
  return {
    dim,
    dtype,
    bags: meta.bags,
    bagGlobalOffsets: go,
    bagTileOffsets: to,
    readGlobals: (b) => pack("g", go, b),
    readTiles: (b) => pack("t", to, b),
    close: () => {
      fs.closeSync(fds.g);
      fs.closeSync(fds.t);
    },
  };
}
