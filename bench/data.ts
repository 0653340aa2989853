import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generateSyntheticDataset } from "../lib/data/synthetic";
import type { BenchResult, Benchmark } from "./harness";

/**
 * Synthetic data generation: the default set (100 patients, 1024 px tall, all transfer syntaxes
 * of the default cycle, worker threads) and one full-size patient (4 images 3328 x 4096).
 * Env MILPF_BENCH_DATA_PATIENTS overrides the patient count of the default set.
 */
export const dataBenchmark: Benchmark = {
  name: "data",
  description: "synthetic dataset generation: default set (100 patients, 1024 px) and full-size images (3328 x 4096)",
  async run(): Promise<BenchResult> {
    const rows: Record<string, number | string>[] = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-bench-data-"));
    const patients = Number(process.env.MILPF_BENCH_DATA_PATIENTS ?? 100);
    try {
      for (const [label, n, heightPx] of [
        ["default set", patients, 1024],
        ["full size", 1, 4096],
      ] as const) {
        const dir = path.join(tmp, `h${heightPx}`);
        const t0 = process.hrtime.bigint();
        const cpu0 = process.cpuUsage();
        const s = await generateSyntheticDataset({ outDir: dir, patients: n, heightPx, seed: 0, progress: false });
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = process.cpuUsage(cpu0);
        const t1 = process.hrtime.bigint();
        const again = await generateSyntheticDataset({ outDir: dir, patients: n, heightPx, seed: 0, progress: false });
        const rerunSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
        let bytes = 0;
        const walk = (d: string): void => {
          for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else bytes += fs.statSync(p).size;
          }
        };
        walk(dir);
        rows.push({
          run: label,
          patients: s.patients,
          images: s.images,
          size: `${s.widthPx}x${s.heightPx}`,
          workers: s.workers,
          seconds,
          // user + system CPU of all threads (the workers included): the time on an idle machine is ~ this / cores
          "cpu s": (cpu.user + cpu.system) / 1e6,
          "images/s": s.images / seconds,
          "s/image": seconds / s.images,
          "re-run s": rerunSeconds,
          "reused": again.imagesReused,
          MB: bytes / 2 ** 20,
        });
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return {
      name: "data",
      rows,
      notes: [
        "default transfer-syntax cycle of 12 (explicit LE x3, implicit LE x2, JPEG-LS x2, JPEG 2000, RLE, JPEG lossless SV1, explicit BE, deflated)",
        `machine load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(" ")} (2 cores shared with other work)`,
      ],
    };
  },
};
