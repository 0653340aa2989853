import { rocAuc } from "../metrics/roc";
import type { StoreReader } from "../store/format";
import { TILE_ROW_WIDTH } from "../store/format";
import type { BoxPx, TileManifest } from "../types";
import { hashString } from "../util/rng";

/**
 * The scale-physics probe of the synthetic benchmark (issue: "the synthetic benchmark must show
 * what the paper shows"). Linear probes on the stored encoder embeddings, cross-validated with
 * folds grouped by patient:
 *
 * - global: a logistic regression on the mean of a breast's global-view embeddings;
 * - tiles: a logistic regression trained on tiles (those that hold a lesion of the kind in a
 *   positive breast vs all tiles of negative breasts); a breast's score is the max over its
 *   tiles of the probe (the MIL view of the same embeddings).
 *
 * Each is run for calcification-only positives vs negatives and for positives with a mass vs
 * negatives. On data with mammography's scale physics, calcification clusters are invisible in
 * the global view (AUC near 0.5) and visible to the tiles; masses show in both.
 */

export interface ProbeOptions {
  /** Folds over patients (default 5). */
  folds?: number;
  /** L2 penalty on the standardised weights (default 1e-2). */
  l2?: number;
  /** Gradient steps (default 400). */
  steps?: number;
  /** Negative tiles per negative breast used for training the tile probe (default 24). */
  negativeTilesPerBag?: number;
}

export interface ProbeComparison {
  /** "calcification-only" or "mass". */
  positives: string;
  nPositiveBags: number;
  nNegativeBags: number;
  globalAuc: number;
  tileMaxAuc: number;
}

export interface ProbeResult {
  encoder: string;
  folds: number;
  comparisons: ProbeComparison[];
}

/** Logistic regression, class-balanced, on standardised features; returns a scorer (logit). */
export function fitLogisticProbe(X: Float32Array, y: Uint8Array, D: number, opts: { l2?: number; steps?: number } = {}): (row: Float32Array, offset?: number) => number {
  const n = y.length;
  const l2 = opts.l2 ?? 1e-2;
  const steps = opts.steps ?? 400;
  const mean = new Float64Array(D);
  const sd = new Float64Array(D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mean[d] += X[i * D + d];
  for (let d = 0; d < D; d++) mean[d] /= n;
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) sd[d] += (X[i * D + d] - mean[d]) ** 2;
  for (let d = 0; d < D; d++) sd[d] = Math.sqrt(sd[d] / n) || 1;
  const Z = new Float64Array(n * D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) Z[i * D + d] = (X[i * D + d] - mean[d]) / sd[d];
  let P = 0;
  for (let i = 0; i < n; i++) P += y[i];
  const N = n - P;
  if (P === 0 || N === 0) throw new Error("fitLogisticProbe: both classes are needed");
  const wPos = n / (2 * P);
  const wNeg = n / (2 * N);
  const w = new Float64Array(D + 1);
  // Adam on the mean weighted log-loss (a convex problem; 400 steps converge at these sizes)
  const m = new Float64Array(D + 1);
  const v = new Float64Array(D + 1);
  const g = new Float64Array(D + 1);
  const lr = 0.05;
  for (let t = 1; t <= steps; t++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      let z = w[D];
      const o = i * D;
      for (let d = 0; d < D; d++) z += w[d] * Z[o + d];
      const c = (1 / (1 + Math.exp(-z)) - y[i]) * (y[i] ? wPos : wNeg);
      for (let d = 0; d < D; d++) g[d] += c * Z[o + d];
      g[D] += c;
    }
    for (let d = 0; d <= D; d++) {
      const gd = g[d] / n + (d < D ? l2 * w[d] : 0);
      m[d] = 0.9 * m[d] + 0.1 * gd;
      v[d] = 0.999 * v[d] + 0.001 * gd * gd;
      w[d] -= (lr * (m[d] / (1 - 0.9 ** t))) / (Math.sqrt(v[d] / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  return (row: Float32Array, offset = 0) => {
    let z = w[D];
    for (let d = 0; d < D; d++) z += (w[d] * (row[offset + d] - mean[d])) / sd[d];
    return z;
  };
}

function intersects(a: BoxPx, b: BoxPx): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Run the probe on an embedding store and the tile manifest it was made from. */
export function physicsProbe(store: StoreReader, manifest: TileManifest, opts: ProbeOptions = {}): ProbeResult {
  const folds = opts.folds ?? 5;
  const negPerBag = opts.negativeTilesPerBag ?? 24;
  const D = store.meta.dim;
  const bags = store.meta.bags;
  const imagesById = new Map(manifest.images.map((m) => [m.imageId, m]));
  // lesion kinds per bag, and per image its working-frame boxes
  const kinds = bags.map(() => new Set<string>());
  const imageBoxes = store.meta.images.map((si) => {
    const m = imagesById.get(si.imageId);
    if (!m) throw new Error(`physicsProbe: image ${si.imageId} of the store is not in the manifest`);
    for (const l of m.lesionsWorking) kinds[si.bagIndex].add(l.kind);
    return m.lesionsWorking;
  });
  const fold = bags.map((b) => hashString(`probe:${b.patientId}`) % folds);
  const globals = store.readGlobals();
  const tiles = store.readTiles();
  const tileRows = store.tileRows;
  const bagGlobalMean = (b: number): Float32Array => {
    const out = new Float32Array(D);
    const s = store.bagGlobalOffsets[b];
    const e = store.bagGlobalOffsets[b + 1];
    for (let r = s; r < e; r++) for (let d = 0; d < D; d++) out[d] += globals[r * D + d] / (e - s);
    return out;
  };
  const comparisons: ProbeComparison[] = [];
  const groups: { name: string; kind: string; isPositive: (b: number) => boolean }[] = [
    { name: "calcification-only", kind: "calcification", isPositive: (b) => kinds[b].size > 0 && [...kinds[b]].every((k) => k === "calcification") },
    { name: "mass", kind: "mass", isPositive: (b) => kinds[b].has("mass") },
  ];
  for (const grp of groups) {
    const pos = bags.map((bag, b) => bag.label === 1 && grp.isPositive(b));
    const neg = bags.map((bag) => bag.label === 0);
    const used = bags.map((_, b) => pos[b] || neg[b]).map((u, b) => (u ? b : -1)).filter((b) => b >= 0);
    const nP = used.filter((b) => pos[b]).length;
    const nN = used.length - nP;
    if (nP < 2 || nN < 2) continue;
    const gScore = new Float64Array(bags.length);
    const tScore = new Float64Array(bags.length);
    for (let f = 0; f < folds; f++) {
      const train = used.filter((b) => fold[b] !== f);
      const test = used.filter((b) => fold[b] === f);
      if (test.length === 0) continue;
      // global probe: one sample per breast
      const Xg = new Float32Array(train.length * D);
      const yg = new Uint8Array(train.length);
      train.forEach((b, i) => {
        Xg.set(bagGlobalMean(b), i * D);
        yg[i] = pos[b] ? 1 : 0;
      });
      const gProbe = fitLogisticProbe(Xg, yg, D, opts);
      for (const b of test) gScore[b] = gProbe(bagGlobalMean(b));
      // tile probe: lesion tiles of positives vs a fixed subsample of negatives' tiles
      const rows: number[] = [];
      const labels: number[] = [];
      for (const b of train) {
        const s = store.bagTileOffsets[b];
        const e = store.bagTileOffsets[b + 1];
        if (pos[b]) {
          for (let r = s; r < e; r++) {
            const o = r * TILE_ROW_WIDTH;
            const box = { x0: tileRows[o + 2], y0: tileRows[o + 3], x1: tileRows[o + 2] + tileRows[o + 4], y1: tileRows[o + 3] + tileRows[o + 4] };
            const hit = imageBoxes[tileRows[o + 1]].some((l) => l.kind === grp.kind && intersects(l, box) >= 0.5 * (l.x1 - l.x0) * (l.y1 - l.y0));
            if (hit) {
              rows.push(r);
              labels.push(1);
            }
          }
        } else {
          const step = Math.max(1, Math.floor((e - s) / negPerBag));
          for (let r = s; r < e; r += step) {
            rows.push(r);
            labels.push(0);
          }
        }
      }
      if (!labels.includes(1) || !labels.includes(0)) continue;
      const Xt = new Float32Array(rows.length * D);
      rows.forEach((r, i) => Xt.set(tiles.subarray(r * D, (r + 1) * D), i * D));
      const tProbe = fitLogisticProbe(Xt, Uint8Array.from(labels), D, opts);
      for (const b of test) {
        let best = -Infinity;
        for (let r = store.bagTileOffsets[b]; r < store.bagTileOffsets[b + 1]; r++) best = Math.max(best, tProbe(tiles, r * D));
        tScore[b] = best;
      }
    }
    const y = used.map((b) => (pos[b] ? 1 : 0));
    comparisons.push({
      positives: grp.name,
      nPositiveBags: nP,
      nNegativeBags: nN,
      globalAuc: rocAuc(y, used.map((b) => gScore[b])),
      tileMaxAuc: rocAuc(y, used.map((b) => tScore[b])),
    });
  }
  return { encoder: store.meta.encoder.name, folds, comparisons };
}
