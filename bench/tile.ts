import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Benchmark, BenchResult } from "./harness";

/**
 * Stage 1 throughput: full-size (3328 x 4096) synthetic DICOMs, uncompressed and JPEG 2000,
 * through decode + preprocess + PNG writes to the manifest, on all cores (worker threads).
 * Few images so that it stays under ~2 minutes on 2 cores.
 */
export const tileBenchmark: Benchmark = {
  name: "tile",
  description: "milpf tile: images/s and peak memory per worker, 3328x4096 DICOMs (raw, JPEG 2000) on all cores",
  async run(): Promise<BenchResult> {
    const { writeBenchDicoms } = await import("./tileData");
    const { runTilingWithStats } = await import("../lib/tiling");
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-bench-tile-"));
    const rows: Record<string, number | string>[] = [];
    // JPEG 2000 decoding (openjpeg wasm) is ~4x slower: fewer images there.
    const nImages = { "explicit-le": Number(process.env.MILPF_BENCH_TILE_IMAGES ?? 4), "jpeg2000-lossless": Number(process.env.MILPF_BENCH_TILE_IMAGES_J2K ?? 2) };
    try {
      for (const syntax of ["explicit-le", "jpeg2000-lossless"] as const) {
        const dir = path.join(root, syntax);
        const t0 = Date.now();
        const records = await writeBenchDicoms(dir, nImages[syntax], syntax);
        const genS = (Date.now() - t0) / 1000;
        const workers = os.cpus().length;
        const { stats } = await runTilingWithStats({
          datasetDir: dir,
          adapter: "bench",
          outDir: path.join(dir, "tiles"),
          splitsFile: path.join(dir, "splits.csv"),
          params: { workingSizePx: 4096, tileSizePx: 518, globalSizePx: 518, overlap: 0 },
          workers,
          records,
          progress: false,
        });
        const mb = (b: number): number => Math.round(b / 2 ** 20);
        rows.push({
          syntax,
          images: stats.images,
          skipped: stats.skipped,
          workers,
          seconds: stats.seconds,
          imagesPerS: stats.images / stats.seconds,
          tilesPerImage: stats.tiles / Math.max(1, stats.images),
          peakRssMiB: Math.max(...stats.workerMemory.map((m) => mb(m.peakRssBytes))),
          peakHeapMiBPerWorker: Math.max(...stats.workerMemory.map((m) => mb(m.peakHeapBytes))),
          peakArrayBufMiBPerWorker: Math.max(...stats.workerMemory.map((m) => mb(m.peakArrayBuffersBytes))),
          generateS: genS,
        });
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    return {
      name: "tile",
      rows,
      notes: [
        "working 4096 px, tiles 518 px, overlap 0, maskFraction rule; time = decode + preprocess + PNG writes + manifest",
        "peakRssMiB: whole process (main + all workers share it) at checkpoints in each image; heap and ArrayBuffers: per worker",
      ],
    };
  },
};
