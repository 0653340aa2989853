import type { EncoderInfo, StoreBag } from "../types";

/**
 * The embedding store: one folder.
 *
 *   store.json        StoreMeta (below): encoder, dtype, dims, bags, images, counts, params
 *   globals.bin       G x D matrix, row-major, little-endian float32 or float16 (dtype)
 *   tiles.bin         T x D matrix, same dtype
 *   globals_rows.i32  G x 2 int32: [bagIndex, imageIndex]
 *   tiles_rows.i32    T x 5 int32: [bagIndex, imageIndex, xPx, yPx, sizePx]  (working frame)
 *
 * Rows are grouped by bag in bag order (all rows of bag 0, then bag 1, ...), so a bag's rows
 * are one contiguous range. Embeddings are L2-normalised.
 *
 * From Python: numpy.fromfile("tiles.bin", dtype="<f2" or "<f4").reshape(T, D) and
 * numpy.fromfile("tiles_rows.i32", dtype="<i4").reshape(T, 5); json.load(open("store.json")).
 */
export type StoreDtype = "float32" | "float16";

export interface StoreImage {
  imageId: string;
  bagIndex: number;
  view: string;
}

export interface StoreMeta {
  version: 1;
  createdAt: string;
  encoder: EncoderInfo;
  dim: number;
  dtype: StoreDtype;
  globalCount: number;
  tileCount: number;
  bags: StoreBag[];
  images: StoreImage[];
  /** Parameters of the run that wrote the store (manifest path, tiling, batch size, ...). */
  params: Record<string, unknown>;
  /**
   * sha256 (hex) of each data file, checked when the store is opened (openStore). Stores
   * written before checksums existed have none; they are still checked for NaN/Inf.
   */
  checksums?: Partial<Record<StorePart, string>>;
  /**
   * Set on a store that does not hold all bags of its manifest: a merge of some of the
   * shards (`milpf embed merge --allow-partial`). Lists the shards it holds.
   */
  partial?: { shards: string[]; of: number } | null;
}

/** The data files of a store. */
export type StorePart = "globals" | "tiles" | "globalRows" | "tileRows";

export const STORE_FILES = {
  meta: "store.json",
  globals: "globals.bin",
  tiles: "tiles.bin",
  globalRows: "globals_rows.i32",
  tileRows: "tiles_rows.i32",
} as const;

export const GLOBAL_ROW_WIDTH = 2;
export const TILE_ROW_WIDTH = 5;

/** What a writer is given: the meta fields it cannot derive, the matrices as float32 and the rows. */
export interface StoreData {
  encoder: EncoderInfo;
  dtype: StoreDtype;
  bags: StoreBag[];
  images: StoreImage[];
  params: Record<string, unknown>;
  /** G x D, row-major. */
  globals: Float32Array;
  /** T x D, row-major. */
  tiles: Float32Array;
  /** G x GLOBAL_ROW_WIDTH. */
  globalRows: Int32Array;
  /** T x TILE_ROW_WIDTH. */
  tileRows: Int32Array;
}

/** A store opened for reading. Matrices are read on demand, as float32, in row ranges. */
export interface StoreReader {
  readonly dir: string;
  readonly meta: StoreMeta;
  /** G x GLOBAL_ROW_WIDTH. */
  readonly globalRows: Int32Array;
  /** T x TILE_ROW_WIDTH. */
  readonly tileRows: Int32Array;
  /** Offsets (length bags + 1): bag b's global rows are [o[b], o[b+1]). */
  readonly bagGlobalOffsets: Int32Array;
  /** Offsets (length bags + 1): bag b's tile rows are [o[b], o[b+1]). */
  readonly bagTileOffsets: Int32Array;
  /** Global rows [start, end) as float32 (end defaults to all). */
  readGlobals(start?: number, end?: number): Float32Array;
  /** Tile rows [start, end) as float32: stream a large store in chunks with this. */
  readTiles(start?: number, end?: number): Float32Array;
}
