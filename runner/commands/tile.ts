import { configOption, configValue, resolvePathOptions } from "./options";
import type { AdapterName } from "../../lib/data/adapters";
import { TILE_STAGE } from "../../lib/tiling/stageConfig";
import type { Command } from "commander";
import * as os from "node:os";
import * as path from "node:path";
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
  const cfg = <T extends string | number>(field: keyof typeof TILE_STAGE, flag: string, text: string): T => configValue<T>("tile", TILE_STAGE, field, flag, text);
  const params: Partial<TilingParams> = {
    workingSizePx: cfg<number>("workingSizePx", "working-size", o.workingSize),
    tileSizePx: cfg<number>("tileSizePx", "tile-size", o.tileSize),
    globalSizePx: cfg<number>("globalSizePx", "global-size", o.globalSize),
    overlap: cfg<number>("overlap", "overlap", o.overlap),
    tissueRule: cfg<TilingParams["tissueRule"]>("tissueRule", "tissue-rule", o.tissueRule),
    minTissueFraction: cfg<number>("minTissueFraction", "min-tissue", o.minTissue),
  };
  const workers = o.workers === undefined ? -1 : cfg<number>("workers", "workers", o.workers);
  const task = o.task === undefined ? "" : cfg<string>("task", "task", o.task);
  const outDir = resolveProjectPath(o.out);
  const res = await runTilingWithStats({
    datasetDir: resolveProjectPath(o.dataset),
    adapter: cfg<AdapterName>("adapter", "adapter", o.adapter),
    outDir,
    splitsFile: resolveProjectPath(o.splits),
    params,
    workers: workers < 0 ? os.cpus().length : workers,
    seed: cfg<number>("seed", "seed", o.seed),
    progress: o.progress !== false,
    task: task === "" ? undefined : parseLabelTask(task, "--task"),
  });
  const { stats, manifest } = res;
  write(
    `tile: ${stats.images} images (${stats.processed} processed, ${stats.reused} reused), ${stats.tiles} tiles, ` +
      `${stats.skipped} skipped, ${stats.seconds.toFixed(1)} s on ${stats.workers || "no"} worker(s)\n` +
      `tile: manifest ${path.join(outDir, "manifest.json")}\n`,
  );
  if (stats.redone.length > 0) {
    write(`tile: redone ${stats.redone.length} image(s): ${stats.redoneSummary}\n`);
    for (const r of stats.redone.filter((x) => x.reason !== "new").slice(0, 50)) write(`tile: redone ${r.imageId}: ${r.reason}\n`);
  }
  for (const n of stats.notes) write(`tile: ${n}\n`);
  for (const s of manifest.skipped) write(`tile: skipped ${s.file}: ${s.error}\n`);
  if (stats.images === 0) throw new Error(`tile: no image was tiled (${manifest.skipped.length} skipped); see the lines above`);
  return res;
}

/** Registers `milpf tile`. */
export function register(program: Command): void {
  program
    .command("tile")
    .description(
      "Stage 1: orient, mask, crop and resize every labelled image with a split, write 16-bit working images, " +
        "global views and the tile manifest. Parallel (worker threads), resumable, bad images skipped and reported.",
    )
    .addOption(configOption(TILE_STAGE, "datasetDir", "--dataset <dir>"))
    .addOption(configOption(TILE_STAGE, "adapter", "--adapter <name>"))
    .addOption(configOption(TILE_STAGE, "out", "--out <dir>"))
    .addOption(configOption(TILE_STAGE, "splits", "--splits <file>"))
    .addOption(configOption(TILE_STAGE, "workingSizePx", "--working-size <px>"))
    .addOption(configOption(TILE_STAGE, "tileSizePx", "--tile-size <px>"))
    .addOption(configOption(TILE_STAGE, "globalSizePx", "--global-size <px>"))
    .addOption(configOption(TILE_STAGE, "overlap", "--overlap <f>"))
    .addOption(configOption(TILE_STAGE, "tissueRule", "--tissue-rule <rule>"))
    .addOption(configOption(TILE_STAGE, "minTissueFraction", "--min-tissue <f>"))
    .addOption(configOption(TILE_STAGE, "workers", "--workers <n>"))
    .addOption(configOption(TILE_STAGE, "seed", "--seed <s>"))
    .addOption(configOption(TILE_STAGE, "task", "--task <name>"))
    .option("--no-progress", "no progress output")
    .action(async (o: TileCommandOptions, cmd: Command) => {
      await runTileCommand(resolvePathOptions(cmd, o, ["dataset", "out", "splits"]));
    });
}
