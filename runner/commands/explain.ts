import { addConfigOptions, configValue, numberOption, resolvePathOptions } from "./options";
import { EXPLAIN_STAGE } from "../../lib/explain/stageConfig";
import * as fs from "node:fs";
import type { Command } from "commander";
import { SHARP_DEFAULTS, type SharpParams } from "../../lib/explain/sharp";
import { frocTableRows, markdownTable } from "../../lib/explain/report";
import { detectionTableMarkdown } from "../../lib/explain/report";
import { runExplain, type ExplainSummary } from "../../lib/explain/runExplain";
import type { ExecutionProviderName } from "../../lib/embed/encoder";
import type { Split } from "../../lib/types";
import { DEFAULT_PATHS, resolveProjectPath } from "../../lib/util/paths";

/** Options of `milpf explain` as commander hands them over (strings until parsed). */
export interface ExplainCommandOptions {
  run: string;
  manifest?: string;
  encoder?: string;
  out: string;
  cases: string;
  overlap: string;
  split: string;
  seed: string;
  nmsIou: string;
  smoothSigma: string;
  topK: string;
  provider: string;
  sharpParams?: string;
  selectionSplit: string;
  selectionCases?: string;
  progress?: boolean;
}

/** The sharp parameters from a file: a sharp_selection.json (its `chosen`) or a SharpParams object. */
export function readSharpParams(file: string): SharpParams {
  const f = resolveProjectPath(file);
  if (!fs.existsSync(f)) throw new Error(`explain: --sharp-params ${f}: file not found`);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(f, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`explain: --sharp-params ${f}: not JSON (${(e as Error).message})`);
  }
  const p = { ...SHARP_DEFAULTS, ...((j.chosen ?? j) as Partial<SharpParams>) };
  for (const k of ["overlap", "mapScale", "iterations"] as const) {
    if (typeof p[k] !== "number" || !Number.isFinite(p[k])) throw new Error(`explain: --sharp-params ${f}: '${k}' must be a number`);
  }
  return p;
}

/** The action of `milpf explain`: load the run's encoder and head, explain cases, print the table. */
export async function runExplainCommand(
  o: ExplainCommandOptions,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<ExplainSummary> {
  // the stage config's fields (lib/explain/stageConfig.ts): one definition of defaults, ranges and sets
  const cfg = <T extends string | number>(field: keyof typeof EXPLAIN_STAGE, text: string): T => configValue<T>("explain", EXPLAIN_STAGE, field, text);
  const split = cfg<Split | "all">("split", o.split);
  const nCases = cfg<number>("cases", o.cases === "all" ? "0" : o.cases);
  const cases = nCases > 0 ? nCases : undefined;
  const selectionSplit = cfg<Split>("selectionSplit", o.selectionSplit);
  const nSelection = o.selectionCases === undefined ? 0 : cfg<number>("selectionCases", o.selectionCases === "all" ? "0" : o.selectionCases);
  const selectionCases = nSelection > 0 ? nSelection : undefined;
  const overlap = cfg<number>("overlap", o.overlap);
  const seed = cfg<number>("caseSeed", o.seed);
  const provider = cfg<ExecutionProviderName>("provider", o.provider);
  const sharp = o.sharpParams ? readSharpParams(o.sharpParams) : "select";
  const nmsIou = numberOption(o.nmsIou, "nms-iou", { int: false, min: 0, max: 1, command: "explain" });
  const topK = numberOption(o.topK, "top-k", { int: true, min: 1, max: 64, command: "explain" });
  const smoothSigmaPx = numberOption(o.smoothSigma, "smooth-sigma", { int: false, min: 0, max: 1000, command: "explain" });
  const out = resolveProjectPath(o.out);
  const s = await runExplain({
    run: o.run,
    manifest: o.manifest,
    encoder: o.encoder,
    provider,
    out,
    cases,
    overlap,
    split,
    seed,
    nmsIou,
    smoothSigmaPx,
    topK,
    sharp,
    selectionSplit,
    selectionCases,
    progress: o.progress !== false,
  });
  write(
    `explain: ${s.cases.length} case(s): ${s.work.casesExplained} explained${s.work.reasons ? ` (${s.work.reasons})` : ""}, ${s.work.casesReused} reused; sharp selection ${s.work.selection}\n` +
    `explain: ${s.cases.length} case(s), ${s.skipped.length} skipped, ${s.seconds.toFixed(1)} s ` +
      `(encoder ${String(s.provenance.encoder)} on ${String(s.provenance.provider)})\n` +
      `sharp: ${s.sharp.description} (${s.sharp.source})\n` +
      detectionTableMarkdown(s.detection) +
      "\n" +
      markdownTable(frocTableRows(s.froc)) +
      `explain: outputs in ${out} (explain.json, detection.csv, detection.md, froc.md, sharp_selection.*, cases/)\n`,
  );
  return s;
}

/** Subcommands of the explain stage. */
export function register(program: Command): void {
  const explainCommand = program
    .command("explain")
    .description("stage 4: attention heat maps over 75%-overlap tiles, lesion boxes by the paper's protocol and the sharp method, detection AP (Table 3 style) and FROC, overlays");
  addConfigOptions(explainCommand, EXPLAIN_STAGE);
  explainCommand
    .option("--manifest <file>", "tile manifest (default: the one the run's store was embedded from; another is an error)")
    .option("--encoder <spec>", '"builtin" or an ONNX encoder folder (default: the one the run\'s store was embedded with; it is checked against the store)')
    .option("--nms-iou <f>", "NMS IoU threshold of the box extraction", "0.5")
    .option("--smooth-sigma <px>", "Gaussian sigma (working px) on the map before box extraction (0 = none)", "0")
    .option("--top-k <n>", "tiles in each bag's gallery", "8")
    .option("--sharp-params <file>", "sharp parameters (a sharp_selection.json or a SharpParams JSON); default: chosen on --selection-split")
    .option("--no-progress", "no progress lines")
    .action(async (o: ExplainCommandOptions, cmd: Command) => {
      await runExplainCommand(resolvePathOptions(cmd, o, ["run", "manifest", "out", "sharpParams"]));
    });
}
