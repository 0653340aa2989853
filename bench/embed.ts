import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeBuiltinEncoder } from "../lib/embed/builtin";
import type { Encoder } from "../lib/embed/encoder";
import { loadOnnxEncoder } from "../lib/embed/onnxEncoder";
import { writeTinyVit } from "../lib/embed/tinyVit";
import type { StoreData } from "../lib/store/format";
import { openStore } from "../lib/store/read";
import { writeStore } from "../lib/store/write";
import { Rng } from "../lib/util/rng";
import type { Benchmark, BenchResult } from "./harness";

/** CPU seconds (user + system, all threads of this process) since `from`. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
}

/** Wall-clock tiles/s and tiles per CPU-second (the latter is steadier on a shared, busy machine). */
async function tilesPerSecond(enc: Encoder, count: number, batch: number): Promise<{ wall: number; perCpu: number }> {
  const S = enc.inputSizePx;
  const rng = new Rng(1);
  const data = Float32Array.from({ length: batch * S * S }, () => rng.uniform());
  await enc.embed(data, Math.min(batch, 4)); // warm-up
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += batch) await enc.embed(data, Math.min(batch, count - done));
  return { wall: count / (Number(process.hrtime.bigint() - t0) / 1e9), perCpu: count / cpuSeconds(c0) };
}

function storeData(tiles: number, dim: number, dtype: "float32" | "float16"): StoreData {
  const bags = 1000;
  const per = Math.floor(tiles / bags);
  const t = new Float32Array(per * bags * dim);
  for (let i = 0; i < t.length; i++) t[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const tileRows = new Int32Array(per * bags * 5);
  for (let i = 0; i < per * bags; i++) {
    tileRows[i * 5] = Math.floor(i / per);
    tileRows[i * 5 + 1] = Math.floor(i / per);
  }
  return {
    encoder: { name: "bench", dim, inputSizePx: 128, provider: "cpu", params: {} },
    dtype,
    bags: Array.from({ length: bags }, (_, b) => ({ bagId: `b${b}`, patientId: `p${b}`, label: (b % 2) as 0 | 1, split: "train" as const })),
    images: Array.from({ length: bags }, (_, b) => ({ imageId: `i${b}`, bagIndex: b, view: "CC" })),
    params: {},
    globals: t.subarray(0, bags * dim),
    tiles: t,
    globalRows: Int32Array.from({ length: bags * 2 }, (_, i) => Math.floor(i / 2)),
    tileRows,
  };
}

export const embedBenchmark: Benchmark = {
  name: "embed",
  description: "Encoders on CPU (built-in 128 px, tiny ViT 56 px): tiles/s; embedding store write/read GB/s",
  async run(): Promise<BenchResult> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-bench-embed-"));
    const rows: Record<string, number | string>[] = [];
    try {
      const builtin = await loadOnnxEncoder(await writeBuiltinEncoder(path.join(tmp, "builtin"), { inputSizePx: 128, dim: 256, seed: 0 }));
      const b = await tilesPerSecond(builtin, 2048, 64);
      rows.push({ case: "built-in encoder 128 px -> 256-d, batch 64", provider: builtin.provider, "tiles/s": b.wall, "tiles/CPU-s": b.perCpu });
      await builtin.close();
      const vit = await loadOnnxEncoder(writeTinyVit(path.join(tmp, "vit"), { sizePx: 56, hidden: 32 }));
      const v = await tilesPerSecond(vit, 2048, 64);
      rows.push({ case: "tiny ViT 56 px (DINOv2 path), batch 64", provider: vit.provider, "tiles/s": v.wall, "tiles/CPU-s": v.perCpu });
      await vit.close();
      for (const dtype of ["float32", "float16"] as const) {
        const data = storeData(200_000, 256, dtype);
        const dir = path.join(tmp, `store-${dtype}`);
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        writeStore(dir, data);
        const w = Number(process.hrtime.bigint() - t0) / 1e9;
        const wCpu = cpuSeconds(c0);
        const bytes = fs.statSync(path.join(dir, "tiles.bin")).size + fs.statSync(path.join(dir, "globals.bin")).size;
        const c1 = process.cpuUsage();
        const t1 = process.hrtime.bigint();
        const r = openStore(dir);
        let n = 0;
        for (let s = 0; s < r.meta.tileCount; s += 50_000) n += r.readTiles(s, Math.min(r.meta.tileCount, s + 50_000)).length;
        n += r.readGlobals().length;
        const rd = Number(process.hrtime.bigint() - t1) / 1e9;
        const rdCpu = cpuSeconds(c1);
        rows.push({ case: `store ${dtype}: write ${(bytes / 1e6).toFixed(0)} MB`, provider: "-", "GB/s": bytes / w / 1e9, "float32 GB/s": (n * 4) / w / 1e9, "GB/CPU-s": bytes / wCpu / 1e9 });
        rows.push({ case: `store ${dtype}: open + read in 50k-row chunks`, provider: "-", "GB/s": bytes / rd / 1e9, "float32 GB/s": (n * 4) / rd / 1e9, "GB/CPU-s": bytes / rdCpu / 1e9 });
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return {
      name: "embed",
      rows,
      notes: [
        "GB/s = bytes on disk per second; float32 GB/s = float32 bytes delivered to / taken from the caller.",
        "Reads right after the write come from the page cache; writes include fsync.",
        "tiles/CPU-s and GB/CPU-s divide by the CPU time this process used (all its threads): steadier than wall-clock rates when other jobs share the cores.",
        "CPU only: no GPU machine was lent to this session (onnxruntime-node here has no CUDA provider libraries).",
      ],
      context: { cores: os.cpus().length },
    };
  },
};
