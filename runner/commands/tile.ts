import { numberOption, resolvePathOptions } from "./options";
import type { Command } from "commander";
import * as os from "node:os";
import * as path from "node:path";
import { LABEL_TASKS, parseLabelTask } from "../../lib/data/labels";
import { runTilingWithStats, type TilingStats } from "../../lib/tiling";
import type { TileManifest, TilingParams } from "../../lib/types";
import { DEFAULT_PATHS, resolveProjectPath } from "../../lib/util/paths";

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
  if (o.tissueRule !== "maskFraction" && o.tissueRule !== "meanIntensity") throw new Error(`tile: --tissue-rule must be maskFraction or meanIntensity, got '${o.tissueRule}'`);
  const params: Partial<TilingParams> = {
    workingSizePx: numberOption(o.workingSize, "working-size", { int: true, command: "tile" }),
    tileSizePx: numberOption(o.tileSize, "tile-size", { int: true, command: "tile" }),
    globalSizePx: numberOption(o.globalSize, "global-size", { int: true, command: "tile" }),
    overlap: numberOption(o.overlap, "overlap", { int: false, command: "tile" }),
    tissueRule: o.tissueRule,
    minTissueFraction: numberOption(o.minTissue, "min-tissue", { int: false, command: "tile" }),
  };
  const outDir = resolveProjectPath(o.out);
  const res = await runTilingWithStats({
    datasetDir: resolveProjectPath(o.dataset),
    adapter: o.adapter,
    outDir,
    splitsFile: resolveProjectPath(o.splits),
    params,
    workers: o.workers === undefined ? os.cpus().length : numberOption(o.workers, "workers", { int: true, command: "tile" }),
    seed: numberOption(o.seed, "seed", { int: true, command: "tile" }),
    progress: o.progress !== false,
    task: o.task === undefined ? undefined : parseLabelTask(o.task, "--task"),
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
    .option("--dataset <dir>", "dataset folder", DEFAULT_PATHS.syntheticDataset)
    .option("--adapter <name>", "synthetic | vindr | rsna | embed", "synthetic")
    .option("--out <dir>", "output folder (manifest.json + images)", DEFAULT_PATHS.tiles)
    .option("--splits <file>", "split file (made from --seed when missing)", DEFAULT_PATHS.splits)
    .option("--working-size <px>", "side of the square working image", "4096")
    .option("--tile-size <px>", "tile side (= encoder input)", "518")
    .option("--global-size <px>", "global view side (= encoder input)", "518")
    .option("--overlap <f>", "tile overlap in [0, 1): 0 for training, 0.75 for explanation", "0")
    .option("--tissue-rule <rule>", "maskFraction | meanIntensity", "maskFraction")
    .option("--min-tissue <f>", "maskFraction rule: minimum mask fraction of a kept tile (0 = any tissue)", "0")
    .option("--workers <n>", "worker threads (default: all cores; 0 = in-process)")
    .option("--seed <s>", "seed for a new split file", "42")
    .option("--task <name>", `label task (${LABEL_TASKS.join(" | ")}; default: the adapter's own, birads or RSNA cancer)`)
    .option("--no-progress", "no progress output")
    .action(async (o: TileCommandOptions, cmd: Command) => {
      await runTileCommand(resolvePathOptions(cmd, o, ["dataset", "out", "splits"]));
    });
}
