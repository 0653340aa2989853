import { parentPort, workerData } from "node:worker_threads";
import { type BreastTask, renderAndWriteBreast } from "./synthRender";

/**
 * Worker-thread entry of the synthetic generator: receives {id, task} messages, renders and
 * writes the breast, answers {id, result} or {id, error}. Started by generateSyntheticDataset
 * from the compiled dist/ file.
 */
interface WorkerInit {
  outDir: string;
}

const init = workerData as WorkerInit;
if (parentPort) {
  const port = parentPort;
  port.on("message", (msg: { id: number; task: BreastTask }) => {
    renderAndWriteBreast(init.outDir, msg.task).then(
      (result) => port.postMessage({ id: msg.id, result }),
      (e: unknown) => port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
}
