import * as path from "node:path";
import { projectRoot, resolveProjectPath } from "../lib/util/paths";
import { STAGES, stageOfNotebook } from "../lib/stages";
import { checkKnownParams } from "../lib/util/config";
import { describeStageSummary, readStageRecord, type StageRecord } from "../lib/util/stage";
import { executeNotebook, type RunResult } from "./execute";
import { hasTag, readNotebook, sourceText } from "./nbformat";
import { declaredNames, declaredStringDefaults, PARAMETERS_TAG, type Params } from "./parameterize";

/** The pipeline's notebooks, in order (lib/stages.ts). */
export const PIPELINE_NOTEBOOKS = STAGES.map((s) => s.notebook);

export interface PipelineOptions {
  /** Parameters; each notebook gets those its `parameters` cell declares. */
  params?: Params;
  /** Notebook folder (default <project>/notebooks). */
  notebooksDir?: string;
  /** Figures root (default <project>/figures): notebook N writes figures/N/ and figures/N/N.ipynb. */
  figuresRoot?: string;
  /** Run only these notebooks (names from PIPELINE_NOTEBOOKS), in pipeline order. */
  only?: string[];
  cellTimeoutS?: number;
  /** Seconds per notebook. */
  timeoutS?: number;
  log?: (line: string) => void;
  /** Print the cells' stdout/stderr live. */
  logOutput?: boolean;
}

export interface PipelineResult {
  ok: boolean;
  /** `work`: what the stage did, from its record ("4913 images: all reused", "6 units of seeds: 6 done (6 parameters changed), 0 reused"). */
  runs: { notebook: string; result: RunResult; work: string }[];
  /** The notebook that failed, if any. */
  failed?: string;
}

/** The output locations of one pipeline notebook. */
export function pipelineOutputs(name: string, figuresRoot: string): { figuresDir: string; output: string } {
  const figuresDir = path.join(figuresRoot, name);
  return { figuresDir, output: path.join(figuresDir, `${name}.ipynb`) };
}

/** Execute the four notebooks in order; stop at the first that fails. */
export async function runPipeline(opts: PipelineOptions = {}): Promise<PipelineResult> {
  const root = projectRoot();
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const notebooksDir = opts.notebooksDir ?? path.join(root, "notebooks");
  const figuresRoot = opts.figuresRoot ?? path.join(root, "figures");
  const params = opts.params ?? {};
  const unknownOnly = (opts.only ?? []).filter((n) => !(PIPELINE_NOTEBOOKS as readonly string[]).includes(n));
  if (unknownOnly.length) throw new Error(`unknown pipeline notebook(s): ${unknownOnly.join(", ")} (known: ${PIPELINE_NOTEBOOKS.join(", ")})`);
  const names = PIPELINE_NOTEBOOKS.filter((n) => !opts.only?.length || opts.only.includes(n));
  // Each notebook gets the parameters it declares; a parameter no pipeline notebook declares is
  // an error. All four are read, so that a preset's values for a notebook left out by --only
  // are still known (and checked), not refused.
  const declared = new Map<string, string[]>();
  const stageDirs = new Map<string, string>();
  for (const name of PIPELINE_NOTEBOOKS) {
    const nb = readNotebook(path.join(notebooksDir, `${name}.ipynb`));
    const cell = nb.cells.find((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
    declared.set(name, cell ? declaredNames(sourceText(cell.source)) : []);
    const key = stageOfNotebook(name)?.output ?? "";
    const value = params[key] ?? (cell ? declaredStringDefaults(sourceText(cell.source))[key] : undefined);
    if (typeof value === "string") stageDirs.set(name, resolveProjectPath(value));
  }
  const nowhere = Object.keys(params).filter((p) => ![...declared.values()].some((d) => d.includes(p)));
  if (nowhere.length) throw new Error(`parameter(s) ${nowhere.join(", ")} not declared by any pipeline notebook's parameters cell`);
  // Every value is checked against its stages' configs before any notebook runs: a bad value
  // for 04_explain stops the pipeline before 01_tile starts.
  const mineOf = (name: string): Params => Object.fromEntries(Object.entries(params).filter(([k]) => declared.get(name)?.includes(k)));
  for (const name of PIPELINE_NOTEBOOKS) {
    const stage = stageOfNotebook(name);
    if (stage) checkKnownParams(name, stage.config, mineOf(name));
  }
  const runs: PipelineResult["runs"] = [];
  for (const name of names) {
    const mine = mineOf(name);
    const { figuresDir, output } = pipelineOutputs(name, figuresRoot);
    log(`== ${name} ==`);
    const result = await executeNotebook({
      input: path.join(notebooksDir, `${name}.ipynb`),
      output,
      figuresDir,
      params: mine,
      cellTimeoutS: opts.cellTimeoutS,
      timeoutS: opts.timeoutS,
      logOutput: opts.logOutput,
      log,
      // lib/plot: the notebooks' figures folders share one plotly.js at the root.
      env: { MILPF_FIGURES_ROOT: figuresRoot },
    });
    const startedAt = Date.now() - result.durationS * 1000 - 1000;
    const dir = stageDirs.get(name);
    const rec = dir ? readStageRecordOrNull(dir) : null;
    const work = rec && Date.parse(rec.finishedAt) >= startedAt ? describeStageSummary(rec.summary) : "no stage record written by this run";
    runs.push({ notebook: name, result, work });
    if (!result.ok) return { ok: false, runs, failed: name };
  }
  const total = runs.reduce((s, r) => s + r.result.durationS, 0);
  log(`pipeline: ${runs.length} notebooks ok in ${total.toFixed(1)} s (${runs.map((r) => `${r.notebook} ${r.result.durationS.toFixed(1)} s`).join(", ")})`);
  for (const r of runs) log(`  ${r.notebook}: ${r.work}`);
  return { ok: true, runs };
}

function readStageRecordOrNull(dir: string): StageRecord | null {
  try {
    return readStageRecord(dir);
  } catch {
    return null;
  }
}
