import type { StoreBag } from "../types";
import { openStore } from "./read";
import type { StoreMeta, StoreReader } from "./format";
import { StoreWriter, type ImageEmbeddings } from "./write";
import { cleanTempFiles } from "../util/atomic";
import { acquireLock } from "../util/lock";

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Join shard stores (written by `milpf embed --shard K/N`) into one store: bags of all shards
 * sorted by bagId, which is the order a single run writes, so the merged store equals a
 * single run (store.json's params.shard becomes null; providers are joined when they differ).
 * Shards must share encoder (name, dim, input size, params), dtype and run parameters, and be
 * all N shards of one split, each once; with allowPartial a subset is merged and the store
 * is marked partial (store.json "partial": the shards it holds).
 */
export interface MergeOptions {
  createdAt?: string;
  /** Accept a set of shards that does not cover all N (the store is marked partial). */
  allowPartial?: boolean;
}

/** "K/N" of a shard store (its params.shard), or null for a store that is not a shard. */
function shardOf(meta: StoreMeta): { index: number; count: number } | null {
  const s = meta.params?.shard;
  if (typeof s !== "string") return null;
  const m = /^(\d+)\/(\d+)$/.exec(s);
  return m ? { index: Number(m[1]), count: Number(m[2]) } : null;
}

/**
 * Which shards a set of stores holds; throws on a repeated shard, on shards of different N
 * and on stores that are not shards, and (unless allowPartial) on a set missing shards.
 * Returns null for a complete set, else what the partial store holds.
 */
export function checkShardSet(readers: Pick<StoreReader, "dir" | "meta">[], allowPartial = false): StoreMeta["partial"] {
  const seen = new Map<number, string>();
  let count: number | null = null;
  for (const r of readers) {
    const s = shardOf(r.meta);
    if (!s) throw new Error(`${r.dir}: not a shard store (store.json params.shard is ${JSON.stringify(r.meta.params?.shard ?? null)}); merge joins the stores of \`milpf embed --shard K/N\``);
    if (r.meta.partial) throw new Error(`${r.dir}: is itself a partial merge; merge the shard stores instead`);
    if (count !== null && s.count !== count) throw new Error(`${r.dir}: shard ${s.index}/${s.count} is of another split than the others (N = ${count})`);
    count = s.count;
    const prev = seen.get(s.index);
    if (prev !== undefined) throw new Error(`${r.dir}: shard ${s.index}/${s.count} is also given as ${prev} (overlapping shards)`);
    seen.set(s.index, r.dir);
  }
  if (count === null) return null;
  const missing = Array.from({ length: count }, (_, k) => k).filter((k) => !seen.has(k));
  if (missing.length === 0) return null;
  if (!allowPartial) {
    throw new Error(`merge: shard(s) ${missing.map((k) => `${k}/${count}`).join(", ")} missing (${seen.size} of ${count} given); pass --allow-partial to write a store marked partial`);
  }
  return { shards: Array.from(seen.keys()).sort((a, b) => a - b).map((k) => `${k}/${count}`), of: count };
}

export function mergeStores(dirs: string[], outDir: string, opts: MergeOptions = {}): StoreMeta {
  if (dirs.length === 0) throw new Error("merge: no shard folders given");
  const readers = dirs.map((d) => openStore(d));
  const partial = checkShardSet(readers, opts.allowPartial === true);
  const lock = acquireLock(outDir, { command: "embed merge" });
  try {
    cleanTempFiles(outDir);
    return mergeInto(readers, outDir, partial, opts);
  } finally {
    lock.release();
  }
}

function mergeInto(readers: StoreReader[], outDir: string, partial: StoreMeta["partial"], opts: MergeOptions): StoreMeta {
  const first = readers[0].meta;
  const strip = (p: Record<string, unknown>): Record<string, unknown> => ({ ...p, shard: null });
  for (const r of readers.slice(1)) {
    const m = r.meta;
    const { provider: _p1, ...e1 } = first.encoder;
    const { provider: _p2, ...e2 } = m.encoder;
    if (!sameJson(e1, e2)) throw new Error(`${r.dir}: encoder differs from ${readers[0].dir} (${m.encoder.name} vs ${first.encoder.name})`);
    if (m.dtype !== first.dtype) throw new Error(`${r.dir}: dtype ${m.dtype} differs from ${readers[0].dir} (${first.dtype})`);
    if (!sameJson(strip(m.params), strip(first.params))) throw new Error(`${r.dir}: run parameters differ from ${readers[0].dir}`);
  }
  const entries: { reader: StoreReader; bagIndex: number; bag: StoreBag }[] = [];
  const seen = new Map<string, string>();
  for (const r of readers) {
    r.meta.bags.forEach((bag, bagIndex) => {
      const prev = seen.get(bag.bagId);
      if (prev !== undefined) throw new Error(`${r.dir}: bag ${bag.bagId} is also in ${prev} (overlapping shards)`);
      seen.set(bag.bagId, r.dir);
      entries.push({ reader: r, bagIndex, bag });
    });
  }
  entries.sort((a, b) => (a.bag.bagId < b.bag.bagId ? -1 : a.bag.bagId > b.bag.bagId ? 1 : 0));
  const providers = Array.from(new Set(readers.map((r) => r.meta.encoder.provider)));
  const writer = new StoreWriter(outDir, {
    encoder: { ...first.encoder, provider: providers.join("+") },
    dtype: first.dtype,
    params: strip(first.params),
    createdAt: opts.createdAt ?? readers.map((r) => r.meta.createdAt).sort()[0],
    partial,
  });
  try {
    const D = first.dim;
    for (const { reader: r, bagIndex, bag } of entries) {
      const g0 = r.bagGlobalOffsets[bagIndex];
      const g1 = r.bagGlobalOffsets[bagIndex + 1];
      const t0 = r.bagTileOffsets[bagIndex];
      const t1 = r.bagTileOffsets[bagIndex + 1];
      const globals = r.readGlobals(g0, g1);
      const tiles = r.readTiles(t0, t1);
      const imageIdx = r.meta.images.map((im, i) => ({ im, i })).filter((x) => x.im.bagIndex === bagIndex);
      const ims: ImageEmbeddings[] = imageIdx.map(({ im, i }) => {
        const gRows: number[] = [];
        for (let k = g0; k < g1; k++) if (r.globalRows[k * 2 + 1] === i) gRows.push(k - g0);
        const tRows: number[] = [];
        for (let k = t0; k < t1; k++) if (r.tileRows[k * 5 + 1] === i) tRows.push(k - t0);
        const g = new Float32Array(gRows.length * D);
        gRows.forEach((row, j) => g.set(globals.subarray(row * D, (row + 1) * D), j * D));
        const t = new Float32Array(tRows.length * D);
        const c = new Int32Array(tRows.length * 3);
        tRows.forEach((row, j) => {
          t.set(tiles.subarray(row * D, (row + 1) * D), j * D);
          const k = (t0 + row) * 5;
          c.set([r.tileRows[k + 2], r.tileRows[k + 3], r.tileRows[k + 4]], j * 3);
        });
        return { imageId: im.imageId, view: im.view, globals: g, tiles: t, tileCoordsPx: c };
      });
      writer.appendBag(bag, ims);
    }
  } catch (e) {
    writer.abort();
    throw e;
  }
  return writer.finish();
}
