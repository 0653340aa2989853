import { openStore } from "../store/read";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { selectTfBackend } from "../util/backend";
import { float16ArrayToFloat32 } from "../store/float16";
import { writeFileAtomic } from "../util/atomic";
import { Progress } from "../util/progress";
import { resolveProjectPath } from "../util/paths";
import type { BootstrapOptions } from "../metrics";
import { ABLATION_CONFIGS, type HeadConfig } from "./config";
import { HEAD_FILES, loadHead } from "./deploy";
import type { KernelName } from "./kernel";
import { OnnxHead } from "./onnx";
import { summarizeGrid, writeTrainOutputs, type ConfigSummary } from "./results";
import { openEmbeddingSource } from "./source";
import { trainGrid, type GridResult, type TrainSettings } from "./train";

export interface RunTrainingOptions extends Partial<TrainSettings> {
  /** Embedding store folder (project-relative or absolute). */
  store: string;
  /** Output folder (project-relative or absolute). */
  out: string;
  configs?: HeadConfig[];
  /** Number of seeds (seeds are seedBase .. seedBase + n - 1); default 36. */
  seeds?: number;
  seedBase?: number;
  kernel?: KernelName;
  predictions?: "all" | "selected";
  sensitivity?: number;
  bootstrap?: BootstrapOptions;
  progress?: boolean;
}

export interface TrainingRun {
  result: GridResult;
  summaries: ConfigSummary[];
  outDir: string;
  peakRssBytes: number;
}

/** `milpf train` and the notebook: train the grid on a store, summarise, write all outputs. */
export async function runTraining(o: RunTrainingOptions): Promise<TrainingRun> {
  const storeDir = resolveProjectPath(o.store);
  const outDir = resolveProjectPath(o.out);
  const backend = await selectTfBackend();
  const source = openEmbeddingSource(storeDir);
  const nSeeds = o.seeds ?? 36;
  if (!Number.isInteger(nSeeds) || nSeeds < 1) throw new Error(`train: seeds must be a positive integer (got ${nSeeds})`);
  const seeds = Array.from({ length: nSeeds }, (_, i) => (o.seedBase ?? 0) + i);
  let peak = process.memoryUsage().rss;
  try {
    const result = await trainGrid({
      ...o,
      source,
      configs: o.configs ?? [...ABLATION_CONFIGS],
      seeds,
      onEpoch: () => {
        peak = Math.max(peak, process.memoryUsage().rss);
      },
    });
    const summaries = summarizeGrid(result, { sensitivity: o.sensitivity, bootstrap: o.bootstrap });
    writeTrainOutputs(outDir, result, summaries, {
      predictions: o.predictions,
      record: { store: storeDir, task: String(openStore(storeDir, { verify: false }).meta.params.task ?? "birads"), tfBackend: backend, host: { cpus: os.cpus().length, node: process.version } },
    });
    return { result, summaries, outDir, peakRssBytes: peak };
  } finally {
    source.close();
  }
}

/**
 * `milpf predict`: score every bag of a store with a saved head and write a predictions CSV
 * (bag_id, patient_id, split, label, score, config, seed). `engine` "js" uses the float64
 * reference scorer (loadHead), "onnx" the head's ONNX graph through onnxruntime-node.
 */
export async function predictStore(headDir: string, storeDir: string, outCsv: string, engine: "js" | "onnx" = "js", progress = true): Promise<number> {
  const head = loadHead(resolveProjectPath(headDir));
  const src = openEmbeddingSource(resolveProjectPath(storeDir));
  try {
    if (src.dim !== head.dim) throw new Error(`${storeDir}: store dim ${src.dim} does not match the head's dim ${head.dim} (${headDir})`);
    const onnxHead = engine === "onnx" ? await OnnxHead.create(path.join(resolveProjectPath(headDir), HEAD_FILES.onnx), head.dim) : null;
    const lines = ["bag_id,patient_id,split,label,score,config,seed"];
    const pr = new Progress({ label: "predict", total: src.bags.length, unit: "bags", enabled: progress });
    const f32 = (x: { data: Float32Array | Uint16Array; dtype: string }): Float32Array => {
      return x.dtype === "float32" ? (x.data as Float32Array) : float16ArrayToFloat32(x.data as Uint16Array);
    };
    for (let b = 0; b < src.bags.length; b++) {
      const g = src.readGlobals([b]);
      const t = src.readTiles([b]);
      const gf = f32(g);
      const tf = f32(t);
      const p = onnxHead ? (await onnxHead.scoreBag(gf, g.rows, tf, t.rows)).probability : head.scoreBag(gf, g.rows, tf, t.rows).probability;
      const bag = src.bags[b];
      lines.push([bag.bagId, bag.patientId, bag.split, bag.label, p.toPrecision(7), head.config.name, head.seed].join(","));
      pr.tick();
    }
    const out = resolveProjectPath(outCsv);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, lines.join("\n") + "\n");
    return src.bags.length;
  } finally {
    src.close();
  }
}

/** A few lines about a finished training run (for the notebook and logs). */
export function describeTraining(run: TrainingRun): string {
  const r = run.result;
  const t = r.timing;
  const lines = [
    `${r.runs.length} runs (${new Set(r.runs.map((x) => x.config.name)).size} configs x ${new Set(r.runs.map((x) => x.seed)).size} seeds) on ${r.bags.length} bags, D = ${r.dim}`,
    `${t.epochs} epochs in ${t.seconds.toFixed(1)} s: X passes ${t.xPassSeconds.toFixed(1)} s (${(t.xPassFlops / Math.max(t.xPassSeconds, 1e-9) / 1e9).toFixed(1)} GFLOP/s, kernel ${r.kernel}), head after H ${t.headSeconds.toFixed(1)} s (${r.postH}), reads ${t.readSeconds.toFixed(1)} s`,
    `epochs run per run: median ${median(r.runs.map((x) => x.epochsRun))}, max ${Math.max(...r.runs.map((x) => x.epochsRun))}; peak RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    `outputs: ${run.outDir}`,
  ];
  return lines.join("\n");
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
