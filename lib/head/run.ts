import { TRAIN_STAGE } from "./stageConfig";
import { STORE_FILES, type StoreMeta } from "../store/format";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { selectTfBackend } from "../util/backend";
import { readJson, writeFileAtomic } from "../util/atomic";
import { runStage } from "../util/stageRun";
import type { WorkIdentity } from "../util/workId";
import { Progress } from "../util/progress";
import { resolveProjectPath } from "../util/paths";
import { toCsv } from "../util/table";
import type { BootstrapOptions } from "../metrics";
import { ABLATION_CONFIGS, validateConfig, type HeadConfig } from "./config";
import { HEAD_FILES, loadHead } from "./deploy";
import type { KernelName } from "./kernel";
import { OnnxHead } from "./onnx";
import { PREDICTION_COLUMNS, predictionRow, summarizeGrid, writeTrainOutputs, type ConfigSummary } from "./results";
import { asFloat32, openEmbeddingSource, type EmbeddingSource } from "./source";
import type { PostH } from "./postH";
import { resolveTrainSettings, trainGrid, type GridResult, type TrainSettings, type TrainTiming } from "./train";
import { loadUnit, seedBlocks, storeContentId, UNITS_DIR, unitIdentity, unitName, unitParamsDiff, writeUnit, type LoadedUnit } from "./units";

export interface RunTrainingOptions extends Partial<TrainSettings> {
  /** Embedding store folder (project-relative or absolute). */
  store: string;
  /** Output folder (project-relative or absolute). */
  out: string;
  configs?: HeadConfig[];
  /** Number of seeds (seeds are seedBase .. seedBase + n - 1); default TRAIN_STAGE.seeds (36, the paper's). */
  seeds?: number;
  seedBase?: number;
  kernel?: KernelName;
  /** The head after H (see TrainGridOptions.postH). */
  postH?: PostH;
  /**
   * Seeds per resumable unit (lib/head/units.ts; default 6): every config of those seeds
   * trains together and is saved when done, so a killed or extended run redoes only the
   * unfinished units.
   */
  seedsPerUnit?: number;
  predictions?: "all" | "selected";
  /**
   * Train only this shard of the units (unit i goes to shard i mod count), as embedding shards
   * do across machines: the run writes its units and stops (no selection, no outputs, no
   * stage.json). A later run with `mergeUnits` (or on a shared folder) joins them.
   */
  shard?: { index: number; count: number };
  /**
   * Training run folders (shards) whose finished units are copied in first; the run must then
   * reuse every unit (a missing one is an error naming it and the given folders that held no
   * unit; a unit trained with other settings is an error saying what differs), so the merged
   * run trains nothing and writes what one unsharded run would.
   */
  mergeUnits?: string[];
  sensitivity?: number;
  bootstrap?: BootstrapOptions;
  progress?: boolean;
}

export interface TrainingRun {
  result: GridResult;
  /** Empty for a shard run (it stops after its units). */
  summaries: ConfigSummary[];
  outDir: string;
  peakRssBytes: number;
  work: TrainWork;
  /** Set for a shard run. */
  shard?: { index: number; count: number };
}

/**
 * Copy the unit files of shard folders into `<out>/units/` (atomic writes; an existing file of
 * the same name is replaced). They are verified on load like any unit (checksum and identity).
 * A folder with no unit (not there, or a shard that got no unit: more shards than units) is not
 * an error here: the merge needs every unit of the grid, and a missing one is reported with
 * these folders. Returns the number of units copied and the folders without units.
 */
function copyUnits(shardDirs: string[], outDir: string): { units: number; empty: string[] } {
  let units = 0;
  const empty: string[] = [];
  for (const dir of shardDirs) {
    const from = path.join(dir, UNITS_DIR);
    const names = fs.existsSync(from) ? fs.readdirSync(from).filter((name) => /^seeds-\d+-\d+\.(json|bin)$/.test(name)) : [];
    for (const name of names) {
      writeFileAtomic(path.join(outDir, UNITS_DIR, name), fs.readFileSync(path.join(from, name)));
      if (name.endsWith(".json")) units++;
    }
    if (!names.some((name) => name.endsWith(".json"))) empty.push(fs.existsSync(dir) ? `${dir} (empty)` : `${dir} (no such folder)`);
  }
  return { units, empty };
}

/** `milpf train` and the notebook: train the grid on a store, summarise, write all outputs. */
export async function runTraining(o: RunTrainingOptions): Promise<TrainingRun> {
  const storeDir = resolveProjectPath(o.store);
  const outDir = resolveProjectPath(o.out);
  const nSeeds = o.seeds ?? TRAIN_STAGE.seeds.default;
  if (!Number.isInteger(nSeeds) || nSeeds < 1) throw new Error(`train: seeds must be a positive integer (got ${nSeeds})`);
  const seeds = Array.from({ length: nSeeds }, (_, i) => (o.seedBase ?? 0) + i);
  const configs = (o.configs ?? [...ABLATION_CONFIGS]).map(validateConfig);
  const settings = resolveTrainSettings(o);
  const kernelName = o.kernel ?? "ort";
  const postH = o.postH ?? "js";
  const allBlocks = seedBlocks(seeds, o.seedsPerUnit ?? 6);
  const shard = o.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count))
    throw new Error(`train: shard ${shard.index}/${shard.count} is not a shard K/N with 0 <= K < N`);
  if (shard && o.mergeUnits?.length) throw new Error("train: a run is either one shard or the merge of shards, not both");
  const blocks = shard ? allBlocks.filter((_, i) => i % shard.count === shard.index) : allBlocks;
  const merge = Boolean(o.mergeUnits?.length);
  const unitOf = (s: TrainState, block: number[]): WorkIdentity => unitIdentity(s.storeId, configs, block, settings, kernelName, postH);
  let peak = process.memoryUsage().rss;
  const { value } = await runStage<TrainState, number[], LoadedUnit, TrainingRun>({
    stage: "train",
    outDir,
    config: { spec: TRAIN_STAGE, given: { seeds: nSeeds, epochs: o.epochs, patience: o.patience, startEpoch: o.startEpoch } },
    say: (line) => console.error(`train: ${line}`),
    unit: "unit(s) of seeds",
    open: async () => {
      const copied = merge ? copyUnits((o.mergeUnits ?? []).map((d) => resolveProjectPath(d)), outDir) : { units: 0, empty: [] };
      const backend = await selectTfBackend();
      const meta = readJson<StoreMeta>(path.join(storeDir, STORE_FILES.meta));
      return { merged: copied.units, mergeEmpty: copied.empty, backend, meta, storeId: storeContentId(meta), source: openEmbeddingSource(storeDir) };
    },
    close: ({ source }) => source.close(),
    items: () => ({ items: blocks }),
    id: unitName,
    check: (block, s) => {
      const have = loadUnit(outDir, block, unitOf(s, block), s.source.dim, s.source.bags.length);
      if ("runs" in have) return { reuse: have };
      if (merge) {
        const differs = have.reason === "parameters changed" ? unitParamsDiff(outDir, block, { configs, settings, kernel: kernelName, postH }) : "";
        const empty = s.mergeEmpty.length ? `; shard folder(s) without units: ${s.mergeEmpty.join(", ")}` : "";
        throw new Error(
          `train merge: unit ${unitName(block)} (seeds ${block[0]}-${block[block.length - 1]}) is not in the shards given (${have.reason}${differs ? `: ${differs}` : ""})${empty}; run its shard, or train without --merge-units to train it here`,
        );
      }
      return have;
    },
    compute: async (block, s) => {
      const grid = await trainGrid({
        ...o,
        ...settings,
        source: s.source,
        configs,
        seeds: block,
        kernel: kernelName,
        postH,
        onEpoch: () => {
          peak = Math.max(peak, process.memoryUsage().rss);
        },
      });
      writeUnit(outDir, unitOf(s, block), block, configs, grid);
      return { runs: grid.runs, timing: grid.timing };
    },
    // a unit that cannot train stops the run: the grid's tables need every seed
    onItemError: "stop",
    // trainGrid shows its own progress (epochs)
    progress: null,
    finish: ({ source, meta, storeId, backend, merged, mergeEmpty }, w, ctx) => {
      const units = w.results.filter((u): u is LoadedUnit => u !== undefined);
      const runs = units.flatMap((u) => u.runs);
      const result: GridResult = { dim: source.dim, bags: source.bags, settings, kernel: kernelName, postH, runs, timing: sumTimings(units.map((u) => u.timing)) };
      const work: TrainWork = { units: blocks.length, reused: w.reused, trained: w.done, reasons: w.reasons, cleaned: ctx.cleaned.length };
      if (shard) return { value: { result, summaries: [], outDir, peakRssBytes: peak, work, shard }, record: null };
      work.merged = merged;
      if (mergeEmpty.length) console.error(`train: merge: shard folder(s) without units: ${mergeEmpty.join(", ")}; every unit was in the other folders`);
      // config-major, then seed: the order trainGrid gives for the whole grid
      runs.sort((a, b) => configs.findIndex((c) => c.name === a.config.name) - configs.findIndex((c) => c.name === b.config.name) || a.seed - b.seed);
      const summaries = summarizeGrid(result, { sensitivity: o.sensitivity, bootstrap: o.bootstrap });
      const record = { store: storeDir, storeId, task: String(meta.params.task ?? "birads"), tfBackend: backend, host: { cpus: os.cpus().length, node: process.version } };
      writeTrainOutputs(outDir, result, summaries, { predictions: o.predictions, record });
      return {
        value: { result, summaries, outDir, peakRssBytes: peak, work },
        record: {
          config: { configs: configs.map((c) => c.name), seeds, seedsPerUnit: o.seedsPerUnit ?? 6, settings, kernel: kernelName, postH, predictions: o.predictions ?? "all", sensitivity: o.sensitivity ?? 0.9, bootstrap: o.bootstrap ?? null },
          inputs: { store: storeDir, storeId },
          upstream: { embed: { encoder: meta.encoder, params: meta.params, createdAt: meta.createdAt } },
          extra: { work },
        },
      };
    },
  });
  return value;
}

/** What the train stage holds while it runs: the store (open) and its identity. */
interface TrainState {
  /** Units copied in from shard folders. */
  merged: number;
  /** Shard folders given that held no unit. */
  mergeEmpty: string[];
  backend: Awaited<ReturnType<typeof selectTfBackend>>;
  meta: StoreMeta;
  storeId: string;
  source: EmbeddingSource;
}

/** What a training run did: units of seeds trained and reused (with the reasons for the trained ones). */
export interface TrainWork {
  units: number;
  reused: number;
  trained: number;
  /** "2 new, 1 parameters changed"; empty when every unit was reused. */
  reasons: string;
  /** Temporary files of killed runs removed at the start. */
  cleaned: number;
  /** Units copied in from shard folders (mergeUnits). */
  merged?: number;
}

function sumTimings(ts: TrainTiming[]): TrainTiming {
  const out: TrainTiming = { epochs: 0, seconds: 0, xPassSeconds: 0, headSeconds: 0, readSeconds: 0, xCachedBytes: 0, xPassFlops: 0 };
  for (const t of ts) {
    out.epochs += t.epochs;
    out.seconds += t.seconds;
    out.xPassSeconds += t.xPassSeconds;
    out.headSeconds += t.headSeconds;
    out.readSeconds += t.readSeconds;
    out.xPassFlops += t.xPassFlops;
    out.xCachedBytes = Math.max(out.xCachedBytes, t.xCachedBytes);
  }
  return out;
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
    const rows: unknown[][] = [];
    const pr = new Progress({ label: "predict", total: src.bags.length, unit: "bags", enabled: progress });
    for (let b = 0; b < src.bags.length; b++) {
      const g = src.readGlobals([b]);
      const t = src.readTiles([b]);
      const gf = asFloat32(g);
      const tf = asFloat32(t);
      const p = onnxHead ? (await onnxHead.scoreBag(gf, g.rows, tf, t.rows)).probability : head.scoreBag(gf, g.rows, tf, t.rows).probability;
      const bag = src.bags[b];
      rows.push(predictionRow(bag, p, head.config.name, head.seed));
      pr.tick();
    }
    const out = resolveProjectPath(outCsv);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, toCsv({ columns: PREDICTION_COLUMNS, rows }));
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
    `work: ${run.work.units} unit(s) of seeds, ${run.work.trained} trained${run.work.reasons ? ` (${run.work.reasons})` : ""}, ${run.work.reused} reused${run.work.cleaned ? `; removed ${run.work.cleaned} temporary file(s) of a killed run` : ""}`,
    `outputs: ${run.outDir}`,
  ];
  return lines.join("\n");
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
