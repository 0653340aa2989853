import * as fs from "node:fs";
import * as path from "node:path";
import type { BinaryLabel, EncoderInfo, Split, StoreBag } from "../types";
import { GLOBAL_ROW_WIDTH, TILE_ROW_WIDTH, type StoreData, type StoreDtype, type StoreImage, type StoreMeta } from "./format";
import { openStore } from "./read";
import { writeStore } from "./write";
import { cleanTempFiles } from "../util/atomic";
import { acquireLock } from "../util/lock";
import { concatTyped } from "../util/arrays";

type H5Module = typeof import("h5wasm");
type H5Group = InstanceType<H5Module["Group"]>;
type H5Dataset = InstanceType<H5Module["Dataset"]>;

// h5wasm ships its Node build as an ES module only (exports "h5wasm/node", import condition
// only), and this project compiles to CommonJS. Node >= 20.19 can require() an ES module, so
// the build file is required by its path (found like require would find the package); on an
// older Node a Function-wrapped import() keeps the native ESM loader (TypeScript would
// otherwise turn import() into require()).
function h5wasmNodeFile(): string {
  for (const dir of require.resolve.paths("h5wasm") ?? []) {
    const file = path.join(dir, "h5wasm", "dist", "node", "hdf5_hl.js");
    if (fs.existsSync(file)) return file;
  }
  throw new Error("h5wasm is not installed (node_modules/h5wasm/dist/node/hdf5_hl.js not found)");
}

let h5: Promise<H5Module> | null = null;

/** The h5wasm Node module, loaded once. */
export function loadH5wasm(): Promise<H5Module> {
  if (!h5) {
    h5 = (async () => {
      const file = h5wasmNodeFile();
      let mod: H5Module;
      try {
        mod = require(file) as H5Module;
      } catch {
        const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;
        mod = (await importEsm(file)) as H5Module;
      }
      await mod.ready;
      return mod;
    })();
  }
  return h5;
}

/**
 * Run `fn` on an HDF5 file with libhdf5's diagnostics (otherwise printed to stderr, dozens of
 * lines per error) turned into exceptions (h5wasm's throwing error handler): a failure
 * becomes one error naming the file and libhdf5's deepest reason of its first error, e.g.
 * "x.h5: not a readable HDF5 file (truncated file: eof = 3000, ...)".
 */
export async function withHdf5Errors<T>(file: string, fn: (mod: H5Module) => Promise<T> | T): Promise<T> {
  const mod = await loadH5wasm();
  const M = mod.Module as unknown as { activate_throwing_error_handler?: () => void; deactivate_throwing_error_handler?: () => void };
  M.activate_throwing_error_handler?.();
  try {
    return await fn(mod);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith(file)) throw e;
    const reasons: string[] = [];
    for (const l of msg.split("\n")) {
      if (/HDF5-DIAG/.test(l) && reasons.length > 0) break;
      const m = /#\d{3}:.* in [^(]+\(\): (.*)$/.exec(l);
      if (m) reasons.push(m[1].trim());
    }
    throw new Error(`${file}: not a readable HDF5 file (${reasons.length ? reasons[reasons.length - 1] : msg.split("\n")[0]})`);
  } finally {
    M.deactivate_throwing_error_handler?.();
  }
}

const META_ATTR = "milpf_store_meta";
const ORDER_ATTR = "milpf_bag_order";

function groupName(bagId: string): string {
  // "/" separates HDF5 paths; keep the id readable otherwise.
  return bagId.replace(/%/g, "%25").replace(/\//g, "%2F");
}

/**
 * Export a store to the authors' HDF5 layout: one group per breast with datasets
 * `images` [n_views x D] (float32), `tiles` [n_tiles x D] (float32) and `label` (int scalar).
 * Extra, ignorable by the authors' code: per group `tile_coords` [n_tiles x 3] int32
 * (xPx, yPx, sizePx), `tile_image` / `images_image` (image index within the bag) and
 * attributes bag_id, patient_id, split, image_ids, views; at the root the store's meta and
 * bag order. With them the round trip store -> HDF5 -> store is exact.
 */
export async function exportStoreToHdf5(storeDir: string, file: string): Promise<void> {
  const r = openStore(storeDir);
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await withHdf5Errors(file, (mod) => exportOpened(mod, r, file, tmp));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function exportOpened(mod: H5Module, r: ReturnType<typeof openStore>, file: string, tmp: string): void {
  const { dim: D, bags, images } = r.meta;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const f = new mod.File(tmp, "w");
  try {
    const { bags: _b, images: _i, globalCount: _g, tileCount: _t, ...rest } = r.meta;
    f.create_attribute(META_ATTR, JSON.stringify(rest));
    f.create_attribute(ORDER_ATTR, JSON.stringify(bags.map((b) => groupName(b.bagId))));
    const imagesOfBag = new Map<number, number[]>();
    images.forEach((im, i) => {
      const l = imagesOfBag.get(im.bagIndex);
      if (l) l.push(i);
      else imagesOfBag.set(im.bagIndex, [i]);
    });
    bags.forEach((bag, b) => {
      const g = f.create_group(groupName(bag.bagId));
      const ims = imagesOfBag.get(b) ?? [];
      const local = new Map(ims.map((imIdx, k) => [imIdx, k]));
      const g0 = r.bagGlobalOffsets[b];
      const g1 = r.bagGlobalOffsets[b + 1];
      const t0 = r.bagTileOffsets[b];
      const t1 = r.bagTileOffsets[b + 1];
      g.create_dataset({ name: "images", data: r.readGlobals(g0, g1), shape: [g1 - g0, D], dtype: "<f" });
      g.create_dataset({ name: "tiles", data: r.readTiles(t0, t1), shape: [t1 - t0, D], dtype: "<f" });
      g.create_dataset({ name: "label", data: bag.label, dtype: "<i" });
      const coords = new Int32Array((t1 - t0) * 3);
      const tileImage = new Int32Array(t1 - t0);
      for (let k = t0; k < t1; k++) {
        coords.set(r.tileRows.subarray(k * TILE_ROW_WIDTH + 2, k * TILE_ROW_WIDTH + 5), (k - t0) * 3);
        tileImage[k - t0] = local.get(r.tileRows[k * TILE_ROW_WIDTH + 1]) ?? -1;
      }
      const globalImage = new Int32Array(g1 - g0);
      for (let k = g0; k < g1; k++) globalImage[k - g0] = local.get(r.globalRows[k * GLOBAL_ROW_WIDTH + 1]) ?? -1;
      g.create_dataset({ name: "tile_coords", data: coords, shape: [t1 - t0, 3], dtype: "<i" });
      g.create_dataset({ name: "tile_image", data: tileImage, shape: [t1 - t0], dtype: "<i" });
      g.create_dataset({ name: "images_image", data: globalImage, shape: [g1 - g0], dtype: "<i" });
      g.create_attribute("bag_id", bag.bagId);
      g.create_attribute("patient_id", bag.patientId);
      g.create_attribute("split", bag.split);
      g.create_attribute("image_ids", JSON.stringify(ims.map((i) => images[i].imageId)));
      g.create_attribute("views", JSON.stringify(ims.map((i) => images[i].view)));
    });
  } finally {
    f.close();
  }
  fs.renameSync(tmp, file);
}

export interface Hdf5ImportOptions {
  /** Split for groups without a `split` attribute (default "train"). */
  defaultSplit?: Split;
  /** dtype of the written store (default: the exported store's, else float32). */
  dtype?: StoreDtype;
  /** Encoder description for files without milpf meta. */
  encoder?: Partial<EncoderInfo>;
  createdAt?: string;
}

function attr(g: H5Group, name: string): string | null {
  if (!(name in g.attrs)) return null;
  const v = g.get_attribute(name, true);
  return typeof v === "string" ? v : null;
}

function floatMatrix(file: string, g: H5Group, name: string, D: number | null): { data: Float32Array; rows: number; dim: number } {
  const ds = g.get(name) as H5Dataset | null;
  if (!ds || !(ds instanceof Object) || !("shape" in ds)) throw new Error(`${file}: group ${g.path} has no dataset "${name}"`);
  const shape = ds.shape ?? [];
  if (shape.length !== 2) throw new Error(`${file}: ${g.path}/${name} has shape [${shape.join(", ")}], expected [rows, D]`);
  const [rows, dim] = shape;
  if (D !== null && dim !== D && rows > 0) throw new Error(`${file}: ${g.path}/${name} has D = ${dim}, expected ${D}`);
  const v = rows === 0 ? new Float32Array(0) : ds.value;
  const data = v instanceof Float32Array ? v : v instanceof Float64Array ? Float32Array.from(v) : null;
  if (!data) throw new Error(`${file}: ${g.path}/${name} is not a float32/float64 dataset`);
  return { data, rows, dim };
}

function intArray(g: H5Group, name: string): Int32Array | null {
  const ds = g.get(name) as H5Dataset | null;
  if (!ds || !("shape" in ds)) return null;
  if ((ds.shape ?? []).some((s) => s === 0)) return new Int32Array(0);
  const v = ds.value;
  return v instanceof Int32Array ? v : null;
}

/**
 * Import an HDF5 file in the authors' layout into a store folder. Files written by
 * exportStoreToHdf5 come back exactly; plain authors' files get image ids `<bag>_g<k>` (one
 * image per global row, tiles attached to the bag's first image), tile coordinates 0, patient
 * id = bag id, and `defaultSplit`.
 */
export async function importHdf5Store(file: string, storeDir: string, opts: Hdf5ImportOptions = {}): Promise<StoreMeta> {
  if (!fs.existsSync(file)) throw new Error(`${file}: not found`);
  return withHdf5Errors(file, (mod) => importOpened(mod, file, storeDir, opts));
}

async function importOpened(mod: H5Module, file: string, storeDir: string, opts: Hdf5ImportOptions): Promise<StoreMeta> {
  const f = new mod.File(file, "r");
  if (!(typeof f.file_id === "bigint" ? f.file_id > BigInt(0) : Number(f.file_id) > 0)) throw new Error("cannot open the file");
  try {
    const metaText = "milpf_store_meta" in f.attrs ? (f.get_attribute(META_ATTR, true) as string) : null;
    const saved = metaText ? (JSON.parse(metaText) as Omit<StoreMeta, "bags" | "images" | "globalCount" | "tileCount">) : null;
    const orderText = ORDER_ATTR in f.attrs ? (f.get_attribute(ORDER_ATTR, true) as string) : null;
    const names = orderText ? (JSON.parse(orderText) as string[]) : f.keys().sort();
    let D: number | null = saved?.dim ?? null;
    const bags: StoreBag[] = [];
    const images: StoreImage[] = [];
    const g: Float32Array[] = [];
    const t: Float32Array[] = [];
    const gRows: number[] = [];
    const tRows: number[] = [];
    for (const name of names) {
      const grp = f.get(name) as H5Group | null;
      if (!grp || !("keys" in grp)) throw new Error(`${file}: "${name}" is not a group`);
      const glob = floatMatrix(file, grp, "images", D);
      D = D ?? glob.dim;
      const tiles = floatMatrix(file, grp, "tiles", D);
      const labelDs = grp.get("label") as H5Dataset | null;
      const labelV = labelDs && "shape" in labelDs ? labelDs.value : null;
      const label = typeof labelV === "number" ? labelV : typeof labelV === "bigint" ? Number(labelV) : ArrayBuffer.isView(labelV) ? Number((labelV as Int32Array)[0]) : NaN;
      if (label !== 0 && label !== 1) throw new Error(`${file}: ${grp.path}/label is ${String(labelV)}, expected 0 or 1`);
      const bagIndex = bags.length;
      const bagId = attr(grp, "bag_id") ?? name;
      const split = (attr(grp, "split") ?? opts.defaultSplit ?? "train") as Split;
      bags.push({ bagId, patientId: attr(grp, "patient_id") ?? bagId, label: label as BinaryLabel, split });
      const idsText = attr(grp, "image_ids");
      const viewsText = attr(grp, "views");
      const ids = idsText ? (JSON.parse(idsText) as string[]) : Array.from({ length: Math.max(1, glob.rows) }, (_, k) => `${bagId}_g${k}`);
      const views = viewsText ? (JSON.parse(viewsText) as string[]) : ids.map(() => "unknown");
      const base = images.length;
      ids.forEach((id, k) => images.push({ imageId: id, bagIndex, view: views[k] ?? "unknown" }));
      const globalImage = intArray(grp, "images_image") ?? Int32Array.from({ length: glob.rows }, (_, k) => k);
      const tileImage = intArray(grp, "tile_image") ?? new Int32Array(tiles.rows);
      const coords = intArray(grp, "tile_coords") ?? new Int32Array(tiles.rows * 3);
      if (globalImage.length !== glob.rows || tileImage.length !== tiles.rows || coords.length !== tiles.rows * 3) {
        throw new Error(`${file}: ${grp.path}: images_image / tile_image / tile_coords do not match the row counts`);
      }
      g.push(glob.data);
      t.push(tiles.data);
      for (let k = 0; k < glob.rows; k++) gRows.push(bagIndex, base + globalImage[k]);
      for (let k = 0; k < tiles.rows; k++) tRows.push(bagIndex, base + tileImage[k], coords[k * 3], coords[k * 3 + 1], coords[k * 3 + 2]);
    }
    if (D === null) throw new Error(`${file}: no groups (nothing to import)`);
    const encoder: EncoderInfo = saved?.encoder ?? { name: "hdf5-import", dim: D, inputSizePx: 0, provider: "unknown", params: { source: path.resolve(file) }, ...opts.encoder };
    const data: StoreData = {
      encoder: { ...encoder, dim: D },
      dtype: opts.dtype ?? saved?.dtype ?? "float32",
      bags,
      images,
      params: saved?.params ?? { importedFrom: path.resolve(file) },
      globals: concatTyped(g, Float32Array),
      tiles: concatTyped(t, Float32Array),
      globalRows: Int32Array.from(gRows),
      tileRows: Int32Array.from(tRows),
    };
    const lock = acquireLock(storeDir, { command: "embed import-h5" });
    try {
      cleanTempFiles(storeDir);
      return writeStore(storeDir, data, { createdAt: opts.createdAt ?? saved?.createdAt });
    } finally {
      lock.release();
    }
  } finally {
    f.close();
  }
}
