import type { Chunk } from "./chunks";
import { hasGlobalStream, hasLocalStream, type HeadConfig } from "./config";
import type { XKernel } from "./kernel";
import { groupsLogits, groupsLossAndGrads } from "./internal/tfjsHeadOracle";
import { HIDDEN1 } from "./params";
import { postHParamNames, type GroupArrays, type PostH } from "./postH";
import { padColumns, unpadColumns, type SliceJob, type SliceResult } from "./rowgrad";
import { RowgradPool } from "./rowgradPool";
import { stackParams, stackW1, type RunState } from "./runState";
import type { EmbeddingSource, XChunk } from "./source";
import { ReusedArrays } from "../util/arrays";
import type { TrainTiming } from "./train";

/** A chunk's packed H of all runs (global and tile streams, Cg and Ct columns) and where dH goes (null: no gradients). */
interface PackedH {
  hg: Float32Array | null;
  ht: Float32Array | null;
  Cg: number;
  Ct: number;
  dHg: Float32Array | null;
  dHt: Float32Array | null;
}

/** The runs of one config, and where their columns start in the packed global / tile H. */
interface Group {
  config: HeadConfig;
  runs: RunState[];
  gCol: number;
  tCol: number;
}

/**
 * Buffers reused from chunk to chunk: the packed H and dH of the two chunks in flight (slots 0
 * and 1: chunk i uses slot i mod 2), onnxruntime's outputs and the plain copy of dH it reads
 * (one plain buffer serves H out of onnxruntime and dH into it). A
 * chunk's buffers are free again two chunks later, when its head and its backward pass are done.
 * Without this each chunk left ~4 x rows x 16R floats of garbage (300 MB per chunk at 324 runs),
 * which the collector let pile up: the grid's peak RSS was 1.8x the float16 store.
 */
class Scratch {
  private readonly plain = new ReusedArrays();
  private readonly sharedMem: ReusedArrays;
  constructor(pool: RowgradPool) {
    this.sharedMem = new ReusedArrays((n) => pool.shared(n));
  }

  /** n floats of buffer `key` (shared memory when `shared` and the pool's jobs cross threads). */
  get(key: string, n: number, shared: boolean): Float32Array {
    return (shared ? this.sharedMem : this.plain).get(key, n);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * The engine: the given runs (configs x seeds, all active ones together) through passes over the
 * source. One X pass per stream per chunk computes H for every run at once; the head after H runs per
 * config group; the backward X pass gives dW1 for every run at once.
 */
export class Engine {
  readonly timing: TrainTiming = { epochs: 0, seconds: 0, xPassSeconds: 0, headSeconds: 0, readSeconds: 0, xCachedBytes: 0, xPassFlops: 0 };
  /** X of the chunks kept in memory (per chunk and stream), within `xMemoryBytes`. */
  private readonly xCache = new Map<Chunk, { g?: XChunk; t?: XChunk }>();
  /** Chunks whose X may be kept (those read every epoch); others are always streamed. */
  readonly keepable = new Set<Chunk>();
  private readonly scratch: Scratch;
  constructor(
    private readonly src: EmbeddingSource,
    private readonly kernel: XKernel,
    private readonly postH: PostH = "js",
    private readonly pool: RowgradPool = new RowgradPool(1),
    private readonly xMemoryBytes = 0,
  ) {
    this.scratch = new Scratch(pool);
  }

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

  private async project(x: XChunk | null, w: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array | null> {
    if (!x || cols === 0) return null;
    const t0 = performance.now();
    const h = await this.kernel.project(x, w, cols, out);
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
        params: stackParams(g.runs, postHParamNames(g.config, dim)),
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
      const names = postHParamNames(g.config, dim);
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

  /**
   * Read a chunk's X and run the forward X pass (H = X W1 for all runs) into the chunk's slot; H in
   * shared memory for the pool (onnxruntime refuses to write into a SharedArrayBuffer: one memcpy).
   */
  private async forward(chunk: Chunk, slot: number, wg: Float32Array, wt: Float32Array, Cg: number, Ct: number): Promise<{ chunk: Chunk; slot: number; xg: XChunk | null; xt: XChunk | null; hg: Float32Array | null; ht: Float32Array | null }> {
    const { xg, xt } = this.read(chunk, Cg > 0, Ct > 0);
    const h = async (x: XChunk | null, w: Float32Array, C: number, key: string): Promise<Float32Array | null> => {
      if (!x || C === 0) return null;
      // the tfjs head after H keeps no reference past the chunk either, but it is the oracle: fresh arrays
      if (this.postH !== "js") return this.project(x, w, C);
      const n = x.rows * C;
      if (!this.pool.sharesMemory) return this.project(x, w, C, this.scratch.get(`${key}${slot}`, n, false));
      // "plain" also carries dH to the backward pass (gradient()); the two uses never overlap:
      // this forward pass is awaited before that backward pass starts, and the other way round
      const plain = (await this.project(x, w, C, this.scratch.get("plain", n, false))) as Float32Array;
      const shared = this.scratch.get(`${key}${slot}`, n, true);
      shared.set(plain);
      return shared;
    };
    const hg = await h(xg, wg, Cg, "hg");
    const ht = await h(xt, wt, Ct, "ht");
    return { chunk, slot, xg, xt, hg, ht };
  }

  /** The backward X pass of a chunk whose head is done: dW1 += X^T dH for both streams (sums in chunk order). */
  private async backwardX(done: { f: { xg: XChunk | null; xt: XChunk | null }; dHg: Float32Array | null; dHt: Float32Array | null }, Cg: number, Ct: number, dWg: Float32Array, dWt: Float32Array): Promise<void> {
    for (const [x, dH, C, acc] of [
      [done.f.xg, done.dHg, Cg, dWg],
      [done.f.xt, done.dHt, Ct, dWt],
    ] as const) {
      if (!x || !dH || C === 0) continue;
      const t1 = performance.now();
      // onnxruntime-node refuses SharedArrayBuffer-backed inputs: one memcpy to plain memory
      let plain = dH;
      if (dH.buffer instanceof SharedArrayBuffer) {
        plain = this.scratch.get("plain", dH.length, false);
        plain.set(dH);
      }
      const d = await this.kernel.gradient(x, plain, C, this.scratch.get("dW-out", x.dim * C, false));
      this.timing.xPassSeconds += (performance.now() - t1) / 1000;
      this.timing.xPassFlops += 2 * x.rows * x.dim * C;
      for (let k = 0; k < d.length; k++) acc[k] += d[k];
    }
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
    const dH = (x: XChunk | null, C: number, key: string): Float32Array | null => (x ? this.scratch.get(key, x.rows * C, this.postH === "js").fill(0) : null);
    const start = (f: Awaited<ReturnType<Engine["forward"]>>) => {
      const dHg = dH(f.xg, Cg, `dHg${f.slot}`);
      const dHt = dH(f.xt, Ct, `dHt${f.slot}`);
      return { f, dHg, dHt, head: this.startHead(groups, f.chunk, true, { hg: f.hg, ht: f.ht, Cg, Ct, dHg, dHt }) };
    };
    let cur = chunks.length ? start(await this.forward(chunks[0], 0, wg, wt, Cg, Ct)) : null;
    for (let i = 0; cur; i++) {
      const next = i + 1 < chunks.length ? await this.forward(chunks[i + 1], (i + 1) % 2, wg, wt, Cg, Ct) : null;
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
      await this.backwardX(done, Cg, Ct, dWg, dWt);
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
    let cur = chunks.length ? start(await this.forward(chunks[0], 0, wg, wt, Cg, Ct)) : null;
    for (let i = 0; cur; i++) {
      const next = i + 1 < chunks.length ? await this.forward(chunks[i + 1], (i + 1) % 2, wg, wt, Cg, Ct) : null;
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
