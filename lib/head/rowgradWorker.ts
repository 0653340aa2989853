import { parentPort } from "node:worker_threads";
import { runSlice, type SliceJob } from "./rowgrad";

/** Worker side of RowgradPool: one slice of runs of one group per message (H / dH in shared memory). */
parentPort?.on("message", (m: { id: number; job: SliceJob }) => {
  try {
    const r = runSlice(m.job);
    const transfer: ArrayBuffer[] = [];
    for (const a of [r.loss, r.logits, ...Object.values(r.params ?? {})]) if (a) transfer.push(a.buffer as ArrayBuffer);
    parentPort?.postMessage({ id: m.id, result: r }, transfer);
  } catch (e) {
    parentPort?.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
