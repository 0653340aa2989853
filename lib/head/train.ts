import * as os from "node:os";
import type { StoreBag } from "../types";
import { Progress } from "../util/progress";
import { rocAucOrNaN } from "../metrics/roc";
import { adamStep } from "./adam";
import { makeChunks, splitBagIndices } from "./chunks";
import { validateConfig, type HeadConfig } from "./config";
import { Engine } from "./engine";
import { createKernel, type KernelName, type XKernel } from "./kernel";
import { cloneParams, initParams, type HeadParams } from "./params";
import type { PostH } from "./postH";
import { RowgradPool } from "./rowgradPool";
import { stateFor, type RunState } from "./runState";
import type { EmbeddingSource } from "./source";

/**
 * Grid training: every (config, seed) run on one source together (trainGrid), its settings and
 * results. The work is split over chunks.ts (bags cut into padded chunks), engine.ts (the X passes
 * and the head after H for all runs at once), runState.ts (one run's state) and adam.ts (the update).
 */
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
