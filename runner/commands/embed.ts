import { EMBED_STAGE } from "../../lib/embed/stageConfig";
import { cliPath, addConfigOptions, configValue, numberOption, resolvePathOptions, writeRedone } from "./options";
import type { Command } from "commander";
import * as path from "node:path";
import { parseShard, runEmbedding, type EmbeddingRunResult, type Shard } from "../../lib/embed/run";
import type { ExecutionProviderName, OutputChoice } from "../../lib/embed/encoder";
import { mergeStores } from "../../lib/store/merge";
import { exportStoreToHdf5, importHdf5Store } from "../../lib/store/hdf5";
import type { StoreDtype } from "../../lib/store/format";
import { DEFAULT_PATHS } from "../../lib/util/paths";

/** Options of `milpf embed` as commander hands them over. */
export interface EmbedCommandOptions {
  manifest: string;
  encoder: string;
  out: string;
  provider: string;
  output: string;
  batch: string;
  dtype: string;
  shard?: string;
  shardCount?: string;
  threads?: string;
  progress?: boolean;
}

/**
 * The shard of this process: --shard K/N, or --shard-count N with K from JOB_COMPLETION_INDEX
 * (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array, 0-based: --array=0-(N-1)).
 */
export function resolveShard(o: Pick<EmbedCommandOptions, "shard" | "shardCount">, env: NodeJS.ProcessEnv = process.env, command = "embed"): Shard | null {
  if (o.shard) return parseShard(o.shard);
  if (!o.shardCount) return null;
  const count = numberOption(o.shardCount, "shard-count", { int: true, min: 1, command });
  const raw = env.JOB_COMPLETION_INDEX ?? env.SLURM_ARRAY_TASK_ID;
  if (raw === undefined) throw new Error(`${command}: --shard-count needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment (or use --shard K/N)`);
  return parseShard(`${raw}/${count}`);
}

/** The action of `milpf embed`. */
export async function runEmbedCommand(o: EmbedCommandOptions, write: (t: string) => void = (t) => process.stdout.write(t)): Promise<EmbeddingRunResult> {
  // the stage config's fields (lib/embed/stageConfig.ts): one definition of defaults, ranges and sets
  const cfg = <T extends string | number>(field: keyof typeof EMBED_STAGE, text: string): T => configValue<T>("embed", EMBED_STAGE, field, text);
  const provider = cfg<ExecutionProviderName>("provider", o.provider);
  const dtype = cfg<StoreDtype>("dtype", o.dtype);
  if (!["cls", "pooler", "auto"].includes(o.output)) throw new Error(`embed: --output must be cls, pooler or auto, got '${o.output}'`);
  const shard = resolveShard(o);
  const res = await runEmbedding({
    manifest: o.manifest,
    encoder: o.encoder,
    out: o.out,
    provider,
    output: o.output as OutputChoice,
    batchSize: cfg<number>("batchSize", o.batch),
    dtype,
    shard,
    threads: o.threads ? numberOption(o.threads, "threads", { int: true, min: 1, command: "embed" }) : undefined,
    progress: o.progress !== false,
  });
  const s = res.stats;
  write(
    `embed: ${s.bags} bags, ${s.images} images, ${s.globals} global views + ${s.tiles} tiles, encoder ${s.encoder} (D=${res.meta.dim}) on ${s.provider}` +
      `${shard ? `, shard ${shard.index}/${shard.count}` : ""}\n` +
      `embed: ${s.embeddedImages} images embedded, ${s.reusedImages} reused from an earlier run, ${s.tilesPerSecond.toFixed(1)} tiles/s, ${s.seconds.toFixed(1)} s\n` +
      `embed: store ${res.storeDir} (${res.meta.dtype})\n`,
  );
  writeRedone(write, "embed", s);
  for (const k of s.skipped) write(`embed: skipped ${k.imageId}: ${k.error}\n`);
  if (s.images === 0 && s.skipped.length > 0) throw new Error(`embed: every image was skipped (${s.skipped.length}); nothing embedded`);
  return res;
}

/** Registers `milpf embed` and `milpf embed merge`. */
export function register(program: Command): void {
  const embed = program
    .command("embed")
    .description(
      "Stage 2: global views and tiles of every labelled image through the encoder -> embedding store. " +
        "Resumable (re-run after a crash continues), shardable (--shard K/N, then `milpf embed merge`).",
    );
  addConfigOptions(embed, EMBED_STAGE);
  embed
    .option("--output <choice>", "cls | pooler | auto (DINOv2 -> CLS, SigLIP -> pooler)", "auto")
    .option("--shard <K/N>", "compute shard K of N (0-based, by bag)")
    .option("--shard-count <N>", "N shards, K from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID")
    .option("--threads <n>", "onnxruntime intra-op threads")
    .option("--no-progress", "no progress output")
    // The options above belong to `embed` itself: after a subcommand name (merge, export-h5,
    // import-h5) options are that subcommand's, so `embed merge ... --out X` reaches merge.
    .enablePositionalOptions()
    .action(async (o: EmbedCommandOptions, cmd: Command) => {
      await runEmbedCommand(resolvePathOptions(cmd, o, ["manifest", "out"]));
    });
  embed
    .command("merge")
    .description("Join shard stores into one (equals a single run); all N shards of one split, each once, unless --allow-partial")
    .argument("<shards...>", "shard store folders")
    .requiredOption("--out <dir>", "merged store folder")
    .option("--allow-partial", "merge a subset of the shards; the store is marked partial (store.json \"partial\")")
    .action((shards: string[], o: { out: string; allowPartial?: boolean }) => {
      const out = cliPath(o.out, "cli");
      const meta = mergeStores(
        shards.map((s) => cliPath(s, "cli")),
        out,
        { allowPartial: o.allowPartial === true },
      );
      const part = meta.partial ? ` (PARTIAL: shards ${meta.partial.shards.join(", ")} of ${meta.partial.of})` : "";
      process.stdout.write(`embed merge: ${shards.length} shards -> ${meta.bags.length} bags, ${meta.globalCount} global views, ${meta.tileCount} tiles in ${out}${part}\n`);
    });
  embed
    .command("export-h5")
    .description("Write a store as HDF5 in the authors' layout (one group per breast: images, tiles, label)")
    .argument("<store>", "store folder")
    .argument("<file>", "HDF5 file to write")
    .action(async (store: string, file: string) => {
      await exportStoreToHdf5(cliPath(store, "cli"), cliPath(file, "cli"));
      process.stdout.write(`embed export-h5: ${cliPath(file, "cli")}\n`);
    });
  embed
    .command("import-h5")
    .description("Read an HDF5 file in the authors' layout into a store folder")
    .argument("<file>", "HDF5 file")
    .argument("<store>", "store folder to write")
    .option("--split <split>", "split for groups without one (train | val | test)", "train")
    .option("--dtype <type>", "float32 | float16 on disk (default: as exported, else float32)")
    .action(async (file: string, store: string, o: { split: string; dtype?: string }) => {
      if (!["train", "val", "test"].includes(o.split)) throw new Error(`embed import-h5: --split must be train, val or test, got '${o.split}'`);
      if (o.dtype !== undefined && o.dtype !== "float32" && o.dtype !== "float16") throw new Error(`embed import-h5: --dtype must be float32 or float16, got '${o.dtype}'`);
      const meta = await importHdf5Store(cliPath(file, "cli"), cliPath(store, "cli"), {
        defaultSplit: o.split as "train" | "val" | "test",
        dtype: o.dtype as StoreDtype | undefined,
      });
      process.stdout.write(`embed import-h5: ${meta.bags.length} bags, ${meta.globalCount} global views, ${meta.tileCount} tiles -> ${cliPath(store, "cli")} (${meta.dtype})\n`);
    });
}
