import { addConfigOptions, configValue, resolvePathOptions, writeRedone } from "./options";
import type { AdapterName } from "../../lib/data/adapters";
import { TILE_STAGE } from "../../lib/tiling/stageConfig";
import type { Command } from "commander";
import * as os from "node:os";
import * as path from "node:path";
import { parseSplitFractions } from "../../lib/data/splits";
import { parseLabelTask } from "../../lib/data/labels";
import { runTilingWithStats, type TilingStats } from "../../lib/tiling";
import type { TileManifest, TilingParams } from "../../lib/types";
import { resolveProjectPath } from "../../lib/util/paths";

/** Options of `milpf tile` as commander hands them over (strings until parsed). */
export interface TileCommandOptions {
  dataset: string;
  adapter: string;
  task?: string;
  out: string;
  splits: string;
  workingSize: string;
  tileSize: string;
  globalSize: string;
  overlap: string;
  tissueRule: string;
  minTissue: string;
  preprocessing?: string;
  splitFractions?: string;
  workers?: string;
  seed: string;
  progress?: boolean;
}

/** The action of `milpf tile`: runs the stage and prints a summary (and the skipped images). */
export async function runTileCommand(
  o: TileCommandOptions,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<{ manifest: TileManifest; stats: TilingStats }> {
  // the stage config's fields (lib/tiling/stageConfig.ts): one definition of defaults, ranges and sets
  const cfg = <T extends string | number>(field: keyof typeof TILE_STAGE, text: string): T => configValue<T>("tile", TILE_STAGE, field, text);
  const params: Partial<TilingParams> = {
    workingSizePx: cfg<number>("workingSizePx", o.workingSize),
    tileSizePx: cfg<number>("tileSizePx", o.tileSize),
    globalSizePx: cfg<number>("globalSizePx", o.globalSize),
    overlap: cfg<number>("overlap", o.overlap),
    tissueRule: cfg<TilingParams["tissueRule"]>("tissueRule", o.tissueRule),
    minTissueFraction: cfg<number>("minTissueFraction", o.minTissue),
    preprocessing: cfg<TilingParams["preprocessing"]>("preprocessing", o.preprocessing ?? TILE_STAGE.preprocessing.default),
  };
  const workers = o.workers === undefined ? -1 : cfg<number>("workers", o.workers);
  const task = o.task === undefined ? "" : cfg<string>("task", o.task);
  const outDir = resolveProjectPath(o.out);
  const res = await runTilingWithStats({
    datasetDir: resolveProjectPath(o.dataset),
    adapter: cfg<AdapterName>("adapter", o.adapter),
    outDir,
    splitsFile: resolveProjectPath(o.splits),
    params,
    workers: workers < 0 ? os.cpus().length : workers,
    seed: cfg<number>("seed", o.seed),
    splitFractions: parseSplitFractions(cfg<string>("splitFractions", o.splitFractions ?? TILE_STAGE.splitFractions.default)),
    progress: o.progress !== false,
    task: task === "" ? undefined : parseLabelTask(task, "--task"),
  });
  const { stats, manifest } = res;
  write(
    `tile: ${stats.images} images (${stats.processed} processed, ${stats.reused} reused), ${stats.tiles} tiles, ` +
      `${stats.skipped} skipped, ${stats.seconds.toFixed(1)} s on ${stats.workers || "no"} worker(s)\n` +
      `tile: manifest ${path.join(outDir, "manifest.json")}\n`,
  );
  writeRedone(write, "tile", stats);
  for (const s of manifest.skipped) write(`tile: skipped ${s.file}: ${s.error}\n`);
  if (stats.images === 0) throw new Error(`tile: no image was tiled (${manifest.skipped.length} skipped); see the lines above`);
  return res;
}

/** Registers `milpf tile`. */
export function register(program: Command): void {
  const about =
    "Stage 1: orient, mask, crop and resize every labelled image with a split, write 16-bit working images, " +
    "global views and the tile manifest. Parallel (worker threads), resumable, bad images skipped and reported.";
  addConfigOptions(program.command("tile").description(about), TILE_STAGE)
    .option("--no-progress", "no progress output")
    .action(async (o: TileCommandOptions, cmd: Command) => {
      await runTileCommand(resolvePathOptions(cmd, o, ["dataset", "out", "splits"]));
    });
}
