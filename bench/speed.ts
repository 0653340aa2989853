import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Benchmark, BenchResult } from "./harness";
import { ABLATION_CONFIGS, FULL_CONFIG, openEmbeddingSource, trainGrid, writeSyntheticStore, type HeadConfig } from "../lib/head";
import { float16ArrayToFloat32 } from "../lib/store/float16";
import { projectRoot } from "../lib/util/paths";

/**
 * Speed of head training against what a user would pick instead, and the whole Table 4 grid:
 *   float16         float16 -> float32 decoding rate (GB/s of float16 read)
 *   train-vs-torch  s/epoch of trainGrid vs a PyTorch-CPU port of the same head (bench/torch_head.py,
 *                   Debian's python3-torch), alternating, on generated float16 stores; with, for
 *                   the stacked cases, the X passes alone (bench/oursHead.ts --x-passes-only), the
 *                   floor of ours / torch on the machine
 *   grid            the 9-config x 36-seed grid with the real early stopping, wall time measured
 * Sizes come from the environment (defaults = the paper-scale settings of issue 14), so that a
 * reduced run can validate the set-up on a shared machine:
 *   MILPF_BENCH_DIR                  where generated stores live (default <tmp>/milpf-bench)
 *   MILPF_BENCH_TORCH_SIZES          "2000x30,10000x60" (bags x tiles, D = 1536)
 *   MILPF_BENCH_TORCH_RUNS           "1,36"; MILPF_BENCH_TORCH_ROUNDS 2; MILPF_BENCH_TORCH_EPOCHS 3
 *   MILPF_BENCH_TORCH_LOOP           runs for "torch looping over runs" on the first size (36; 0 = skip)
 *   MILPF_BENCH_GRID_STORE           "10000x60"; MILPF_BENCH_GRID_CONFIGS 9 (first N of Table 4, or names a,b)
 *   MILPF_BENCH_GRID_SEEDS           36; MILPF_BENCH_GRID_EPOCHS 700 (the authors' maximum)
 */
const DIM = 1536;
const env = (k: string, d: string): string => process.env[k] ?? d;

function parseSize(s: string): { bags: number; tiles: number } {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`bench size "${s}": expected BAGSxTILES, e.g. 2000x30`);
  return { bags: Number(m[1]), tiles: Number(m[2]) };
}

/** A generated float16 store (synth-embeddings, seed 1), made once and reused. */
export function benchStore(bags: number, tiles: number): { dir: string; bytes: number; generatedSeconds: number | null } {
  const dir = path.join(env("MILPF_BENCH_DIR", path.join(os.tmpdir(), "milpf-bench")), `synth-${bags}x${tiles}x${DIM}-f16`);
  let generatedSeconds: number | null = null;
  if (!fs.existsSync(path.join(dir, "store.json"))) {
    const t0 = performance.now();
    writeSyntheticStore(dir, { bags, tilesPerBag: tiles, viewsPerBag: 2, dim: DIM, seed: 1, prevalence: 0.3, positiveTilesPerBag: 3 }, "float16");
    generatedSeconds = (performance.now() - t0) / 1000;
  }
  const bytes = ["tiles.bin", "globals.bin"].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  return { dir, bytes, generatedSeconds };
}

export function machine(): Record<string, unknown> {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot(), encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: projectRoot(), encoding: "utf8" }).trim();
    if (dirty) commit += "+dirty";
  } catch {
    // not a git checkout
  }
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, commit };
}

export const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(" ");
export const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const float16: Benchmark = {
  name: "float16",
  description: "float16 -> float32 decoding (GB/s of float16 read), one thread",
  async run(): Promise<BenchResult> {
    const n = 1 << 24;
    const src = new Uint16Array(n);
    for (let i = 0; i < n; i++) src[i] = (i * 2654435761) >>> 16; // every bit pattern class, cache-unfriendly order
    const dst = new Float32Array(n);
    float16ArrayToFloat32(src, dst);
    const rates: number[] = [];
    const cpuRates: number[] = [];
    for (let r = 0; r < 5; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      float16ArrayToFloat32(src, dst);
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      rates.push((n * 2) / wall / 1e9);
      cpuRates.push((n * 2) / ((c.user + c.system) / 1e6) / 1e9);
    }
    return {
      name: "float16",
      rows: [{ elements: n, "median GB/s": median(rates), "best GB/s": Math.max(...rates), "median GB/CPU-s": median(cpuRates) }],
      notes: [`load average ${loadavg()} (shared machine: GB/CPU-s divides by this thread's CPU time, steadier than wall-clock GB/s)`],
      context: machine(),
    };
  },
};

/** One side's measurement of a case: s/epoch (median of epochs 2..E: epoch 1 creates the sessions and fills the X kept in memory) and the process's peak RSS. */
interface SideResult {
  secPerEpoch: number;
  peakRssMiB: number;
}

/** Run a bench child process and parse its last stdout line (JSON with secPerEpoch[] and peakRssMiB). */
function child(cmd: string, args: string[]): SideResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as { secPerEpoch: number[]; peakRssMiB: number };
  return { secPerEpoch: median(out.secPerEpoch.slice(1)), peakRssMiB: out.peakRssMiB };
}

/** trainGrid in a child process (bench/oursHead.ts), so that its peak RSS is this case's alone. */
function ours(dir: string, runs: number, epochs: number, xPassesOnly = false): SideResult {
  return child(process.execPath, [path.join(__dirname, "oursHead.js"), "--store", dir, "--runs", String(runs), "--epochs", String(epochs), ...(xPassesOnly ? ["--x-passes-only"] : [])]);
}

/** Debian's python (its python3-torch, -pydicom, -opencv), not a pyenv shim on the PATH. */
export const PYTHON = "/usr/bin/python3";

function torchAvailable(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The PyTorch port (bench/torch_head.py) in a child process. */
function torch(dir: string, runs: number, epochs: number, mode: "stacked" | "loop"): SideResult {
  return child(PYTHON, [path.join(projectRoot(), "bench", "torch_head.py"), "--store", dir, "--runs", String(runs), "--epochs", String(epochs), "--mode", mode]);
}

const vsTorch: Benchmark = {
  name: "train-vs-torch",
  description: "trainGrid vs a PyTorch-CPU port of the same head (python3-torch), s/epoch side by side, alternating",
  async run(): Promise<BenchResult> {
    const torchVersion = torchAvailable();
    if (!torchVersion) {
      console.error(`train-vs-torch: skipped: ${PYTHON} cannot import torch and numpy (Debian: apt-get install python3-torch)`);
      return { name: "train-vs-torch", rows: [], notes: ["skipped: python3-torch not installed"], context: machine() };
    }
    const sizes = env("MILPF_BENCH_TORCH_SIZES", "2000x30,10000x60").split(",").map(parseSize);
    const runsList = env("MILPF_BENCH_TORCH_RUNS", "1,36").split(",").map(Number);
    const rounds = Number(env("MILPF_BENCH_TORCH_ROUNDS", "2"));
    const epochs = Number(env("MILPF_BENCH_TORCH_EPOCHS", "3"));
    const loopRuns = Number(env("MILPF_BENCH_TORCH_LOOP", "36"));
    const rows: Record<string, number | string>[] = [];
    const load0 = loadavg();
    const cases: { size: { bags: number; tiles: number }; runs: number; mode: "stacked" | "loop" }[] = [];
    for (const size of sizes) for (const runs of runsList) cases.push({ size, runs, mode: "stacked" });
    if (loopRuns > 0) cases.push({ size: sizes[0], runs: loopRuns, mode: "loop" });
    for (const c of cases) {
      const store = benchStore(c.size.bags, c.size.tiles);
      const mine: SideResult[] = [];
      const theirs: SideResult[] = [];
      // the X passes alone (stacked cases): a floor for ours, next to each round's torch
      const floor: SideResult[] = [];
      for (let r = 0; r < rounds; r++) {
        // alternate the order between rounds so that drifting load hits both sides alike
        if (r % 2 === 0) {
          mine.push(ours(store.dir, c.runs, epochs));
          if (c.mode === "stacked") floor.push(ours(store.dir, c.runs, epochs, true));
          theirs.push(torch(store.dir, c.runs, epochs, c.mode));
        } else {
          theirs.push(torch(store.dir, c.runs, epochs, c.mode));
          if (c.mode === "stacked") floor.push(ours(store.dir, c.runs, epochs, true));
          mine.push(ours(store.dir, c.runs, epochs));
        }
      }
      const ratios = mine.map((o, i) => o.secPerEpoch / theirs[i].secPerEpoch);
      const floorRatios = floor.map((o, i) => o.secPerEpoch / theirs[i].secPerEpoch);
      const storeMiB = store.bytes / 2 ** 20;
      const rss = (a: SideResult[]): number => Math.max(...a.map((x) => x.peakRssMiB));
      rows.push({
        workload: `${c.size.bags} x ${c.size.tiles} x ${DIM}`,
        runs: c.runs,
        torch: c.mode === "stacked" ? "stacked (einsum)" : "looping over runs",
        "ours s/epoch": median(mine.map((x) => x.secPerEpoch)),
        "torch s/epoch": median(theirs.map((x) => x.secPerEpoch)),
        "ratio ours/torch (per round)": ratios.map((x) => x.toFixed(2)).join(" "),
        "median ratio": median(ratios),
        ...(floor.length
          ? {
              "X passes alone s/epoch": median(floor.map((x) => x.secPerEpoch)),
              "X passes alone / torch (per round)": floorRatios.map((x) => x.toFixed(2)).join(" "),
              "median X passes alone / torch": median(floorRatios),
            }
          : {}),
        "store MiB": storeMiB,
        "ours peak RSS / store": rss(mine) / storeMiB,
        "torch peak RSS / store": rss(theirs) / storeMiB,
        load: loadavg(),
      });
    }
    return {
      name: "train-vs-torch",
      rows,
      notes: [
        "full head (max+attn); s/epoch = median of epochs 2..E of each process (epoch 1 creates sessions / fills memory); ratio < 1: ours faster; each side runs in its own process (peak RSS = that process's)",
        `ours: trainGrid (ORT X passes, float16 X kept in memory, head after H on worker threads); torch ${torchVersion}: bench/torch_head.py, ${os.cpus().length} threads, X as float32 in memory`,
        `rounds alternate the order; load average at start ${load0}, end ${loadavg()} (the machine is shared: compare ratios, not absolute times)`,
        "X passes alone (bench/oursHead.ts --x-passes-only): one epoch's H = X W1 (training and validation rows) and dW1 = X^T dH (training rows) for all runs, W1 stacked dim x 16R, through onnxruntime, nothing else; the same two products with the same FLOPs are in torch's epoch (its forward and autograd), so ours / torch cannot go below X passes alone / torch without a faster sgemm",
      ],
      context: machine(),
    };
  },
};

const grid: Benchmark = {
  name: "grid",
  description: "the whole Table 4 grid (9 configs x 36 seeds) with real early stopping on a generated store: wall time, epochs, peak RSS",
  async run(): Promise<BenchResult> {
    const size = parseSize(env("MILPF_BENCH_GRID_STORE", "10000x60"));
    // a count (the first N of Table 4) or a comma-separated list of config names
    const cfgSpec = env("MILPF_BENCH_GRID_CONFIGS", String(ABLATION_CONFIGS.length));
    const configs: HeadConfig[] = /^\d+$/.test(cfgSpec)
      ? ABLATION_CONFIGS.slice(0, Number(cfgSpec))
      : cfgSpec.split(",").map((n) => {
          const c = ABLATION_CONFIGS.find((x) => x.name === n.trim());
          if (!c) throw new Error(`MILPF_BENCH_GRID_CONFIGS: unknown config "${n}" (${ABLATION_CONFIGS.map((x) => x.name).join(", ")})`);
          return c;
        });
    const nConfigs = configs.length;
    const nSeeds = Number(env("MILPF_BENCH_GRID_SEEDS", "36"));
    const epochs = Number(env("MILPF_BENCH_GRID_EPOCHS", "700"));
    const full = size.bags === 10000 && size.tiles === 60 && nConfigs === ABLATION_CONFIGS.length && nSeeds === 36 && epochs === 700;
    const store = benchStore(size.bags, size.tiles);
    const load0 = loadavg();
    const src = openEmbeddingSource(store.dir);
    const active: number[] = [];
    const epochSeconds: number[] = [];
    const t0 = performance.now();
    let res;
    try {
      res = await trainGrid({
        source: src,
        configs,
        seeds: Array.from({ length: nSeeds }, (_, i) => i),
        epochs,
        progress: false,
        onEpoch: (e) => {
          active.push(e.activeRuns);
          epochSeconds.push(e.seconds);
          // one line per epoch: the whole grid runs for an hour or more
          console.error(`grid: epoch ${e.epoch}: ${e.activeRuns} active runs, ${e.seconds.toFixed(1)} s (X passes ${e.xPassSeconds.toFixed(1)} s), load ${loadavg()}`);
        },
      });
    } finally {
      src.close();
    }
    const wall = (performance.now() - t0) / 1000;
    const ep = res.runs.map((r) => r.epochsRun);
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    const name = full ? "grid" : `grid-${size.bags}x${size.tiles}-${nConfigs}x${nSeeds}-e${epochs}`;
    return {
      name,
      rows: [
        {
          store: `${size.bags} x ${size.tiles} x ${DIM} float16`,
          configs: configs.map((c) => c.name).join(" "),
          runs: res.runs.length,
          "wall s": wall,
          "wall h": wall / 3600,
          epochs: res.timing.epochs,
          "epochs/run mean": ep.reduce((a, b) => a + b, 0) / ep.length,
          "epochs/run min": Math.min(...ep),
          "epochs/run max": Math.max(...ep),
          "X-pass s": res.timing.xPassSeconds,
          "head wait s": res.timing.headSeconds,
          "X kept MiB": res.timing.xCachedBytes / 2 ** 20,
          "peak RSS MiB": rssMiB,
          "peak RSS / store": rssMiB / (store.bytes / 2 ** 20),
        },
      ],
      notes: [
        full ? "the full paper-scale grid" : "REDUCED grid (set MILPF_BENCH_GRID_* for the full one: 10000x60, 9 configs, 36 seeds, 700 epochs)",
        `authors' early stopping (patience 20, min delta 0.001, from epoch 0); active runs per epoch: ${active.join(",")}`,
        `seconds per epoch: ${epochSeconds.map((s) => s.toFixed(1)).join(",")}`,
        `load average at start ${load0}, at end ${loadavg()}; store generated ${store.generatedSeconds === null ? "before" : `now in ${store.generatedSeconds.toFixed(0)} s (peak RSS includes it)`}`,
      ],
      context: { ...machine(), storeBytes: store.bytes, store: store.dir },
    };
  },
};

export const speedBenchmarks: Benchmark[] = [float16, vsTorch, grid];
