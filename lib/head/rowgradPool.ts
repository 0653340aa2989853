import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { runSlice, type SliceJob, type SliceResult } from "./rowgrad";

/**
 * The hand-written head after H on several threads. The caller cuts each config group's runs into
 * slices (`runSlice` jobs); the packed H and dH of a chunk live in SharedArrayBuffers (`shared`),
 * so a job message carries only the slice's small parameters and the chunk layout: each worker
 * reads its own columns of H in place, computes, and writes its columns of dH. Jobs are posted
 * without blocking, so the caller can run the next X pass (onnxruntime, on the main thread)
 * while the workers compute. Needs the compiled worker (dist/lib/head/rowgradWorker.js); where
 * it does not exist (tests run the TypeScript sources) the jobs run in the calling thread.
 */
export class RowgradPool {
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: SliceResult) => void; reject: (e: Error) => void }>();

  constructor(threads: number) {
    const file = path.join(__dirname, "rowgradWorker.js");
    if (threads <= 1 || !fs.existsSync(file)) return;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(file);
      w.on("message", (m: { id: number; result?: SliceResult; error?: string }) => {
        const f = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) f?.reject(new Error(`head worker: ${m.error}`));
        else f?.resolve(m.result as SliceResult);
      });
      w.on("error", (e) => {
        for (const f of this.pending.values()) f.reject(e);
        this.pending.clear();
      });
      // kept referenced: an unref'd worker lets Node exit while a job is awaited; close() ends them
      this.workers.push(w);
    }
  }

  get threads(): number {
    return Math.max(1, this.workers.length);
  }

  /** Whether jobs cross threads (so H and dH must live in shared memory). */
  get sharesMemory(): boolean {
    return this.workers.length > 0;
  }

  /** A zeroed float32 array the workers can read and write without copies (plain memory without workers). */
  shared(n: number): Float32Array {
    return this.workers.length ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
  }

  /** Move a result of onnxruntime into shared memory (one memcpy; no-op without workers). */
  share(a: Float32Array): Float32Array {
    if (!this.workers.length || a.buffer instanceof SharedArrayBuffer) return a;
    const s = this.shared(a.length);
    s.set(a);
    return s;
  }

  /**
   * Start the jobs (posted at once; the returned promise resolves when all are done, results in
   * job order). Without workers they run here, before this returns.
   */
  run(jobs: SliceJob[]): Promise<SliceResult[]> {
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(jobs.map(runSlice));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    for (const j of jobs) {
      for (const a of [j.hg, j.ht, j.dHg, j.dHt]) {
        if (a && !(a.buffer instanceof SharedArrayBuffer)) throw new Error("RowgradPool.run: H and dH must live in shared memory (pool.shared / pool.share)");
      }
    }
    return Promise.all(
      jobs.map((job) => {
        const id = this.nextId++;
        const w = this.workers[this.next++ % this.workers.length];
        return new Promise<SliceResult>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          w.postMessage({ id, job });
        });
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
