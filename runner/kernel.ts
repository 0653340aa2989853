import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../lib/util/paths";
import type { FromKernel, ToKernel } from "./kernel-protocol";
import type { Output, StreamOutput } from "./nbformat";

/** The compiled kernel worker (dist/runner/kernel-worker.js), also when this file runs from source. */
export function kernelWorkerPath(): string {
  const beside = path.join(__dirname, "kernel-worker.js");
  if (fs.existsSync(beside)) return beside;
  const built = path.join(projectRoot(), "dist", "runner", "kernel-worker.js");
  if (!fs.existsSync(built)) throw new Error(`${built}: kernel worker not built (run \`npm run build\` first)`);
  return built;
}

export interface CellRun {
  ok: boolean;
  outputs: Output[];
  /** Set when the cell was stopped because it ran out of time. */
  timedOut: boolean;
}

export interface KernelOptions {
  /** Working directory of the kernel (the notebook's folder). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Seconds to wait for the worker to start. */
  startTimeoutS?: number;
}

/**
 * A tslab kernel in a child process. `execute` runs one cell and resolves with its outputs;
 * on a timeout the child is killed (the kernel is then dead; the run stops there).
 */
export class Kernel {
  private child: ChildProcess | null = null;
  private listener: ((m: FromKernel) => void) | null = null;
  private exitInfo: string | null = null;
  tslabVersion = "";

  constructor(private readonly opts: KernelOptions) {}

  async start(): Promise<void> {
    const child = fork(kernelWorkerPath(), [], {
      cwd: this.opts.cwd,
      env: this.opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
    this.child = child;
    // Writes that bypass process.stdout.write (native code) land on the real pipes: pass them on.
    child.stdout?.on("data", (b: Buffer) => process.stderr.write(b));
    child.stderr?.on("data", (b: Buffer) => process.stderr.write(b));
    child.on("message", (m: FromKernel) => this.listener?.(m));
    child.on("exit", (code, signal) => {
      this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.child = null;
      this.onExit?.();
    });
    const startS = this.opts.startTimeoutS ?? 120;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kernel did not start within ${startS} s`)), startS * 1000);
      this.onExit = () => {
        clearTimeout(timer);
        reject(new Error(`kernel ${this.exitInfo} while starting`));
      };
      this.listener = (m) => {
        if (m.type === "ready") {
          clearTimeout(timer);
          this.tslabVersion = m.tslabVersion;
          this.onExit = null;
          resolve();
        }
      };
    });
  }

  private onExit: (() => void) | null = null;

  /** Execute one cell. `timeoutS` (Infinity = none) kills the kernel when exceeded. */
  execute(cell: number, source: string, timeoutS = Infinity, onOutput?: (o: Output) => void): Promise<CellRun> {
    const child = this.child;
    if (!child) return Promise.reject(new Error(`kernel is not running (${this.exitInfo ?? "not started"})`));
    const outputs: Output[] = [];
    const byDisplayId = new Map<string, Output>();
    return new Promise<CellRun>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const finish = (run: CellRun): void => {
        if (timer) clearTimeout(timer);
        this.listener = null;
        this.onExit = null;
        resolve(run);
      };
      this.listener = (m) => {
        if (m.type === "output" && m.cell === cell) {
          onOutput?.(m.output);
          appendOutput(outputs, m.output);
          if (m.displayId) byDisplayId.set(m.displayId, outputs[outputs.length - 1]);
        } else if (m.type === "update_display" && m.cell === cell) {
          const out = byDisplayId.get(m.displayId);
          if (out && (out.output_type === "display_data" || out.output_type === "execute_result")) out.data = m.data;
        } else if (m.type === "done" && m.cell === cell) {
          finish({ ok: m.ok, outputs, timedOut: false });
        }
      };
      this.onExit = () => {
        outputs.push({ output_type: "error", ename: "DeadKernelError", evalue: `kernel ${this.exitInfo}`, traceback: [`kernel ${this.exitInfo} while running this cell`] });
        finish({ ok: false, outputs, timedOut: false });
      };
      if (Number.isFinite(timeoutS)) {
        timer = setTimeout(() => {
          this.onExit = null;
          this.kill();
          outputs.push({
            output_type: "error",
            ename: "CellTimeoutError",
            evalue: `cell did not finish within ${timeoutS} s`,
            traceback: [`CellTimeoutError: cell did not finish within ${timeoutS} s (the kernel was stopped)`],
          });
          finish({ ok: false, outputs, timedOut: true });
        }, Math.max(0, timeoutS * 1000));
      }
      const req: ToKernel = { type: "execute", cell, source };
      child.send(req);
    });
  }

  kill(): void {
    this.child?.kill("SIGKILL");
  }

  /** Ask the worker to exit; kill it when it does not within `graceS`. */
  async shutdown(graceS = 5): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, graceS * 1000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      const req: ToKernel = { type: "shutdown" };
      try {
        child.send(req);
      } catch {
        child.kill("SIGKILL");
      }
    });
  }
}

/** Append an output, merging consecutive text of the same stream (as Jupyter front ends do). */
export function appendOutput(outputs: Output[], out: Output): void {
  const last = outputs[outputs.length - 1];
  if (out.output_type === "stream" && last?.output_type === "stream" && last.name === out.name) {
    (last as StreamOutput).text = streamText(last) + streamText(out);
    return;
  }
  outputs.push(out.output_type === "stream" ? { ...out, text: streamText(out) } : out);
}

function streamText(s: StreamOutput): string {
  return Array.isArray(s.text) ? s.text.join("") : s.text;
}
