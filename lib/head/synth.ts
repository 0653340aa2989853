import type { BinaryLabel, Split, StoreBag } from "../types";
import { GLOBAL_ROW_WIDTH, TILE_ROW_WIDTH, type StoreData, type StoreDtype, type StoreImage } from "../store/format";
import { StoreWriter, type ImageEmbeddings } from "../store/write";
import { Rng } from "../util/rng";
import { Progress } from "../util/progress";

/**
 * Synthetic embeddings with a sparse positive signal, so tests and benchmarks need no images:
 * every row is L2-normalised (noise + a per-bag nuisance vector + signal). In a positive bag,
 * `positiveTilesPerBag` tiles carry `signalStrength` x a fixed signal direction, and its global
 * views carry `globalSignalStrength` x that direction (a weaker, diluted cue, as a lesion is in a
 * downsized whole view). Two bags (L and R breast) per patient; splits 70/10/20 by patient,
 * stratified by whether the patient has a positive bag.
 */
export interface SynthOptions {
  bags: number;
  tilesPerBag: number;
  viewsPerBag: number;
  dim: number;
  seed: number;
  prevalence: number;
  positiveTilesPerBag: number;
  /** Norm of the signal added to a positive tile (the noise has norm ~1). Default 0.6. */
  signalStrength?: number;
  /** Norm of the signal added to a positive bag's global views. Default 0.15. */
  globalSignalStrength?: number;
  /** Norm of the per-bag nuisance vector shared by the bag's rows. Default 0.5. */
  bagNuisance?: number;
}

export const SYNTH_DEFAULTS = { viewsPerBag: 2, prevalence: 0.3, positiveTilesPerBag: 3, signalStrength: 0.6, globalSignalStrength: 0.15, bagNuisance: 0.5 } as const;

interface SynthBag {
  bag: StoreBag;
  images: ImageEmbeddings[];
}

function checkOptions(o: SynthOptions): void {
  const ints: (keyof SynthOptions)[] = ["bags", "tilesPerBag", "viewsPerBag", "dim", "positiveTilesPerBag"];
  for (const k of ints) {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < 0) throw new Error(`synthesizeEmbeddings: ${k} must be a non-negative integer (got ${v})`);
  }
  if (o.bags < 10) throw new Error(`synthesizeEmbeddings: need at least 10 bags for 70/10/20 splits (got ${o.bags})`);
  if (o.dim < 2 || o.viewsPerBag < 1) throw new Error("synthesizeEmbeddings: dim >= 2 and viewsPerBag >= 1 required");
  if (!(o.prevalence > 0 && o.prevalence < 1)) throw new Error(`synthesizeEmbeddings: prevalence must be in (0, 1) (got ${o.prevalence})`);
  if (o.positiveTilesPerBag > o.tilesPerBag) throw new Error("synthesizeEmbeddings: positiveTilesPerBag > tilesPerBag");
}

function unit(rng: Rng, dim: number): Float32Array {
  const v = new Float32Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    v[i] = rng.normal();
    n += v[i] * v[i];
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < dim; i++) v[i] *= s;
  return v;
}

/** Fill row `r` of m with normalise(noise/sqrt(dim) + nuisance + strength x signal). */
function fillRow(m: Float32Array, r: number, dim: number, rng: Rng, nuisance: Float32Array, signal: Float32Array, strength: number): void {
  const o = r * dim;
  const sd = 1 / Math.sqrt(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    const v = rng.normal() * sd + nuisance[i] + strength * signal[i];
    m[o + i] = v;
    n += v * v;
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < dim; i++) m[o + i] *= s;
}

/** Labels and splits of all bags (cheap; done first so splits can be stratified by patient). */
function plan(o: SynthOptions): StoreBag[] {
  const rng = Rng.derive(o.seed, "synth-labels");
  const nPatients = Math.ceil(o.bags / 2);
  const labels: BinaryLabel[] = Array.from({ length: o.bags }, () => (rng.bernoulli(o.prevalence) ? 1 : 0));
  const pos: number[] = [];
  const neg: number[] = [];
  for (let p = 0; p < nPatients; p++) (labels[2 * p] === 1 || labels[2 * p + 1] === 1 ? pos : neg).push(p);
  const split = new Array<Split>(nPatients);
  const srng = Rng.derive(o.seed, "synth-splits");
  for (const group of [pos, neg]) {
    srng.shuffle(group);
    const nTrain = Math.round(group.length * 0.7);
    const nVal = Math.round(group.length * 0.1);
    group.forEach((p, i) => (split[p] = i < nTrain ? "train" : i < nTrain + nVal ? "val" : "test"));
  }
  return labels.map((label, b) => {
    const p = Math.floor(b / 2);
    return { bagId: `synth${String(p).padStart(6, "0")}_${b % 2 === 0 ? "L" : "R"}`, patientId: `P${String(p).padStart(6, "0")}`, label, split: split[p] };
  });
}

function* generate(o: SynthOptions): Generator<SynthBag> {
  checkOptions(o);
  const signal = unit(Rng.derive(o.seed, "synth-signal"), o.dim);
  const s = o.signalStrength ?? SYNTH_DEFAULTS.signalStrength;
  const gs = o.globalSignalStrength ?? SYNTH_DEFAULTS.globalSignalStrength;
  const nu = o.bagNuisance ?? SYNTH_DEFAULTS.bagNuisance;
  const bags = plan(o);
  const views = ["CC", "MLO", "ML", "XCCL", "LM", "AT"];
  for (let b = 0; b < bags.length; b++) {
    const bag = bags[b];
    const rng = Rng.derive(o.seed, "synth-bag", b);
    const nuisance = unit(rng, o.dim).map((v) => v * nu);
    const positiveTiles = new Set<number>();
    if (bag.label === 1) {
      const order = rng.shuffle(Array.from({ length: o.tilesPerBag }, (_, i) => i));
      for (let i = 0; i < o.positiveTilesPerBag; i++) positiveTiles.add(order[i]);
    }
    const images: ImageEmbeddings[] = [];
    let tile = 0;
    for (let v = 0; v < o.viewsPerBag; v++) {
      const nTiles = Math.floor(((v + 1) * o.tilesPerBag) / o.viewsPerBag) - Math.floor((v * o.tilesPerBag) / o.viewsPerBag);
      const globals = new Float32Array(o.dim);
      fillRow(globals, 0, o.dim, rng, nuisance, signal, bag.label === 1 ? gs : 0);
      const tiles = new Float32Array(nTiles * o.dim);
      const coords = new Int32Array(nTiles * 3);
      const side = Math.max(1, Math.ceil(Math.sqrt(nTiles)));
      for (let i = 0; i < nTiles; i++, tile++) {
        fillRow(tiles, i, o.dim, rng, nuisance, signal, positiveTiles.has(tile) ? s : 0);
        coords[i * 3] = (i % side) * 128;
        coords[i * 3 + 1] = Math.floor(i / side) * 128;
        coords[i * 3 + 2] = 128;
      }
      images.push({ imageId: `${bag.bagId}_${views[v % views.length]}${v >= views.length ? v : ""}`, view: views[v % views.length], globals, tiles, tileCoordsPx: coords });
    }
    yield { bag, images };
  }
}

const ENCODER = (dim: number) => ({ name: "synthetic", dim, inputSizePx: 128, provider: "none", params: {} });

/** The synthetic store in memory (float32 matrices; `dtype` is what a writer would store). */
export function synthesizeEmbeddings(o: SynthOptions, dtype: StoreDtype = "float32"): StoreData {
  const parts: SynthBag[] = [...generate(o)];
  const G = parts.reduce((n, p) => n + p.images.length, 0);
  const T = parts.reduce((n, p) => n + p.images.reduce((k, im) => k + im.tiles.length / o.dim, 0), 0);
  const globals = new Float32Array(G * o.dim);
  const tiles = new Float32Array(T * o.dim);
  const globalRows = new Int32Array(G * GLOBAL_ROW_WIDTH);
  const tileRows = new Int32Array(T * TILE_ROW_WIDTH);
  const images: StoreImage[] = [];
  let g = 0;
  let t = 0;
  parts.forEach((p, b) => {
    for (const im of p.images) {
      const ii = images.length;
      images.push({ imageId: im.imageId, bagIndex: b, view: im.view });
      globals.set(im.globals, g * o.dim);
      globalRows.set([b, ii], g * GLOBAL_ROW_WIDTH);
      g++;
      const n = im.tiles.length / o.dim;
      tiles.set(im.tiles, t * o.dim);
      for (let i = 0; i < n; i++, t++) tileRows.set([b, ii, im.tileCoordsPx[i * 3], im.tileCoordsPx[i * 3 + 1], im.tileCoordsPx[i * 3 + 2]], t * TILE_ROW_WIDTH);
    }
  });
  return { encoder: ENCODER(o.dim), dtype, bags: parts.map((p) => p.bag), images, params: { synthetic: { ...o } }, globals, tiles, globalRows, tileRows };
}

/** Stream a synthetic store to `dir` bag by bag (constant memory; for 10,000-bag benchmark stores). */
export function writeSyntheticStore(dir: string, o: SynthOptions, dtype: StoreDtype = "float16", progress = true): { bags: number; tiles: number } {
  const w = new StoreWriter(dir, { encoder: ENCODER(o.dim), dtype, params: { synthetic: { ...o } } });
  const pr = new Progress({ label: "synth-embeddings", total: o.bags, unit: "bags", enabled: progress });
  let tiles = 0;
  try {
    for (const p of generate(o)) {
      w.appendBag(p.bag, p.images);
      tiles += p.images.reduce((k, im) => k + im.tiles.length / o.dim, 0);
      pr.tick();
    }
    w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
  return { bags: o.bags, tiles };
}
