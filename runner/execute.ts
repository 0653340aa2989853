import * as path from "node:path";
import { Kernel } from "./kernel";
import {
  hasTag,
  markdownCell,
  readNotebook,
  sourceText,
  withTslabMetadata,
  writeNotebook,
  type Cell,
  type CodeCell,
  type ErrorOutput,
  type Notebook,
  type Output,
  type PapermillCellMetadata,
} from "./nbformat";
import { stageOfNotebook } from "../lib/stages";
import { checkKnownParams } from "../lib/util/config";
import { parameterize, type Params } from "./parameterize";

export const ERROR_CELL_TAG = "papermill-error-cell-tag";
export const RUNNER_VERSION = "milpf-runner 0.1.0";

export interface RunOptions {
  /** Notebook to execute. */
  input: string;
  /** Where to write the executed notebook. */
  output: string;
  params?: Params;
  /** Seconds one cell may run (default: no limit). */
  cellTimeoutS?: number;
  /** Seconds the whole run may take, kernel start included (default: no limit). */
  timeoutS?: number;
  /** Figures folder for lib/plot (env MILPF_FIGURES_DIR of the kernel); default: beside the output notebook. */
  figuresDir?: string;
  /** Extra environment for the kernel. */
  env?: Record<string, string>;
  /** Also print the cells' stdout/stderr live to stderr while they run (papermill --log-output). */
  logOutput?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface FailedCell {
  /** 1-based position of the cell in the notebook as run (parameters injected, before the error banner was added). */
  cellNumber: number;
  /** Its execution count ("In [n]"). */
  executionCount: number;
  ename: string;
  evalue: string;
}

export interface RunResult {
  ok: boolean;
  output: string;
  failed?: FailedCell;
  durationS: number;
  executedCells: number;
  /** Parameters given that the notebook's `parameters` cell does not declare. */
  unknownParams: string[];
}

function pendingMeta(): PapermillCellMetadata {
  return { start_time: null, end_time: null, duration: null, status: "pending", exception: null };
}

/** Remove what a previous run left (error banner/anchor cells), clear outputs, mark cells pending. */
function resetForRun(nb: Notebook): Notebook {
  const cells: Cell[] = nb.cells
    .filter((c) => !hasTag(c, ERROR_CELL_TAG))
    .map((c) => (c.cell_type === "code" ? { ...c, outputs: [], execution_count: null, metadata: { ...c.metadata, papermill: pendingMeta() } } : { ...c, metadata: { ...c.metadata, papermill: pendingMeta() } }));
  return { ...nb, cells };
}

function banner(cellNumber: number, executionCount: number, err: ErrorOutput): Cell[] {
  const top = markdownCell(
    `<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;">` +
      `An Exception was encountered at '<a href="#papermill-error-cell">cell ${cellNumber}, In [${executionCount}]</a>'.</span>\n\n` +
      `\`${err.ename}: ${err.evalue.split("\n")[0].replace(/`/g, "'")}\``,
    [ERROR_CELL_TAG],
  );
  const anchor = markdownCell(
    `<span id="papermill-error-cell" style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;">` +
      `Execution using the milpf runner encountered an exception here and stopped:</span>`,
    [ERROR_CELL_TAG],
  );
  return [top, anchor];
}

/**
 * Execute a notebook headlessly (papermill for TypeScript): inject parameters, run each code cell
 * through tslab's executor in a child kernel (cwd = the notebook's folder), record outputs and
 * papermill timing metadata, stop at the first failing cell, write the output notebook.
 */
export async function executeNotebook(opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const t0 = Date.now();
  const input = path.resolve(opts.input);
  const output = path.resolve(opts.output);
  const source = readNotebook(input);
  // A pipeline notebook's parameters are checked against its stage config before any cell runs.
  const stage = stageOfNotebook(path.basename(input, ".ipynb"));
  const params = stage ? checkKnownParams(stage.notebook, stage.config, opts.params ?? {}) : (opts.params ?? {});
  const { notebook: injected, unknown } = parameterize(source, params, stage?.config);
  if (unknown.length) log(`warning: parameter(s) not declared in the notebook's parameters cell: ${unknown.join(", ")}`);
  const nb = withTslabMetadata(resetForRun(injected));
  const startTime = new Date(t0).toISOString();
  const pm = {
    ...((nb.metadata.papermill as object | undefined) ?? {}),
    input_path: input,
    output_path: output,
    version: RUNNER_VERSION,
    environment_variables: {},
    start_time: startTime,
    end_time: null as string | null,
    duration: null as number | null,
    exception: null as boolean | null,
  };
  nb.metadata.papermill = pm;
  writeNotebook(output, nb);

  const figuresDir = path.resolve(opts.figuresDir ?? path.dirname(output));
  const notebookName = path.basename(input, ".ipynb");
  const deadline = opts.timeoutS !== undefined ? t0 + opts.timeoutS * 1000 : Infinity;
  const kernel = new Kernel({
    cwd: path.dirname(input),
    env: { ...process.env, MILPF_FIGURES_DIR: figuresDir, MILPF_NOTEBOOK: notebookName, ...(opts.env ?? {}) },
    startTimeoutS: Number.isFinite(deadline) ? Math.max(1, (deadline - Date.now()) / 1000) : 120,
  });
  const codeCells = nb.cells.filter((c): c is CodeCell => c.cell_type === "code" && sourceText(c.source).trim() !== "");
  let executionCount = 0;
  let failed: FailedCell | undefined;
  let executed = 0;
  try {
    await kernel.start();
    for (const cell of codeCells) {
      const cellNumber = nb.cells.indexOf(cell) + 1;
      executionCount += 1;
      const remainingS = (deadline - Date.now()) / 1000;
      const limitS = Math.min(opts.cellTimeoutS ?? Infinity, remainingS);
      const start = Date.now();
      const meta: PapermillCellMetadata = { start_time: new Date(start).toISOString(), end_time: null, duration: null, status: "running", exception: null };
      cell.metadata.papermill = meta;
      const live = opts.logOutput
        ? (o: Output): void => {
            if (o.output_type === "stream") process.stderr.write(typeof o.text === "string" ? o.text : o.text.join(""));
          }
        : undefined;
      const run = await kernel.execute(executionCount, sourceText(cell.source), limitS, live);
      const end = Date.now();
      executed += 1;
      cell.execution_count = executionCount;
      cell.outputs = run.outputs.map((o) => (o.output_type === "execute_result" ? { ...o, execution_count: executionCount } : o));
      if (run.timedOut && limitS < (opts.cellTimeoutS ?? Infinity)) {
        const last = cell.outputs[cell.outputs.length - 1] as ErrorOutput;
        last.ename = "RunTimeoutError";
        last.evalue = `the run did not finish within --timeout ${opts.timeoutS} s`;
        last.traceback = [`RunTimeoutError: ${last.evalue} (stopped in this cell; the kernel was stopped)`];
      }
      Object.assign(meta, { end_time: new Date(end).toISOString(), duration: (end - start) / 1000, status: run.ok ? "completed" : "failed", exception: !run.ok });
      const status = run.ok ? "ok" : "FAILED";
      log(`[${executionCount}/${codeCells.length}] ${notebookName} cell ${cellNumber} ${status} ${((end - start) / 1000).toFixed(2)} s`);
      if (!run.ok) {
        const err = (cell.outputs.filter((o) => o.output_type === "error").pop() as ErrorOutput | undefined) ?? {
          output_type: "error",
          ename: "Error",
          evalue: "cell failed",
          traceback: [],
        };
        failed = { cellNumber, executionCount, ename: err.ename, evalue: err.evalue };
        const [top, anchor] = banner(cellNumber, executionCount, err);
        nb.cells.splice(nb.cells.indexOf(cell), 0, anchor);
        nb.cells.unshift(top);
        break;
      }
      writeNotebook(output, nb);
    }
  } catch (e) {
    // The kernel could not start (or died between cells): record it on the notebook.
    const err: ErrorOutput = { output_type: "error", ename: "KernelError", evalue: (e as Error).message, traceback: [(e as Error).message] };
    failed = { cellNumber: 0, executionCount: 0, ename: err.ename, evalue: err.evalue };
    nb.cells.unshift(markdownCell(`<span style="color:red; font-size:2em;">The kernel failed: ${err.evalue}</span>`, [ERROR_CELL_TAG]));
  } finally {
    await kernel.shutdown();
  }
  const end = Date.now();
  Object.assign(pm, { end_time: new Date(end).toISOString(), duration: (end - t0) / 1000, exception: failed !== undefined });
  writeNotebook(output, nb);
  if (failed) {
    log(`${notebookName}: FAILED at cell ${failed.cellNumber} (In [${failed.executionCount}]): ${failed.ename}: ${failed.evalue.split("\n")[0]}`);
    log(`${notebookName}: output notebook with the error: ${output}`);
  } else {
    log(`${notebookName}: ${executed} cells ok in ${((end - t0) / 1000).toFixed(1)} s -> ${output}`);
  }
  return { ok: failed === undefined, output, failed, durationS: (end - t0) / 1000, executedCells: executed, unknownParams: unknown };
}
