/**
 * The kernel worker: a child process (cwd = the notebook's folder) that executes cells through
 * tslab's own converter and executor, exactly as the tslab Jupyter kernel does, and reports
 * outputs to the runner over IPC. Running it as a child lets the runner kill it on a timeout,
 * even inside a blocking loop.
 *
 * tslab internals used (pinned tslab 1.0.22): dist/converter createConverter, dist/executor
 * createExecutor, and dist/jupyter's `lastWriteDisplayData` (the hook tslab.display writes to;
 * without it tslab.display throws "Not ready").
 */
import * as util from "node:util";
import { createConverter } from "tslab/dist/converter";
import { createExecutor } from "tslab/dist/executor";
import type { ErrorOutput, MimeBundle, Output } from "./nbformat";
import type { FromKernel, ToKernel } from "./kernel-protocol";

function send(msg: FromKernel): void {
  process.send?.(msg);
}

let currentCell = -1;
/** Errors reported by the executor for the running cell (diagnostics or a thrown value). */
let cellErrors: { diagnostics: string[]; thrown: unknown[] } = { diagnostics: [], thrown: [] };

function emit(output: Output, displayId?: string): void {
  send({ type: "output", cell: currentCell, output, displayId });
}

// Cell stdout/stderr -> `stream` outputs (as tslab's kernel does, by replacing the write methods).
function captureStream(name: "stdout" | "stderr"): void {
  const stream = process[name];
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8");
    if (text.length) emit({ output_type: "stream", name, text });
    const done = typeof encoding === "function" ? encoding : cb;
    done?.();
    return true;
  }) as typeof stream.write;
}

/** The display writer tslab.display calls (its kernel installs one per execute request). */
function installDisplayWriter(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
  jupyter.lastWriteDisplayData = (msg: { data: MimeBundle; metadata?: Record<string, unknown>; transient?: { display_id?: string } }, update?: boolean): void => {
    const displayId = msg.transient?.display_id;
    if (update && displayId) {
      send({ type: "update_display", cell: currentCell, displayId, data: msg.data });
      return;
    }
    emit({ output_type: "display_data", data: msg.data, metadata: msg.metadata ?? {} }, displayId);
  };
}

/** One `error` output from what the executor reported for a failed cell. */
export function errorOutput(errors: { diagnostics: string[]; thrown: unknown[] }): ErrorOutput {
  if (errors.thrown.length) {
    const e = errors.thrown[0];
    if (e instanceof Error || (typeof e === "object" && e !== null && "message" in e)) {
      const err = e as Error;
      const stack = typeof err.stack === "string" ? err.stack : `${err.name}: ${err.message}`;
      return { output_type: "error", ename: err.name || "Error", evalue: String(err.message), traceback: stack.split("\n") };
    }
    const text = util.inspect(e);
    return { output_type: "error", ename: "Error", evalue: `Uncaught ${text}`, traceback: [`Uncaught ${text}`] };
  }
  if (errors.diagnostics.length) {
    return { output_type: "error", ename: "CompileError", evalue: errors.diagnostics.join("\n"), traceback: errors.diagnostics.slice() };
  }
  return { output_type: "error", ename: "Error", evalue: "cell failed without an error message", traceback: [] };
}

function main(): void {
  captureStream("stdout");
  captureStream("stderr");
  installDisplayWriter();
  const node = createConverter({ isJS: false, isBrowser: false });
  let browser: ReturnType<typeof createConverter> | null = null;
  const convs = {
    node,
    get browser() {
      browser ??= createConverter({ isJS: false, isBrowser: true });
      return browser;
    },
    close() {
      node.close();
      browser?.close();
    },
  };
  const executor = createExecutor(process.cwd(), convs, {
    // The executor prints the cell's last expression value through log (tslab: console.log).
    log: (...args: unknown[]) => {
      send({
        type: "output",
        cell: currentCell,
        output: { output_type: "execute_result", execution_count: null, data: { "text/plain": util.format(...args) }, metadata: {} },
      });
    },
    // ... and errors through error: type-check diagnostics as ("%s%d:%d - %s", file, line, col, text),
    // runtime errors as the thrown value.
    error: (...args: unknown[]) => {
      if (args.length > 1 && typeof args[0] === "string" && args[0].includes("%")) cellErrors.diagnostics.push(util.format(...args));
      else cellErrors.thrown.push(args[0]);
    },
  });
  process.on("uncaughtException", (err) => {
    emit({ output_type: "stream", name: "stderr", text: `UncaughtException: ${util.inspect(err)}\n` });
  });
  process.on("unhandledRejection", (reason) => {
    emit({ output_type: "stream", name: "stderr", text: `UnhandledPromiseRejection: ${util.inspect(reason)}\n` });
  });
  process.on("message", (msg: ToKernel) => {
    if (msg.type === "shutdown") {
      executor.close();
      process.exit(0);
    }
    if (msg.type === "execute") {
      currentCell = msg.cell;
      cellErrors = { diagnostics: [], thrown: [] };
      executor.execute(msg.source).then(
        (ok) => {
          if (!ok) emit(errorOutput(cellErrors));
          send({ type: "done", cell: msg.cell, ok });
        },
        (e: unknown) => {
          cellErrors.thrown.push(e);
          emit(errorOutput(cellErrors));
          send({ type: "done", cell: msg.cell, ok: false });
        },
      );
    }
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  send({ type: "ready", tslabVersion: (require("tslab/package.json") as { version: string }).version });
}

if (require.main === module) main();
