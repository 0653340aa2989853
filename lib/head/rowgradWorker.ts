import { parentPort } from "node:worker_threads";
import type { ChunkLayout, GroupArrays } from "./batched";
import { groupsLogitsJs, groupsLossAndGradsJs } from "./rowgrad";

/** Worker side of RowgradPool: one slice of runs of one group per message. */
interface Job {
  id: number;
  withGrads: boolean;
  layout: ChunkLayout;
  group: GroupArrays;
}

parentPort?.on("message", (job: Job) => {
  if (job.withGrads) {
    const g = groupsLossAndGradsJs(job.layout, [job.group])[0];
    const transfer: ArrayBuffer[] = [g.loss.buffer as ArrayBuffer, ...Object.values(g.params).map((a) => a.buffer as ArrayBuffer)];
    if (g.dGlobal) transfer.push(g.dGlobal.buffer as ArrayBuffer);
    if (g.dTile) transfer.push(g.dTile.buffer as ArrayBuffer);
    parentPort?.postMessage({ id: job.id, grads: g }, transfer);
  } else {
    const logits = groupsLogitsJs(job.layout, [job.group])[0];
    parentPort?.postMessage({ id: job.id, logits }, [logits.buffer as ArrayBuffer]);
  }
});
