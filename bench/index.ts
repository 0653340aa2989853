import type { Benchmark } from "./harness";
import { report } from "./harness";
import { tileBenchmark } from "./tile";
import { dicomBenchmark } from "./dicom";
import { embedBenchmark } from "./embed";
import { trainBenchmarks } from "./train";
import { dataBenchmark } from "./data";

/**
 * `npm run bench [-- NAME ...]`: runs the project's benchmarks (all, or those named) and writes
 * bench/results/<name>.json. Each stage adds its benchmark module to the list below.
 */
const benchmarks: Benchmark[] = [tileBenchmark, dicomBenchmark, embedBenchmark, ...trainBenchmarks, dataBenchmark];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  if (process.argv.includes("--list")) {
    for (const b of benchmarks) console.log(`${b.name}\t${b.description}`);
    return;
  }
  const chosen = wanted.length ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
  const unknown = wanted.filter((w) => !benchmarks.some((b) => b.name === w));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(", ")}`);
  for (const b of chosen) report(await b.run());
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
