import { FULL_CONFIG, openEmbeddingSource, trainGrid } from "../lib/head";

/**
 * Child process of `npm run bench -- train-vs-torch` (bench/speed.ts), the counterpart of
 * bench/torch_head.py: trains R seeds of the full head on a store for E epochs (no early
 * stopping) and prints one JSON line {secPerEpoch, peakRssMiB, timing}. A process of its own, so
 * that its peak RSS is this workload's alone (the parent's would hold every earlier case).
 *   node dist/bench/oursHead.js --store DIR --runs R --epochs E
 */
function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`bench/oursHead: --${name} is required`);
  return process.argv[i + 1];
}

async function main(): Promise<void> {
  const runs = Number(arg("runs"));
  const epochs = Number(arg("epochs"));
  const src = openEmbeddingSource(arg("store"));
  const secPerEpoch: number[] = [];
  try {
    const res = await trainGrid({ source: src, configs: [FULL_CONFIG], seeds: Array.from({ length: runs }, (_, i) => i), epochs, patience: 10_000, progress: false, onEpoch: (e) => secPerEpoch.push(e.seconds) });
    process.stdout.write(JSON.stringify({ secPerEpoch, peakRssMiB: process.resourceUsage().maxRSS / 1024, timing: res.timing }) + "\n");
  } finally {
    src.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
