import type { BinaryLabel, Split, StoreBag } from "../../lib/types";
import { Rng } from "../../lib/util/rng";

/** A small random store with variable numbers of globals (1-3) and tiles (0-7) per bag. */
export interface TinyStore {
  bags: StoreBag[];
  globals: Float32Array;
  tiles: Float32Array;
  globalRows: Int32Array;
  tileRows: Int32Array;
  dim: number;
}

export function tinyStore(seed: number, nBags: number, dim: number, opts: { minTiles?: number; maxTiles?: number } = {}): TinyStore {
  const rng = new Rng(seed);
  const bags: StoreBag[] = [];
  const g: number[] = [];
  const t: number[] = [];
  const gr: number[] = [];
  const tr: number[] = [];
  const splits: Split[] = ["train", "train", "train", "val", "test"];
  for (let b = 0; b < nBags; b++) {
    const label = (b % 3 === 0 ? 1 : 0) as BinaryLabel;
    bags.push({ bagId: `b${b}`, patientId: `p${b}`, label, split: b < 4 ? (b < 2 ? "train" : "val") : splits[b % 5] });
    const nG = rng.int(1, 3);
    const nT = rng.int(opts.minTiles ?? 0, opts.maxTiles ?? 7);
    for (let i = 0; i < nG; i++) {
      for (let d = 0; d < dim; d++) g.push(rng.normal() * 0.5 + (label ? 0.1 : 0));
      gr.push(b, i);
    }
    for (let i = 0; i < nT; i++) {
      for (let d = 0; d < dim; d++) t.push(rng.normal() * 0.5 + (label && i === 0 ? 0.3 : 0));
      tr.push(b, i % nG, i * 10, 0, 10);
    }
  }
  return { bags, globals: Float32Array.from(g), tiles: Float32Array.from(t), globalRows: Int32Array.from(gr), tileRows: Int32Array.from(tr), dim };
}

/** Independent float64 weighted BCE (total / (2 x class count) weights, mean). */
export function weightedBceRef(logits: number[], labels: number[]): number {
  const n = labels.length;
  const pos = labels.filter((y) => y === 1).length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const w = labels[i] === 1 ? n / (2 * pos) : n / (2 * (n - pos));
    const x = logits[i];
    s += w * (labels[i] === 1 ? Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  }
  return s / n;
}
