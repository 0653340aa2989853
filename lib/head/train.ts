import * as os from "node:os";
import type { Split, StoreBag } from "../types";
import { Progress } from "../util/progress";
import { rocAucOrNaN } from "../metrics/roc";
import { groupsLogits, groupsLossAndGrads, tfParamNames, type ChunkLayout, type GroupArrays } from "./batched";
import { RowgradPool } from "./rowgradPool";
import { padColumns, unpadColumns, type SliceJob, type SliceResult } from "./rowgrad";
import { hasGlobalStream, hasLocalStream, validateConfig, type HeadConfig } from "./config";
import { createKernel, type KernelName, type XChunk, type XKernel } from "./kernel";
import { HIDDEN1, cloneParams, initParams, paramSpecs, type HeadParams } from "./params";
import type { EmbeddingSource } from "./source";

/** Training settings (defaults = the authors'). */
export interface TrainSettings {
  epochs: number;
  patience: number;
  minDelta: number;
  /**
   * First epoch at which early stopping watches validation AUC (Keras' `start_from_epoch`):
   * earlier epochs are neither candidates for the best state nor counted towards patience.
   * 0 (the authors' setting) watches from the first epoch. Tiny validation splits (the small
   * synthetic set: ~18 bags) can show a high AUC at initialisation by chance, which then stops a
   * slowly starting attention head before it learns; a warm-up avoids that.
   */
  startEpoch: number;
  lr: number;
  /** PyTorch Adam weight_decay: L2 added to the gradient (not AdamW). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Padded tile rows per chunk streamed through the X kernel (bounds memory, not the maths). */
  chunkRows: number;
}

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  epochs: 700,
  patience: 20,
  minDelta: 0.001,
  startEpoch: 0,
  lr: 0.002,
  weightDecay: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  chunkRows: 8192,
};

export interface TrainGridOptions extends Partial<TrainSettings> {
  source: EmbeddingSource;
  configs: HeadConfig[];
  /** Seeds, one run per (config, seed). */
  seeds: number[];
  /** X-pass kernel (default "ort"). */
  kernel?: XKernel | KernelName;
  /** The head after H: "js" (hand-written fused forward/backward, default, ~10x faster) or "tfjs" (autodiff). */
  postH?: PostH;
  /** Worker threads for the "js" head after H (default: one per core, capped at 4; 1 = main thread). */
  postHThreads?: number;
  /**
   * Bytes of X (as stored: float16 stays float16) that may be kept in memory between epochs
   * (default: half the free memory). Chunks read while the budget lasts are kept; the rest is
   * re-read from the source every epoch. 0 = always stream.
   */
  xMemoryBytes?: number;
  /** Called after every epoch (curves, progress). */
  onEpoch?: (e: EpochInfo) => void;
  /** Progress lines on stderr (default true). */
  progress?: boolean;
}

/** Which implementation runs the head after the first layer (both give the same numbers; see rowgrad.ts). */
export type PostH = "js" | "tfjs";

export interface EpochInfo {
  epoch: number;
  activeRuns: number;
  seconds: number;
  xPassSeconds: number;
}

export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  valAuc: number;
}

export interface RunResult {
  config: HeadConfig;
  seed: number;
  /** Epoch (1-based) whose state was kept. */
  bestEpoch: number;
  epochsRun: number;
  bestValAuc: number;
  curve: CurvePoint[];
  /** The kept (best) parameters. */
  params: HeadParams;
  /** Probability per bag (store bag order) from the kept parameters; NaN for a bag the head cannot score. */
  scores: Float32Array;
}

export interface TrainTiming {
  epochs: number;
  seconds: number;
  xPassSeconds: number;
  /**
   * Main-thread time in the head after H (forward, backward, padding copies; with worker threads:
   * the waits for them, which overlap the next X pass otherwise).
   */
  headSeconds: number;
  readSeconds: number;
  /** Bytes of X kept in memory across epochs (see TrainGridOptions.xMemoryBytes). */
  xCachedBytes: number;
  /** Floating-point operations done by the X passes (2 rows dim cols per matmul). */
  xPassFlops: number;
}

export interface GridResult {
  dim: number;
  bags: StoreBag[];
  settings: TrainSettings;
  kernel: string;
  postH: PostH;
  runs: RunResult[];
  timing: TrainTiming;
}

interface RunState {
  config: HeadConfig;
  seed: number;
  params: HeadParams;
  m: HeadParams;
  v: HeadParams;
  step: number;
  best: HeadParams;
  bestValAuc: number;
  bestEpoch: number;
  wait: number;
  stopped: boolean;
  curve: CurvePoint[];
  grad: HeadParams;
  loss: number;
}

interface Chunk {
  bagIndices: number[];
  layout: ChunkLayout;
  /** Start of each bag's rows in the packed chunk (length bags + 1). */
  globalStarts: Int32Array;
  tileStarts: Int32Array;
}

/** Bags of one split cut into chunks; bags bucketed by tile count so little is padded. */
/** A chunk's packed H of all runs (global and tile streams, Cg and Ct columns) and where dH goes (null: no gradients). */
interface PackedH {
  hg: Float32Array | null;
  ht: Float32Array | null;
  Cg: number;
  Ct: number;
  dHg: Float32Array | null;
  dHt: Float32Array | null;
}

function makeChunks(src: EmbeddingSource, bagIndices: number[], chunkRows: number, mode: "train" | "score"): Chunk[] {
  const tc = (b: number): number => src.bagTileOffsets[b + 1] - src.bagTileOffsets[b];
  const gc = (b: number): number => src.bagGlobalOffsets[b + 1] - src.bagGlobalOffsets[b];
  const sorted = [...bagIndices].sort((a, b) => tc(a) - tc(b) || a - b);
  // Class weights total / (2 x count of the class), over the training bags (MIL) or images (instance).
  let posB = 0;
  let posI = 0;
  let nI = 0;
  for (const b of bagIndices) {
    const y = src.bags[b].label;
    posB += y;
    posI += y * gc(b);
    nI += gc(b);
  }
  const nB = bagIndices.length;
  const wBag = (y: number): number => (mode === "train" ? 1 / (2 * Math.max(1, y ? posB : nB - posB)) : 0);
  const wImg = (y: number): number => (mode === "train" ? 1 / (2 * Math.max(1, y ? posI : nI - posI)) : 0);
  const chunks: Chunk[] = [];
  let cur: number[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const B = cur.length;
    const lG = Math.max(1, ...cur.map(gc));
    const lT = Math.max(1, ...cur.map(tc));
    const layout: ChunkLayout = {
      bags: B,
      lGlobal: lG,
      lTile: lT,
      maskGlobal: new Float32Array(B * lG),
      maskTile: new Float32Array(B * lT),
      countGlobal: new Float32Array(B),
      countTile: new Float32Array(B),
      labels: new Float32Array(B),
      bagWeights: new Float32Array(B),
      rowWeights: new Float32Array(B * lG),
    };
    const gs = new Int32Array(B + 1);
    const ts = new Int32Array(B + 1);
    cur.forEach((b, j) => {
      const y = src.bags[b].label;
      layout.labels[j] = y;
      layout.countGlobal[j] = gc(b);
      layout.countTile[j] = tc(b);
      layout.maskGlobal.fill(1, j * lG, j * lG + gc(b));
      layout.maskTile.fill(1, j * lT, j * lT + tc(b));
      layout.bagWeights[j] = wBag(y);
      layout.rowWeights.fill(wImg(y), j * lG, j * lG + gc(b));
      gs[j + 1] = gs[j] + gc(b);
      ts[j + 1] = ts[j] + tc(b);
    });
    chunks.push({ bagIndices: cur, layout, globalStarts: gs, tileStarts: ts });
    cur = [];
  };
  for (const b of sorted) {
    const lT = Math.max(tc(b), ...cur.map(tc), 1);
    if (cur.length > 0 && (cur.length + 1) * lT > chunkRows) flush();
    cur.push(b);
  }
  flush();
  return chunks;
}

interface Group {
  config: HeadConfig;
  runs: RunState[];
  gCol: number;
  tCol: number;
}

/** Stack the first-layer weights of runs side by side: dim x (16 runs). */
function stackW1(runs: RunState[], name: "g1w" | "l1w", dim: number): Float32Array {
  const C = runs.length * HIDDEN1;
  const w = new Float32Array(dim * C);
  runs.forEach((r, i) => {
    const src = r.params[name];
    for (let d = 0; d < dim; d++) w.set(src.subarray(d * HIDDEN1, (d + 1) * HIDDEN1), d * C + i * HIDDEN1);
  });
  return w;
}

function stackParams(runs: RunState[], names: string[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const n of names) {
    const size = runs[0].params[n].length;
    const a = new Float32Array(size * runs.length);
    runs.forEach((r, i) => a.set(r.params[n], i * size));
    out[n] = a;
  }
  return out;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * The engine: the given runs (configs x seeds, all active ones together) through passes over the
 * source. One X pass per stream per chunk computes H for every run at once; the tfjs part runs per
 * config group; the backward X pass gives dW1 for every run at once.
 */
class Engine {
  readonly timing: TrainTiming = { epochs: 0, seconds: 0, xPassSeconds: 0, headSeconds: 0, readSeconds: 0, xCachedBytes: 0, xPassFlops: 0 };
  /** X of the chunks kept in memory (per chunk and stream), within `xMemoryBytes`. */
  private readonly xCache = new Map<Chunk, { g?: XChunk; t?: XChunk }>();
  /** Chunks whose X may be kept (those read every epoch); others are always streamed. */
  readonly keepable = new Set<Chunk>();
  constructor(
    private readonly src: EmbeddingSource,
    private readonly kernel: XKernel,
    private readonly postH: PostH = "js",
    private readonly pool: RowgradPool = new RowgradPool(1),
    private readonly xMemoryBytes = 0,
  ) {}

  private groups(runs: RunState[]): { groups: Group[]; gRuns: RunState[]; tRuns: RunState[] } {
    const byName = new Map<string, Group>();
    const groups: Group[] = [];
    for (const r of runs) {
      let g = byName.get(r.config.name);
      if (!g) {
        g = { config: r.config, runs: [], gCol: 0, tCol: 0 };
        byName.set(r.config.name, g);
        groups.push(g);
      }
      g.runs.push(r);
    }
    const gRuns: RunState[] = [];
    const tRuns: RunState[] = [];
    for (const g of groups) {
      g.gCol = gRuns.length * HIDDEN1;
      g.tCol = tRuns.length * HIDDEN1;
      if (hasGlobalStream(g.config)) gRuns.push(...g.runs);
      if (hasLocalStream(g.config)) tRuns.push(...g.runs);
    }
    return { groups, gRuns, tRuns };
  }

  private async project(x: XChunk | null, w: Float32Array, cols: number): Promise<Float32Array | null> {
    if (!x || cols === 0) return null;
    const t0 = performance.now();
    const h = await this.kernel.project(x, w, cols);
    this.timing.xPassSeconds += (performance.now() - t0) / 1000;
    this.timing.xPassFlops += 2 * x.rows * x.dim * cols;
    return h;
  }

  private read(chunk: Chunk, needG: boolean, needT: boolean): { xg: XChunk | null; xt: XChunk | null } {
    const t0 = performance.now();
    let kept = this.xCache.get(chunk);
    const get = (k: "g" | "t"): XChunk => {
      const hit = kept?.[k];
      if (hit) return hit;
      const x = k === "g" ? this.src.readGlobals(chunk.bagIndices) : this.src.readTiles(chunk.bagIndices);
      const bytes = x.data.byteLength;
      if (this.keepable.has(chunk) && this.timing.xCachedBytes + bytes <= this.xMemoryBytes) {
        if (!kept) this.xCache.set(chunk, (kept = {}));
        kept[k] = x;
        this.timing.xCachedBytes += bytes;
      }
      return x;
    };
    const xg = needG ? get("g") : null;
    const xt = needT ? get("t") : null;
    this.timing.readSeconds += (performance.now() - t0) / 1000;
    return { xg, xt };
  }

  /** Let go of the kept X (before a one-off pass, so that it does not add to the peak memory). */
  dropKept(): void {
    this.xCache.clear();
  }

  private groupArrays(groups: Group[], chunk: Chunk, hg: Float32Array | null, ht: Float32Array | null, Cg: number, Ct: number): GroupArrays[] {
    const dim = this.src.dim;
    return groups.map((g) => {
      const R = g.runs.length;
      return {
        config: g.config,
        runs: R,
        hGlobal: hasGlobalStream(g.config) && hg ? padColumns(hg, Cg, g.gCol, R, chunk.globalStarts, chunk.layout.lGlobal) : null,
        hTile: hasLocalStream(g.config) && ht ? padColumns(ht, Ct, g.tCol, R, chunk.tileStarts, chunk.layout.lTile) : null,
        params: stackParams(g.runs, tfParamNames(g.config, dim)),
      };
    });
  }

  /**
   * Slice jobs for the worker pool: each group's runs cut into at most `threads` contiguous
   * slices, each reading its columns of the packed (shared) H and writing its columns of dH.
   */
  private sliceJobs(
    groups: Group[],
    chunk: Chunk,
    withGrads: boolean,
    h: PackedH,
  ): { group: number; from: number; job: SliceJob }[] {
    const dim = this.src.dim;
    const out: { group: number; from: number; job: SliceJob }[] = [];
    groups.forEach((g, gi) => {
      const R = g.runs.length;
      const k = Math.min(this.pool.threads, R);
      const names = tfParamNames(g.config, dim);
      for (let s = 0; s < k; s++) {
        const from = Math.floor((s * R) / k);
        const to = Math.floor(((s + 1) * R) / k);
        const runs = g.runs.slice(from, to);
        out.push({
          group: gi,
          from,
          job: {
            withGrads,
            layout: chunk.layout,
            config: g.config,
            runs: runs.length,
            params: stackParams(runs, names),
            hg: h.hg,
            cg: h.Cg,
            gCol: g.gCol + from * HIDDEN1,
            gStarts: chunk.globalStarts,
            ht: h.ht,
            ct: h.Ct,
            tCol: g.tCol + from * HIDDEN1,
            tStarts: chunk.tileStarts,
            dHg: h.dHg,
            dHt: h.dHt,
          },
        });
      }
    });
    return out;
  }

  /**
   * The head after H for every group on one chunk, started now: "js" posts slice jobs to the
   * worker pool (they run while the caller does the next X pass), "tfjs" runs here. Resolves to
   * per-group results in the padded-free form: loss and parameter gradients per run (dH written
   * into the packed arrays), or logits.
   */
  private startHead(groups: Group[], chunk: Chunk, withGrads: boolean, h: PackedH): Promise<{ group: number; from: number; r: SliceResult }[]> {
    // time spent here counts as head time: all of it without workers, the job set-up with them
    const t0 = performance.now();
    try {
      return this.startHeadNow(groups, chunk, withGrads, h);
    } finally {
      this.timing.headSeconds += (performance.now() - t0) / 1000;
    }
  }

  private startHeadNow(groups: Group[], chunk: Chunk, withGrads: boolean, h: PackedH): Promise<{ group: number; from: number; r: SliceResult }[]> {
    const { hg, ht, Cg, Ct, dHg, dHt } = h;
    if (this.postH === "js") {
      const jobs = this.sliceJobs(groups, chunk, withGrads, h);
      return this.pool.run(jobs.map((j) => j.job)).then((rs) => rs.map((r, i) => ({ group: jobs[i].group, from: jobs[i].from, r })));
    }
    const dim = this.src.dim;
    const arrays = this.groupArrays(groups, chunk, hg, ht, Cg, Ct);
    if (!withGrads) return Promise.resolve(groupsLogits(chunk.layout, arrays, dim).map((z, gi) => ({ group: gi, from: 0, r: { loss: null, params: null, logits: z } })));
    const grads = groupsLossAndGrads(chunk.layout, arrays, dim);
    return Promise.resolve(
      groups.map((g, gi) => {
        const gr = grads[gi];
        const R = g.runs.length;
        if (gr.dGlobal && dHg) unpadColumns(gr.dGlobal, dHg, Cg, g.gCol, R, chunk.globalStarts, chunk.layout.lGlobal);
        if (gr.dTile && dHt) unpadColumns(gr.dTile, dHt, Ct, g.tCol, R, chunk.tileStarts, chunk.layout.lTile);
        return { group: gi, from: 0, r: { loss: gr.loss, params: gr.params, logits: null } };
      }),
    );
  }

  /** Read a chunk's X and run the forward X pass (H = X W1 for all runs); H in shared memory for the pool. */
  private async forward(chunk: Chunk, wg: Float32Array, wt: Float32Array, Cg: number, Ct: number): Promise<{ chunk: Chunk; xg: XChunk | null; xt: XChunk | null; hg: Float32Array | null; ht: Float32Array | null }> {
    const { xg, xt } = this.read(chunk, Cg > 0, Ct > 0);
    const hg = await this.project(xg, wg, Cg);
    const ht = await this.project(xt, wt, Ct);
    const share = (a: Float32Array | null): Float32Array | null => (a && this.postH === "js" ? this.pool.share(a) : a);
    return { chunk, xg, xt, hg: share(hg), ht: share(ht) };
  }

  /**
   * One full-batch gradient over the training chunks; fills run.grad and run.loss. Pipelined:
   * while the workers compute the head after H of chunk i, the main thread runs the forward X
   * pass of chunk i + 1, then (head of i + 1 started) the backward X pass of chunk i. The sums
   * are taken in chunk order, so the result does not depend on the pipelining or the threads.
   */
  async gradient(runs: RunState[], chunks: Chunk[]): Promise<void> {
    const dim = this.src.dim;
    const { groups, gRuns, tRuns } = this.groups(runs);
    const Cg = gRuns.length * HIDDEN1;
    const Ct = tRuns.length * HIDDEN1;
    const wg = stackW1(gRuns, "g1w", dim);
    const wt = stackW1(tRuns, "l1w", dim);
    const dWg = new Float32Array(dim * Cg);
    const dWt = new Float32Array(dim * Ct);
    for (const r of runs) {
      r.loss = 0;
      for (const k of Object.keys(r.grad)) r.grad[k].fill(0);
    }
    const start = (f: Awaited<ReturnType<Engine["forward"]>>) => {
      const dHg = f.xg ? this.pool.shared(f.xg.rows * Cg) : null;
      const dHt = f.xt ? this.pool.shared(f.xt.rows * Ct) : null;
      return { f, dHg, dHt, head: this.startHead(groups, f.chunk, true, { hg: f.hg, ht: f.ht, Cg, Ct, dHg, dHt }) };
    };
    let cur = chunks.length ? start(await this.forward(chunks[0], wg, wt, Cg, Ct)) : null;
    for (let i = 0; cur; i++) {
      const next = i + 1 < chunks.length ? await this.forward(chunks[i + 1], wg, wt, Cg, Ct) : null;
      const t0 = performance.now();
      const results = await cur.head;
      for (const { group, from, r } of results) {
        const g = groups[group];
        const loss = r.loss as Float32Array;
        const params = r.params as Record<string, Float32Array>;
        for (let i2 = 0; i2 < loss.length; i2++) {
          const run = g.runs[from + i2];
          run.loss += loss[i2];
          for (const [n, a] of Object.entries(params)) {
            const dst = run.grad[n];
            const size = dst.length;
            for (let k = 0; k < size; k++) dst[k] += a[i2 * size + k];
          }
        }
      }
      this.timing.headSeconds += (performance.now() - t0) / 1000;
      const done = cur;
      cur = next ? start(next) : null;
      for (const [x, dH, C, acc] of [
        [done.f.xg, done.dHg, Cg, dWg],
        [done.f.xt, done.dHt, Ct, dWt],
      ] as const) {
        if (!x || !dH || C === 0) continue;
        const t1 = performance.now();
        // onnxruntime-node refuses SharedArrayBuffer-backed inputs: one memcpy to plain memory
        const d = await this.kernel.gradient(x, dH.buffer instanceof SharedArrayBuffer ? new Float32Array(dH) : dH, C);
        this.timing.xPassSeconds += (performance.now() - t1) / 1000;
        this.timing.xPassFlops += 2 * x.rows * x.dim * C;
        for (let k = 0; k < d.length; k++) acc[k] += d[k];
      }
    }
    for (const [list, name, acc] of [
      [gRuns, "g1w", dWg],
      [tRuns, "l1w", dWt],
    ] as const) {
      const C = list.length * HIDDEN1;
      list.forEach((r, i) => {
        const dst = r.grad[name];
        for (let d = 0; d < dim; d++) for (let j = 0; j < HIDDEN1; j++) dst[d * HIDDEN1 + j] = acc[d * C + i * HIDDEN1 + j];
      });
    }
  }

  /** Scores (probability per bag, NaN where unscored) of each run over the chunks' bags, with `which` parameters. Pipelined like gradient(). */
  async score(runs: RunState[], chunks: Chunk[], which: "params" | "best", nBags: number): Promise<Float32Array[]> {
    const dim = this.src.dim;
    const view = runs.map((r) => ({ ...r, params: which === "best" ? r.best : r.params }));
    const { groups, gRuns, tRuns } = this.groups(view);
    const Cg = gRuns.length * HIDDEN1;
    const Ct = tRuns.length * HIDDEN1;
    const wg = stackW1(gRuns, "g1w", dim);
    const wt = stackW1(tRuns, "l1w", dim);
    const out = new Map<RunState, Float32Array>();
    for (const r of view) out.set(r, new Float32Array(nBags).fill(NaN));
    const start = (f: Awaited<ReturnType<Engine["forward"]>>) => ({ chunk: f.chunk, head: this.startHead(groups, f.chunk, false, { hg: f.hg, ht: f.ht, Cg, Ct, dHg: null, dHt: null }) });
    let cur = chunks.length ? start(await this.forward(chunks[0], wg, wt, Cg, Ct)) : null;
    for (let i = 0; cur; i++) {
      const next = i + 1 < chunks.length ? await this.forward(chunks[i + 1], wg, wt, Cg, Ct) : null;
      const t0 = performance.now();
      const results = await cur.head;
      const chunk = cur.chunk;
      const L = chunk.layout.lGlobal;
      const B = chunk.layout.bags;
      for (const { group, from, r } of results) {
        const g = groups[group];
        const z = r.logits as Float32Array;
        const perRun = g.config.instance !== null ? B * L : B;
        const nRuns = z.length / perRun;
        for (let q = 0; q < nRuns; q++) {
          const s = out.get(g.runs[from + q]) as Float32Array;
          chunk.bagIndices.forEach((b, j) => {
            if (g.config.instance === null) {
              s[b] = sigmoid(z[q * B + j]);
              return;
            }
            const n = chunk.layout.countGlobal[j];
            if (n === 0) return;
            let acc = g.config.instance === "mean" ? 0 : -Infinity;
            for (let k = 0; k < n; k++) {
              const p = sigmoid(z[q * B * L + j * L + k]);
              acc = g.config.instance === "mean" ? acc + p / n : Math.max(acc, p);
            }
            s[b] = acc;
          });
        }
      }
      this.timing.headSeconds += (performance.now() - t0) / 1000;
      cur = next ? start(next) : null;
    }
    return view.map((r) => out.get(r) as Float32Array);
  }
}

function adamStep(r: RunState, s: TrainSettings): void {
  r.step++;
  const bc1 = 1 - s.beta1 ** r.step;
  const bc2 = 1 - s.beta2 ** r.step;
  for (const n of Object.keys(r.params)) {
    const p = r.params[n];
    const g = r.grad[n];
    const m = r.m[n];
    const v = r.v[n];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + s.weightDecay * p[i];
      m[i] = s.beta1 * m[i] + (1 - s.beta1) * gi;
      v[i] = s.beta2 * v[i] + (1 - s.beta2) * gi * gi;
      p[i] -= (s.lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + s.eps);
    }
  }
}

function zerosLike(p: HeadParams): HeadParams {
  const o: HeadParams = {};
  for (const [k, v] of Object.entries(p)) o[k] = new Float32Array(v.length);
  return o;
}

export function splitBagIndices(bags: StoreBag[], split: Split): number[] {
  const out: number[] = [];
  bags.forEach((b, i) => {
    if (b.split === split) out.push(i);
  });
  return out;
}

/** The training settings of `opts`: each field given there, else the authors' default. */
export function resolveTrainSettings(opts: Partial<TrainSettings>): TrainSettings {
  const settings: TrainSettings = { ...DEFAULT_TRAIN_SETTINGS };
  for (const k of Object.keys(DEFAULT_TRAIN_SETTINGS) as (keyof TrainSettings)[]) {
    const v = opts[k];
    if (v !== undefined) settings[k] = v;
  }
  return settings;
}

/**
 * Train every (config, seed) run together on one source: full-batch Adam, class-weighted BCE,
 * early stopping on validation AUC, best state kept. Each run depends only on its config and seed
 * (training runs together gives the same models as training each alone, within float tolerance).
 */
export async function trainGrid(opts: TrainGridOptions): Promise<GridResult> {
  const settings = resolveTrainSettings(opts);
  if (!Number.isInteger(settings.startEpoch) || settings.startEpoch < 0 || settings.startEpoch > settings.epochs) {
    throw new Error(`trainGrid: startEpoch must be an integer in [0, epochs=${settings.epochs}], got ${settings.startEpoch}`);
  }
  const xMemoryBytes = opts.xMemoryBytes ?? Math.floor(os.freemem() / 2);
  if (!(xMemoryBytes >= 0)) throw new Error(`trainGrid: xMemoryBytes must be >= 0, got ${String(opts.xMemoryBytes)}`);
  const src = opts.source;
  const dim = src.dim;
  if (opts.configs.length === 0) throw new Error("trainGrid: no configs");
  if (opts.seeds.length === 0) throw new Error("trainGrid: no seeds");
  const kernel = typeof opts.kernel === "object" ? opts.kernel : createKernel(opts.kernel ?? "ort");
  const trainBags = splitBagIndices(src.bags, "train");
  const valBags = splitBagIndices(src.bags, "val");
  if (trainBags.length === 0) throw new Error("trainGrid: the store has no training bags");
  if (valBags.length === 0) throw new Error("trainGrid: the store has no validation bags (needed for early stopping)");
  const trainChunks = makeChunks(src, trainBags, settings.chunkRows, "train");
  const valChunks = makeChunks(src, valBags, settings.chunkRows, "score");
  const valLabels = valBags.map((b) => src.bags[b].label);

  const runs: RunState[] = [];
  for (const c of opts.configs.map(validateConfig)) {
    for (const seed of opts.seeds) {
      runs.push(stateFor(c, initParams(c, dim, seed), seed));
    }
  }
  const pool = new RowgradPool(opts.postHThreads ?? Math.min(4, os.cpus().length));
  const engine = new Engine(src, kernel, opts.postH ?? "js", pool, xMemoryBytes);
  for (const c of [...trainChunks, ...valChunks]) engine.keepable.add(c);
  const t0 = performance.now();
  let finalScores: Float32Array[];
  try {
    const progress = new Progress({ label: `train ${runs.length} runs`, total: settings.epochs, unit: "epochs", enabled: opts.progress !== false, everyFraction: 0.05 });
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const active = runs.filter((r) => !r.stopped);
      if (active.length === 0) break;
      const te = performance.now();
      const xBefore = engine.timing.xPassSeconds;
      await engine.gradient(active, trainChunks);
      for (const r of active) adamStep(r, settings);
      const scores = await engine.score(active, valChunks, "params", src.bags.length);
      active.forEach((r, i) => {
        const s = scores[i];
        const auc = rocAucOrNaN(
          valLabels,
          valBags.map((b) => s[b]),
        );
        r.curve.push({ epoch, trainLoss: r.loss, valAuc: auc });
        const a = Number.isNaN(auc) ? -Infinity : auc;
        if (epoch < settings.startEpoch) return;
        if (r.bestEpoch === 0 || a > r.bestValAuc + settings.minDelta) {
          r.bestValAuc = a;
          r.bestEpoch = epoch;
          r.best = cloneParams(r.params);
          r.wait = 0;
        } else if (++r.wait >= settings.patience) {
          r.stopped = true;
        }
      });
      engine.timing.epochs++;
      progress.tick();
      opts.onEpoch?.({ epoch, activeRuns: active.length, seconds: (performance.now() - te) / 1000, xPassSeconds: engine.timing.xPassSeconds - xBefore });
    }
    engine.dropKept();
    const allChunks = makeChunks(
      src,
      src.bags.map((_, i) => i),
      settings.chunkRows,
      "score",
    );
    finalScores = await engine.score(runs, allChunks, "best", src.bags.length);
  } finally {
    await pool.close();
  }
  engine.timing.seconds = (performance.now() - t0) / 1000;
  return {
    dim,
    bags: src.bags,
    settings,
    kernel: kernel.name,
    postH: opts.postH ?? "js",
    timing: engine.timing,
    runs: runs.map((r, i) => ({
      config: r.config,
      seed: r.seed,
      bestEpoch: r.bestEpoch,
      epochsRun: r.curve.length,
      bestValAuc: r.bestValAuc,
      curve: r.curve,
      params: r.best,
      scores: finalScores[i],
    })),
  };
}

/** Parameter names of a config in serialisation order. */
export function paramNames(c: HeadConfig, dim: number): string[] {
  return paramSpecs(c, dim).map((s) => s.name);
}

/** A fresh training state over a copy of `params` (its own best copy too). */
function stateFor(config: HeadConfig, params: HeadParams, seed = 0): RunState {
  const own = cloneParams(params);
  return {
    config,
    seed,
    params: own,
    m: zerosLike(params),
    v: zerosLike(params),
    step: 0,
    best: params,
    bestValAuc: -Infinity,
    bestEpoch: 0,
    wait: 0,
    stopped: false,
    curve: [],
    grad: zerosLike(params),
    loss: 0,
  };
}

/**
 * Full-batch training loss and its gradient for given heads on the source's training bags, through
 * the same batched path (X kernel + tfjs) trainGrid uses. For tests and diagnostics.
 */
export async function lossAndGradient(
  source: EmbeddingSource,
  heads: { config: HeadConfig; params: HeadParams }[],
  opts: { kernel?: XKernel | KernelName; chunkRows?: number; postH?: PostH } = {},
): Promise<{ loss: number; grad: HeadParams }[]> {
  const kernel = typeof opts.kernel === "object" ? opts.kernel : createKernel(opts.kernel ?? "ort");
  const states = heads.map((h) => stateFor(validateConfig(h.config), h.params));
  const chunks = makeChunks(source, splitBagIndices(source.bags, "train"), opts.chunkRows ?? DEFAULT_TRAIN_SETTINGS.chunkRows, "train");
  await new Engine(source, kernel, opts.postH).gradient(states, chunks);
  return states.map((s) => ({ loss: s.loss, grad: s.grad }));
}

/** Bag probabilities (store bag order) of given heads through the batched path; NaN outside `bagIndices`. */
export async function scoreHeads(
  source: EmbeddingSource,
  heads: { config: HeadConfig; params: HeadParams }[],
  opts: { bagIndices?: number[]; kernel?: XKernel | KernelName; chunkRows?: number; postH?: PostH } = {},
): Promise<Float32Array[]> {
  const kernel = typeof opts.kernel === "object" ? opts.kernel : createKernel(opts.kernel ?? "ort");
  const states = heads.map((h) => stateFor(validateConfig(h.config), h.params));
  const bagIndices = opts.bagIndices ?? source.bags.map((_, i) => i);
  const chunks = makeChunks(source, bagIndices, opts.chunkRows ?? DEFAULT_TRAIN_SETTINGS.chunkRows, "score");
  return new Engine(source, kernel, opts.postH).score(states, chunks, "best", source.bags.length);
}
