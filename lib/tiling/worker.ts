/**
 * Worker-thread entry for `runTiling`: receives TileJob messages, answers with the processed
 * image or the error text. Compiled to dist/lib/tiling/worker.js (worker threads need JS).
 */
import { parentPort } from "node:worker_threads";
import { processImage, type TileJob } from "./process";

export interface WorkerRequest {
  id: number;
  job: TileJob;
}
export type WorkerReply =
  | { id: number; ok: true; image: import("./process").ProcessedImage; rssBytes: number; heapBytes: number }
  | { id: number; ok: false; error: string; rssBytes: number; heapBytes: number };

if (parentPort) {
  const port = parentPort;
  port.on("message", (msg: WorkerRequest) => {
    processImage(msg.job).then(
      (image) => {
        const m = process.memoryUsage();
        port.postMessage({ id: msg.id, ok: true, image, rssBytes: m.rss, heapBytes: m.heapUsed } satisfies WorkerReply);
      },
      (e: unknown) => {
        const m = process.memoryUsage();
        port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e), rssBytes: m.rss, heapBytes: m.heapUsed } satisfies WorkerReply);
      },
    );
  });
}
