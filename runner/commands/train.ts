import { addConfigOptions, configValue, numberOption, resolvePathOptions } from "./options";
import type { Command } from "commander";
import * as path from "node:path";
import { resolveShard } from "./embed";
import { TRAIN_STAGE } from "../../lib/head/stageConfig";
import { configsByName, predictStore, runTraining, writeSyntheticStore, SYNTH_DEFAULTS, type KernelName } from "../../lib/head";
import { DEFAULT_PATHS, resolveProjectPath } from "../../lib/util/paths";

/** Subcommands of the train stage: synth-embeddings, train, predict. */
export function register(program: Command): void {
  program
    .command("synth-embeddings")
    .description("write a synthetic embedding store with a sparse positive signal (for tests and benchmarks)")
    .requiredOption("--out <dir>", "store folder to write")
    .option("--bags <n>", "number of bags (2 per patient)", "10000")
    .option("--tiles <n>", "tiles per bag", "60")
    .option("--views <n>", "views (global embeddings) per bag", String(SYNTH_DEFAULTS.viewsPerBag))
    .option("--dim <n>", "embedding dimension", "1536")
    .option("--seed <n>", "seed", "0")
    .option("--prevalence <p>", "fraction of positive bags", String(SYNTH_DEFAULTS.prevalence))
    .option("--positive-tiles <n>", "tiles carrying the signal in a positive bag", String(SYNTH_DEFAULTS.positiveTilesPerBag))
    .option("--signal <s>", "signal strength of a positive tile", String(SYNTH_DEFAULTS.signalStrength))
    .option("--dtype <t>", "float16 or float32", "float16")
    .action((o: Record<string, string>, cmd: Command) => {
      resolvePathOptions(cmd, o, ["out"]);
      if (o.dtype !== "float16" && o.dtype !== "float32") throw new Error(`--dtype must be float16 or float32, got '${o.dtype}'`);
      const t0 = Date.now();
      const r = writeSyntheticStore(resolveProjectPath(o.out), {
        bags: numberOption(o.bags, "bags", { int: true, min: 10 }),
        tilesPerBag: numberOption(o.tiles, "tiles", { int: true, min: 0 }),
        viewsPerBag: numberOption(o.views, "views", { int: true, min: 1 }),
        dim: numberOption(o.dim, "dim", { int: true, min: 2 }),
        seed: numberOption(o.seed, "seed", { int: true }),
        prevalence: numberOption(o.prevalence, "prevalence"),
        positiveTilesPerBag: numberOption(o.positiveTiles, "positive-tiles", { int: true, min: 0 }),
        signalStrength: numberOption(o.signal, "signal"),
      }, o.dtype);
      process.stdout.write(`synth-embeddings: ${r.bags} bags, ${r.tiles} tiles -> ${o.out} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    });

  const trainCommand = program
    .command("train")
    .description("train the MIL-PF head: configs x seeds together, early stopping on validation AUC, selection, outputs");
  addConfigOptions(trainCommand, TRAIN_STAGE);
  trainCommand
    .option("--seed-base <n>", "first seed", "0")
    .option("--min-delta <x>", "minimum validation AUC improvement", "0.001")
    .option("--lr <x>", "Adam learning rate", "0.002")
    .option("--weight-decay <x>", "Adam weight decay (L2 in the gradient, as PyTorch Adam)", "0.0001")
    .option("--chunk-rows <n>", "padded tile rows per streamed chunk", "8192")
    .option("--kernel <k>", "X-pass kernel: ort, tfjs or js", "ort")
    .option("--seeds-per-unit <n>", "seeds per resumable unit: a finished unit is kept and reused by a later run with the same store and settings", "6")
    .option("--no-progress", "no progress lines")
    .option("--predictions <which>", "all runs or only the selected run per config", "all")
    .option("--shard <K/N>", "train only shard K of N of the units of seeds (unit i -> shard i mod N); writes the units and stops (join with --merge-units)")
    .option("--shard-count <N>", "N shards, K from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID")
    .option("--merge-units <dirs>", "comma-separated shard folders: copy their units in, reuse all of them (a missing one is an error), write the outputs")
    .action(async (o: Record<string, string>, cmd: Command) => {
      resolvePathOptions(cmd, o, ["store", "out"]);
      const shard = resolveShard({ shard: o.shard, shardCount: o.shardCount }, process.env, "train");
      const mergeUnits = o.mergeUnits ? o.mergeUnits.split(",").filter((d) => d.trim() !== "").map((d) => path.resolve(d.trim())) : undefined;
      if (!["ort", "tfjs", "js"].includes(o.kernel)) throw new Error(`--kernel must be ort, tfjs or js, got '${o.kernel}'`);
      if (o.predictions !== "all" && o.predictions !== "selected") throw new Error(`--predictions must be all or selected, got '${o.predictions}'`);
      // the stage config's fields: --flag <-> field (help, defaults and checks from lib/head/stageConfig.ts)
      const cfg = (field: keyof typeof TRAIN_STAGE, text: string): number => configValue("train", TRAIN_STAGE, field, text);
      const boot = cfg("bootstrap", o.bootstrap);
      const run = await runTraining({
        store: o.store,
        out: o.out,
        configs: configsByName(configValue<string>("train", TRAIN_STAGE, "configs", o.configs)),
        seeds: cfg("seeds", o.seeds),
        seedBase: numberOption(o.seedBase, "seed-base", { int: true }),
        epochs: cfg("epochs", o.epochs),
        patience: cfg("patience", o.patience),
        minDelta: numberOption(o.minDelta, "min-delta", { min: 0 }),
        startEpoch: cfg("startEpoch", o.startEpoch),
        lr: numberOption(o.lr, "lr", { min: 0 }),
        weightDecay: numberOption(o.weightDecay, "weight-decay", { min: 0 }),
        chunkRows: numberOption(o.chunkRows, "chunk-rows", { int: true, min: 1 }),
        kernel: o.kernel as KernelName,
        seedsPerUnit: numberOption(o.seedsPerUnit, "seeds-per-unit", { int: true, min: 1 }),
        progress: (o as Record<string, unknown>).progress !== false,
        predictions: o.predictions,
        bootstrap: boot > 0 ? { iterations: boot, seed: 0 } : undefined,
        shard: shard ?? undefined,
        mergeUnits,
      });
      const t = run.result.timing;
      process.stdout.write(`train: ${run.result.runs.length} runs, ${t.epochs} epochs in ${t.seconds.toFixed(1)} s (X passes ${t.xPassSeconds.toFixed(1)} s, head after H ${t.headSeconds.toFixed(1)} s) -> ${run.outDir}\n`);
      const w = run.work;
      process.stdout.write(
        `train: ${w.units} unit(s) of seeds${run.shard ? ` (shard ${run.shard.index}/${run.shard.count})` : ""}: ${w.trained} trained${w.reasons ? ` (${w.reasons})` : ""}, ${w.reused} reused` +
          `${w.merged ? `; ${w.merged} unit(s) merged from ${mergeUnits?.length ?? 0} shard folder(s)` : ""}${w.cleaned ? `; removed ${w.cleaned} temporary file(s) of a killed run` : ""}\n`,
      );
      if (run.shard) process.stdout.write(`train: shard ${run.shard.index}/${run.shard.count} done; join the shards with \`milpf train --merge-units <folders> --out <dir>\` and the same settings\n`);
      for (const s of run.summaries) {
        process.stdout.write(
          `  ${s.config.padEnd(16)} selected seed ${s.selectedSeed} val AUC ${s.selectedValAuc.toFixed(3)} test AUC ${s.selected.test.auc.toFixed(3)} Spec@Sens0.9 ${s.selected.test.specificityAtSensitivity.toFixed(3)} | test AUC over seeds ${s.spread.testAuc.mean.toFixed(3)} +- ${s.spread.testAuc.sd.toFixed(3)}\n`,
        );
      }
    });

  program
    .command("predict")
    .description("score every bag of a store with a saved head; write a predictions CSV")
    .requiredOption("--head <dir>", "head folder (head.json, weights.bin, head.onnx)")
    .option("--store <dir>", "embedding store", DEFAULT_PATHS.embeddings)
    .requiredOption("--out <file>", "predictions CSV to write")
    .option("--engine <e>", "js (reference scorer) or onnx (onnxruntime-node)", "js")
    .action(async (o: Record<string, string>, cmd: Command) => {
      resolvePathOptions(cmd, o, ["head", "store", "out"]);
      if (o.engine !== "js" && o.engine !== "onnx") throw new Error(`--engine must be js or onnx, got '${o.engine}'`);
      const n = await predictStore(o.head, o.store, o.out, o.engine);
      process.stdout.write(`predict: ${n} bags -> ${o.out}\n`);
    });
}
