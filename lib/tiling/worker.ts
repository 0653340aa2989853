/**
 * Worker-thread entry for `runTiling`: receives TileJob messages, answers with the processed
 * image or the error text. Compiled to dist/lib/tiling/worker.js (worker threads need JS).
 */
import { parentPort } from "node:worker_threads";
import sharp from "sharp";
import { memoryCheckpoint, memoryPeak, processImage, type ProcessedImage, type TileJob } from "./process";

/** When this worker's modules were loaded (Date.now()), sent with every reply. */
const loadedAtMs = Date.now();

export interface WorkerRequest {
  id: number;
  job: TileJob;
}
/** Peak memory of the job: process RSS, this worker's V8 heap and its ArrayBuffers; and when the worker was ready. */
export interface WorkerMemorySample {
  rssBytes: number;
  heapBytes: number;
  arrayBuffersBytes: number;
  loadedAtMs: number;
}
export type WorkerReply =
  | ({ id: number; ok: true; image: ProcessedImage } & WorkerMemorySample)
  | ({ id: number; ok: false; error: string } & WorkerMemorySample);

if (parentPort) {
  const port = parentPort;
  // libvips' operation cache only holds memory here: every image is new.
  sharp.cache(false);
  port.on("message", (msg: WorkerRequest) => {
    memoryPeak.rssBytes = 0;
    memoryPeak.heapBytes = 0;
    memoryPeak.arrayBuffersBytes = 0;
    const sample = (): WorkerMemorySample => {
      memoryCheckpoint();
      return { ...memoryPeak, loadedAtMs };
    };
    processImage(msg.job).then(
      (image) => port.postMessage({ id: msg.id, ok: true, image, ...sample() } satisfies WorkerReply),
      (e: unknown) => port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e), ...sample() } satisfies WorkerReply),
    );
  });
}
