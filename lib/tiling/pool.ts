import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { projectRoot } from "../util/paths";
import type { ProcessedImage, TileJob } from "./process";
import type { WorkerReply, WorkerRequest } from "./worker";

/** The compiled worker script: next to this file when running from dist/, else dist/ of the
 * project (tests run the TypeScript sources; build first with `npm run build`). */
export function workerScriptPath(): string {
  const here = path.join(__dirname, "worker.js");
  if (__filename.endsWith(".js") && fs.existsSync(here)) return here;
  const built = path.join(projectRoot(), "dist", "lib", "tiling", "worker.js");
  if (!fs.existsSync(built)) throw new Error(`${built}: compiled tiling worker missing; run \`npm run build\` (or use workers: 0)`);
  return built;
}

export type JobOutcome = { ok: true; image: ProcessedImage } | { ok: false; error: string };

/** Peak memory seen per worker (process-wide RSS as the worker saw it, and its own V8 heap), and its start. */
export interface WorkerMemory {
  peakRssBytes: number;
  peakHeapBytes: number;
  /** This worker's ArrayBuffer memory (pixel buffers live here, outside the V8 heap). */
  peakArrayBuffersBytes: number;
  /** Seconds from creating the worker to its modules being loaded (sharp and the library), when it answered at least once. */
  startS?: number;
}

/**
 * Run jobs on `workers` worker threads, each taking the next job when it finishes one.
 * `onDone` is called in the main thread in completion order; throwing from it stops the run
 * (used as the interruption hook in tests).
 */
export async function runPool(
  jobs: TileJob[],
  workers: number,
  onDone: (index: number, outcome: JobOutcome) => void,
): Promise<WorkerMemory[]> {
  const script = workerScriptPath();
  const n = Math.max(1, Math.min(workers, jobs.length));
  const memory: WorkerMemory[] = Array.from({ length: n }, (): WorkerMemory => ({ peakRssBytes: 0, peakHeapBytes: 0, peakArrayBuffersBytes: 0 }));
  if (jobs.length === 0) return memory;
  let next = 0;
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      let failed = false;
      const feed = (w: Worker): void => {
        if (next < jobs.length) {
          const id = next++;
          w.postMessage({ id, job: jobs[id] } satisfies WorkerRequest);
        }
      };
      for (let k = 0; k < n; k++) {
        const createdAtMs = Date.now();
        const w = new Worker(script);
        pool.push(w);
        w.on("message", (msg: WorkerReply) => {
          if (failed) return;
          const mem = memory[k];
          mem.startS ??= Math.max(0, (msg.loadedAtMs - createdAtMs) / 1000);
          mem.peakRssBytes = Math.max(mem.peakRssBytes, msg.rssBytes);
          mem.peakHeapBytes = Math.max(mem.peakHeapBytes, msg.heapBytes);
          mem.peakArrayBuffersBytes = Math.max(mem.peakArrayBuffersBytes, msg.arrayBuffersBytes);
          try {
            onDone(msg.id, msg.ok ? { ok: true, image: msg.image } : { ok: false, error: msg.error });
          } catch (e) {
            failed = true;
            reject(e);
            return;
          }
          finished++;
          if (finished === jobs.length) resolve();
          else feed(w);
        });
        w.on("error", (e) => {
          if (!failed) {
            failed = true;
            reject(new Error(`tiling worker ${k} crashed: ${e.message}`));
          }
        });
        feed(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return memory;
}
