import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder } from "../lib/util/onnxGraph";
import type { Benchmark, BenchResult } from "./harness";
import { ABLATION_CONFIGS, FULL_CONFIG, createKernel, openEmbeddingSource, trainGrid, writeSyntheticStore, type EmbeddingSource, type EpochInfo, type HeadConfig, type KernelName } from "../lib/head";
import { selectTfBackend } from "../lib/util/backend";

/**
 * Head-training benchmarks on `synth-embeddings --bags 10000 --tiles 60 --dim 1536` (float16),
 * generated once into $MILPF_BENCH_DIR (default <tmp>/milpf-bench). Three benchmarks so that each
 * invocation stays within a few minutes on the shared 2-core machine:
 *   train-kernels  X-pass kernels (ORT / tfjs-wasm / JS) and the machine's large-sgemm rate
 *   train-epoch    time per epoch: one run vs 36 seeds together (full head)
 *   train-grid     time per epoch of the 9-config x 36-seed grid, and its extrapolated wall time
 */
const BAGS = Number(process.env.MILPF_BENCH_BAGS ?? 10000);
const TILES = 60;
const DIM = 1536;

function storeDir(): string {
  return path.join(process.env.MILPF_BENCH_DIR ?? path.join(os.tmpdir(), "milpf-bench"), `synth-${BAGS}x${TILES}x${DIM}-f16`);
}

function ensureStore(): { dir: string; generatedSeconds: number | null; bytes: number } {
  const dir = storeDir();
  let generatedSeconds: number | null = null;
  if (!fs.existsSync(path.join(dir, "store.json"))) {
    const t0 = performance.now();
    writeSyntheticStore(dir, { bags: BAGS, tilesPerBag: TILES, viewsPerBag: 2, dim: DIM, seed: 1, prevalence: 0.3, positiveTilesPerBag: 3 }, "float16");
    generatedSeconds = (performance.now() - t0) / 1000;
  }
  const bytes = ["tiles.bin", "globals.bin"].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  return { dir, generatedSeconds, bytes };
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function timeIt(f: () => Promise<unknown>, reps: number): Promise<number> {
  await f(); // warm-up (session creation, first-touch)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps / 1000;
}

async function sgemmRate(n: number): Promise<number> {
  const g = new OnnxGraphBuilder("sgemm", 18);
  g.op("MatMul", [g.input("a", [n, n]), g.input("b", [n, n])], {}, g.output("c", [n, n]));
  const s = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 0 });
  const a = new ort.Tensor("float32", new Float32Array(n * n).map((_, i) => (i % 7) * 0.1), [n, n]);
  const sec = await timeIt(() => s.run({ a, b: a }), 3);
  return (2 * n ** 3) / sec / 1e9;
}

const kernels: Benchmark = {
  name: "train-kernels",
  description: "X-pass kernels (ORT MLAS / tfjs-wasm / blocked JS) vs the machine's large sgemm rate",
  async run(): Promise<BenchResult> {
    await selectTfBackend({ log: () => undefined });
    const store = ensureStore();
    const src = openEmbeddingSource(store.dir);
    const rowsFor = (n: number): number[] => Array.from({ length: Math.ceil(n / TILES) }, (_, i) => i);
    const rows: Record<string, number | string>[] = [];
    const sg = await sgemmRate(2048);
    rows.push({ kernel: "ort", pass: "sgemm 2048^3 (reference)", rows: 2048, cols: 2048, ms: (2 * 2048 ** 3) / sg / 1e6, gflops: sg });
    const cases: { k: KernelName; rows: number; cols: number[] }[] = [
      { k: "ort", rows: 8160, cols: [16, 576, 2304] },
      { k: "tfjs", rows: 2040, cols: [16, 576] },
      { k: "js", rows: 240, cols: [16, 576] },
    ];
    for (const c of cases) {
      const kernel = createKernel(c.k);
      const x = src.readTiles(rowsFor(c.rows));
      for (const cols of c.cols) {
        const w = new Float32Array(DIM * cols).map((_, i) => ((i % 13) - 6) * 0.01);
        const dH = new Float32Array(x.rows * cols).map((_, i) => ((i % 11) - 5) * 0.01);
        const fl = 2 * x.rows * DIM * cols;
        const tp = await timeIt(() => kernel.project(x, w, cols), c.k === "js" ? 1 : 3);
        const tg = await timeIt(() => kernel.gradient(x, dH, cols), c.k === "js" ? 1 : 3);
        rows.push({ kernel: c.k, pass: "H = X W (float16 X)", rows: x.rows, cols, ms: tp * 1000, gflops: fl / tp / 1e9 });
        rows.push({ kernel: c.k, pass: "dW = X^T dH (float16 X)", rows: x.rows, cols, ms: tg * 1000, gflops: fl / tg / 1e9 });
      }
    }
    src.close();
    return {
      name: "train-kernels",
      rows,
      notes: [
        "ort = onnxruntime-node CPU (MLAS sgemm, all cores), graph Cast(float16->float32) + MatMul / Gemm(transA): X is read as float16",
        "tfjs = tfjs-backend-wasm matMul (SIMD, one thread); js = hand-written i-k-j loop; both need X widened to float32 in JS first (included)",
        `machine shared with other engineers: load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
      ],
      context: { store: store.dir, storeBytes: store.bytes, peakRssMiB: peakRssMiB() },
    };
  },
};

async function epochTimes(src: EmbeddingSource, configs: HeadConfig[], seeds: number, epochs: number): Promise<{ perEpoch: EpochInfo[]; flops: number; xSeconds: number; seconds: number }> {
  const perEpoch: EpochInfo[] = [];
  const res = await trainGrid({
    source: src,
    configs,
    seeds: Array.from({ length: seeds }, (_, i) => i),
    epochs,
    patience: 1000,
    progress: false,
    onEpoch: (e) => perEpoch.push(e),
  });
  return { perEpoch, flops: res.timing.xPassFlops, xSeconds: res.timing.xPassSeconds, seconds: res.timing.seconds };
}

const epoch: Benchmark = {
  name: "train-epoch",
  description: "seconds per training epoch on 10,000 bags x 60 tiles x 1536: one run vs 36 seeds together",
  async run(): Promise<BenchResult> {
    const backend = await selectTfBackend({ log: () => undefined });
    const store = ensureStore();
    const src = openEmbeddingSource(store.dir);
    const rows: Record<string, number | string>[] = [];
    for (const seeds of [1, 36]) {
      const r = await epochTimes(src, [FULL_CONFIG], seeds, 2);
      const last = r.perEpoch[r.perEpoch.length - 1];
      rows.push({ runs: seeds, config: FULL_CONFIG.name, "s/epoch": last.seconds, "X-pass s/epoch": last.xPassSeconds, "X GFLOP/s": r.flops / r.xSeconds / 1e9, "peak RSS MiB": peakRssMiB() });
    }
    src.close();
    const ratio = (rows[1]["s/epoch"] as number) / (rows[0]["s/epoch"] as number);
    tf.disposeVariables();
    return {
      name: "train-epoch",
      rows,
      notes: [
        `36 seeds together cost ${ratio.toFixed(1)}x one run per epoch (target <= 10x)`,
        `float16 store ${(store.bytes / 2 ** 20).toFixed(0)} MiB; peak RSS target < 1.5x = ${((1.5 * store.bytes) / 2 ** 20).toFixed(0)} MiB`,
        `epoch = train pass (H forward, head after H in JS, dW backward) + Adam + validation forward; second epoch timed`,
        `tfjs backend ${backend.name}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (shared machine)`,
      ],
      context: { store: store.dir, storeBytes: store.bytes, generatedSeconds: store.generatedSeconds },
    };
  },
};

const grid: Benchmark = {
  name: "train-grid",
  description: "seconds per epoch of the 9-config x 36-seed grid; extrapolated wall time of the whole grid",
  async run(): Promise<BenchResult> {
    await selectTfBackend({ log: () => undefined });
    const store = ensureStore();
    const src = openEmbeddingSource(store.dir);
    const r = await epochTimes(src, [...ABLATION_CONFIGS], 36, 1);
    src.close();
    const e = r.perEpoch[0];
    const typicalEpochs = Number(process.env.MILPF_BENCH_TYPICAL_EPOCHS ?? 60);
    return {
      name: "train-grid",
      rows: [
        {
          runs: 9 * 36,
          "s/epoch": e.seconds,
          "X-pass s/epoch": e.xPassSeconds,
          "X GFLOP/s": r.flops / r.xSeconds / 1e9,
          "grid h @700 epochs": (e.seconds * 700) / 3600,
          [`grid h @${typicalEpochs} epochs`]: (e.seconds * typicalEpochs) / 3600,
          "peak RSS MiB": peakRssMiB(),
        },
      ],
      notes: [
        "one epoch measured (includes ORT session creation); the wall time is EXTRAPOLATED: all 324 runs active every epoch is the upper bound, early stopping freezes runs and removes their columns from the X passes",
        `load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (shared machine)`,
      ],
      context: { store: store.dir, storeBytes: store.bytes },
    };
  },
};

export const trainBenchmarks: Benchmark[] = [kernels, epoch, grid];
