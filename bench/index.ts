import type { Benchmark } from "./harness";
import { report } from "./harness";
import { selectTfBackend } from "../lib/util/backend";
import { tileBenchmark, tileVsPythonBenchmark } from "./tile";
import { dicomBenchmark } from "./dicom";
import { embedBenchmark } from "./embed";
import { trainBenchmarks } from "./train";
import { dataBenchmark } from "./data";
import { explainBenchmark } from "./explain";
import { sharpGridBenchmark } from "./sharpGrid";
import { speedBenchmarks } from "./speed";

/**
 * `npm run bench [-- NAME ...]`: runs the project's benchmarks (all, or those named) and writes
 * bench/results/<name>.json. Each stage adds its benchmark module to the list below.
 */
const benchmarks: Benchmark[] = [tileBenchmark, tileVsPythonBenchmark, dicomBenchmark, embedBenchmark, ...trainBenchmarks, dataBenchmark, explainBenchmark, sharpGridBenchmark, ...speedBenchmarks];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  if (process.argv.includes("--help")) {
    console.log("usage: npm run bench [-- NAME ...]   (all when no NAME)\n       npm run bench -- --list");
    return;
  }
  if (process.argv.includes("--list")) {
    for (const b of benchmarks) console.log(`${b.name}\t${b.description}`);
    return;
  }
  const chosen = wanted.length ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
  const unknown = wanted.filter((w) => !benchmarks.some((b) => b.name === w));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(", ")}`);
  // The tfjs backend used goes into each result (a benchmark that sets its own keeps it).
  const backend = await selectTfBackend();
  const failed: string[] = [];
  for (const b of chosen) {
    try {
      const r = await b.run();
      report({ ...r, context: { tfjsBackend: backend.name, tfjsBackendReason: backend.reason, ...(r.context ?? {}) } });
    } catch (e) {
      // one broken benchmark does not hide the others' numbers
      failed.push(b.name);
      console.error(`benchmark ${b.name} failed: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  if (failed.length) throw new Error(`benchmark(s) failed: ${failed.join(", ")}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
