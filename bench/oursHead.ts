import { DEFAULT_TRAIN_SETTINGS, FULL_CONFIG, createKernel, openEmbeddingSource, trainGrid, type XChunk } from "../lib/head";
import { makeChunks, splitBagIndices } from "../lib/head/chunks";
import { HIDDEN1 } from "../lib/head/params";
import { Rng } from "../lib/util/rng";

/**
 * Child process of `npm run bench -- train-vs-torch` (bench/speed.ts), the counterpart of
 * bench/torch_head.py: trains R seeds of the full head on a store for E epochs (no early
 * stopping) and prints one JSON line {secPerEpoch, peakRssMiB, timing}. A process of its own, so
 * that its peak RSS is this workload's alone (the parent's would hold every earlier case).
 *   node dist/bench/oursHead.js --store DIR --runs R --epochs E [--x-passes-only]
 *
 * --x-passes-only: no training; the matrix passes over X of one epoch of R full-head runs, on
 * their own, one after the other: H = X W1 over the training and validation chunks and
 * dW1 = X^T dH over the training chunks, for both streams, W1 stacked dim x 16R (the columns the
 * engine passes; random W1 and dH). With X kept in memory as training keeps it. E such epochs;
 * secPerEpoch as above. This is the part of an epoch that any implementation of the full-batch
 * method does, with the same FLOPs (PyTorch's autograd does these two products too), so its time
 * at onnxruntime's sgemm rate is a floor for an epoch of ours, whatever the head after H costs.
 */
function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`bench/oursHead: --${name} is required`);
  return process.argv[i + 1];
}

async function xPassesOnly(store: string, runs: number, epochs: number): Promise<void> {
  const src = openEmbeddingSource(store);
  try {
    const kernel = createKernel("ort");
    const C = HIDDEN1 * runs;
    const rand = (n: number, seed: number): Float32Array => {
      const rng = new Rng(seed);
      return Float32Array.from({ length: n }, () => rng.range(-0.025, 0.025));
    };
    const w = rand(src.dim * C, 1);
    const read = (bags: number[], mode: "train" | "score"): { g: XChunk; t: XChunk }[] =>
      makeChunks(src, bags, DEFAULT_TRAIN_SETTINGS.chunkRows, mode).map((c) => ({ g: src.readGlobals(c.bagIndices), t: src.readTiles(c.bagIndices) }));
    const train = read(splitBagIndices(src.bags, "train"), "train");
    const val = read(splitBagIndices(src.bags, "val"), "score");
    const maxRows = Math.max(...[...train, ...val].flatMap((x) => [x.g.rows, x.t.rows]));
    const h = new Float32Array(maxRows * C);
    const dH = rand(maxRows * C, 2);
    const dW = new Float32Array(src.dim * C);
    const secPerEpoch: number[] = [];
    let flops = 0;
    for (let e = 0; e < epochs; e++) {
      const t0 = performance.now();
      flops = 0;
      for (const x of [...train, ...val].flatMap((c) => [c.g, c.t])) {
        await kernel.project(x, w, C, h.subarray(0, x.rows * C));
        flops += 2 * x.rows * x.dim * C;
      }
      for (const x of train.flatMap((c) => [c.g, c.t])) {
        await kernel.gradient(x, dH.subarray(0, x.rows * C), C, dW);
        flops += 2 * x.rows * x.dim * C;
      }
      secPerEpoch.push((performance.now() - t0) / 1000);
    }
    process.stdout.write(JSON.stringify({ secPerEpoch, peakRssMiB: process.resourceUsage().maxRSS / 1024, flopsPerEpoch: flops }) + "\n");
  } finally {
    src.close();
  }
}

async function main(): Promise<void> {
  const runs = Number(arg("runs"));
  const epochs = Number(arg("epochs"));
  if (process.argv.includes("--x-passes-only")) return xPassesOnly(arg("store"), runs, epochs);
  const src = openEmbeddingSource(arg("store"));
  const secPerEpoch: number[] = [];
  try {
    const res = await trainGrid({ source: src, configs: [FULL_CONFIG], seeds: Array.from({ length: runs }, (_, i) => i), epochs, patience: 10_000, progress: false, onEpoch: (e) => secPerEpoch.push(e.seconds) });
    process.stdout.write(JSON.stringify({ secPerEpoch, peakRssMiB: process.resourceUsage().maxRSS / 1024, timing: res.timing }) + "\n");
  } finally {
    src.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
