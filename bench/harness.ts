import * as os from "node:os";
import * as path from "node:path";
import { writeJsonAtomic } from "../lib/util/atomic";
import { projectRoot } from "../lib/util/paths";

/** One benchmark's outcome: a table of rows plus free-form notes. */
export interface BenchResult {
  name: string;
  rows: Record<string, number | string>[];
  notes?: string[];
  /** Extra machine facts (e.g. the tfjs backend used). */
  context?: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  /** One-line description for `npm run bench -- --list`. */
  description: string;
  run(): Promise<BenchResult>;
}

/** Print a benchmark's table and write its numbers to bench/results/<name>.json. */
export function report(result: BenchResult): string {
  const cols = Array.from(new Set(result.rows.flatMap((r) => Object.keys(r))));
  const fmt = (v: number | string | undefined): string =>
    v === undefined ? "" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v;
  const widths = cols.map((c) => Math.max(c.length, ...result.rows.map((r) => fmt(r[c]).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  const text = [
    `== ${result.name} ==`,
    line(cols),
    line(widths.map((w) => "-".repeat(w))),
    ...result.rows.map((r) => line(cols.map((c) => fmt(r[c])))),
    ...(result.notes ?? []).map((n) => `note: ${n}`),
  ].join("\n");
  console.log(text + "\n");
  const file = path.join(projectRoot(), "bench", "results", `${result.name}.json`);
  writeJsonAtomic(file, {
    ...result,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? "unknown", memoryGiB: os.totalmem() / 2 ** 30, node: process.version },
    at: new Date().toISOString(),
  });
  return text;
}
