import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Benchmark, BenchResult } from "./harness";
import { loadavg, machine, median, PYTHON } from "./speed";
import type { ImageRecord } from "../lib/types";
import { projectRoot } from "../lib/util/paths";
import { nativeJ2kDecoder } from "../lib/dicom/codecs/native";

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


/** What /usr/bin/python3 lacks for bench/tile_python.py (null: nothing), and whether Pillow reads JPEG 2000. */
function pythonReady(): { missing: string | null; j2k: boolean; versions: string } {
  const r = spawnSync(
    PYTHON,
    ["-c", "import pydicom, cv2, numpy; from PIL import features; print(pydicom.__version__, cv2.__version__, numpy.__version__, features.check('jpg_2000'))"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) return { missing: (r.stderr.trim().split("\n").pop() ?? "") || `exit ${r.status}`, j2k: false, versions: "" };
  const [pydicom, cv2, numpy, j2k] = r.stdout.trim().split(" ");
  return { missing: null, j2k: j2k === "True", versions: `pydicom ${pydicom}, cv2 ${cv2}, numpy ${numpy}` };
}

/**
 * CPU seconds used so far by this process (all its threads) and, separately, by its waited-for
 * child processes and theirs (Linux /proc/self/stat utime+stime, cutime+cstime); null elsewhere.
 * On a shared machine CPU seconds per image move less with the load than wall time does.
 */
function cpuSeconds(): { self: number; children: number } | null {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    // fields after the ")" that closes the command name: state is field 3, utime 14 ... cstime 17
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const tick = 100; // USER_HZ on Linux
    return { self: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
  } catch {
    return null;
  }
}

/** One run of the Python pipeline on `files` into a fresh folder; its own timing (after imports), the process's wall time and CPU seconds. */
function pythonRun(files: string[], outDir: string, workers: number): { seconds: number; withImportsS: number; wallS: number; cpuS: number; tiles: number; steps: Record<string, number> } {
  fs.rmSync(outDir, { recursive: true, force: true });
  const script = path.join(projectRoot(), "bench", "tile_python.py");
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(PYTHON, [script, "--out", outDir, "--workers", String(workers), ...files], { encoding: "utf8", maxBuffer: 1 << 24 });
  const wallS = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  const cpuS = c0 && c1 ? c1.children - c0.children : NaN;
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as { seconds: number; secondsWithImports: number; images: number; tiles: number; stepSeconds: Record<string, number> };
  if (out.images !== files.length) throw new Error(`${script}: ${out.images} of ${files.length} images done`);
  return { seconds: out.seconds, withImportsS: out.secondsWithImports, wallS, cpuS, tiles: out.tiles, steps: out.stepSeconds };
}

/** One run of ours (runTilingWithStats, worker threads) into a fresh folder, so that nothing is reused. */
async function oursRun(records: ImageRecord[], dir: string, outDir: string, workers: number): Promise<{ seconds: number; startS: number; wallS: number; cpuS: number; tiles: number }> {
  const { runTilingWithStats } = await import("../lib/tiling");
  fs.rmSync(outDir, { recursive: true, force: true });
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const { stats } = await runTilingWithStats({
    datasetDir: dir,
    adapter: "bench",
    outDir,
    splitsFile: path.join(dir, "splits.csv"),
    params: { workingSizePx: 4096, tileSizePx: 518, globalSizePx: 518, overlap: 0 },
    workers,
    records,
    progress: false,
  });
  const wallS = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  // this process's threads (main, workers, libuv/libvips) and the decoders it ran (opj_decompress)
  const cpuS = c0 && c1 ? c1.self - c0.self + (c1.children - c0.children) : NaN;
  if (stats.processed !== records.length) throw new Error(`tile-vs-python: ours processed ${stats.processed} of ${records.length} images (skipped ${stats.skipped})`);
  // the workers' start (loading sharp and the library), as python's imports: the last worker's
  const startS = Math.max(0, ...stats.workerMemory.map((m) => m.startS ?? 0));
  return { seconds: stats.seconds, startS, wallS, cpuS, tiles: stats.tiles };
}

/**
 * Stage 1 against a pydicom + OpenCV pipeline doing the same work (bench/tile_python.py, Debian's
 * python3-pydicom and python3-opencv): the same generated DICOMs, both with one worker per core,
 * alternating in rounds. Sizes from the environment:
 *   MILPF_BENCH_TILEPY_IMAGES 16, MILPF_BENCH_TILEPY_IMAGES_J2K 6, MILPF_BENCH_TILEPY_ROUNDS 3
 * (enough images that the start of either side is a few % of its time)
 */
export const tileVsPythonBenchmark: Benchmark = {
  name: "tile-vs-python",
  description: "milpf tile vs a pydicom + OpenCV pipeline (python3-pydicom, python3-opencv): images/s side by side, raw and JPEG 2000, alternating",
  async run(): Promise<BenchResult> {
    const py = pythonReady();
    if (py.missing) {
      console.error(`tile-vs-python: skipped: ${PYTHON} cannot import pydicom, cv2 and numpy (${py.missing}; Debian: apt-get install python3-pydicom python3-opencv)`);
      return { name: "tile-vs-python", rows: [], notes: [`skipped: ${py.missing}`], context: machine() };
    }
    const { writeBenchDicoms } = await import("./tileData");
    const nImages = {
      "explicit-le": Number(process.env.MILPF_BENCH_TILEPY_IMAGES ?? 16),
      "jpeg2000-lossless": Number(process.env.MILPF_BENCH_TILEPY_IMAGES_J2K ?? 6),
    };
    const rounds = Number(process.env.MILPF_BENCH_TILEPY_ROUNDS ?? 3);
    const workers = os.cpus().length;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-bench-tilepy-"));
    const rows: Record<string, number | string>[] = [];
    const notes: string[] = [];
    const load0 = loadavg();
    try {
      for (const syntax of ["explicit-le", "jpeg2000-lossless"] as const) {
        if (syntax === "jpeg2000-lossless" && !py.j2k) {
          notes.push("jpeg2000-lossless skipped: Pillow of /usr/bin/python3 has no JPEG 2000 (Debian: python3-pil with libopenjp2)");
          continue;
        }
        if (nImages[syntax] <= 0) continue;
        const dir = path.join(root, syntax);
        const records = await writeBenchDicoms(dir, nImages[syntax], syntax);
        const files = records.map((r) => r.filePath);
        const ours: { seconds: number; startS: number; wallS: number; cpuS: number; tiles: number }[] = [];
        const theirs: { seconds: number; withImportsS: number; wallS: number; cpuS: number; tiles: number; steps: Record<string, number> }[] = [];
        for (let r = 0; r < rounds; r++) {
          // alternate the order between rounds so that drifting load hits both sides alike
          const runOurs = async (): Promise<void> => void ours.push(await oursRun(records, dir, path.join(dir, "ours"), workers));
          const runTheirs = (): void => void theirs.push(pythonRun(files, path.join(dir, "python"), workers));
          if (r % 2 === 0) {
            await runOurs();
            runTheirs();
          } else {
            runTheirs();
            await runOurs();
          }
        }
        const n = records.length;
        const oursRate = ours.map((o) => n / o.seconds);
        const theirRate = theirs.map((t) => n / t.seconds);
        const ratios = oursRate.map((o, i) => o / theirRate[i]);
        // python's time counted from before its imports, as ours counts its workers' start (module loading)
        const ratiosWithImports = ours.map((o, i) => theirs[i].withImportsS / o.seconds);
        // neither side's start counted: ours without its workers' start, python without its imports
        const ratiosNoStart = ours.map((o, i) => theirs[i].seconds / (o.seconds - o.startS));
        const steps = theirs[theirs.length - 1].steps;
        rows.push({
          syntax,
          images: n,
          workers,
          "ours images/s": median(oursRate),
          "python images/s": median(theirRate),
          "ratio ours/python (per round)": ratios.map((x) => x.toFixed(2)).join(" "),
          "median ratio": median(ratios),
          "ratio, python incl. imports (per round)": ratiosWithImports.map((x) => x.toFixed(2)).join(" "),
          "median ratio incl. imports": median(ratiosWithImports),
          "ratio, neither start counted (per round)": ratiosNoStart.map((x) => x.toFixed(2)).join(" "),
          "median ratio, neither start counted": median(ratiosNoStart),
          "ours workers' start s (per round)": ours.map((o) => o.startS.toFixed(2)).join(" "),
          "ours CPU s/image": median(ours.map((o) => o.cpuS / n)),
          "python CPU s/image": median(theirs.map((t) => t.cpuS / n)),
          "ours wall s (per round)": ours.map((o) => o.wallS.toFixed(1)).join(" "),
          "python wall s (per round)": theirs.map((t) => t.wallS.toFixed(1)).join(" "),
          "tiles ours/python": `${ours[0].tiles}/${theirs[0].tiles}`,
          "python s/image by step": Object.entries(steps)
            .map(([k, v]) => `${k} ${(v / n).toFixed(2)}`)
            .join(", "),
          load: loadavg(),
        });
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    return {
      name: "tile-vs-python",
      rows,
      notes: [
        "3328 x 4096 14-bit DICOMs (bench/tileData.ts); working 4096 px, global 518 px, tiles 518 px, overlap 0, maskFraction rule; ratio > 1: ours faster",
        `ours: runTilingWithStats, ${workers} worker threads, fresh output folder each round (nothing reused); its seconds include hashing, done-records, atomic writes and the manifest; JPEG 2000 decoded by ${nativeJ2kDecoder()?.path ?? "the OpenJPEG wasm build (no grk_decompress or opj_decompress on the PATH)"}`,
        `python: bench/tile_python.py (${py.versions}), ${workers} processes; images/s and "ratio" from its seconds after the imports (numpy, cv2, pydicom: ~0.3-0.6 s, not counted), while ours counts its workers' start (each loads sharp and the library: ~0.2-0.4 s); "ratio incl. imports" counts python's imports too; "neither start counted" leaves out ours' workers' start (until the last worker has loaded its modules) as python's imports are left out; wall s: the whole process (interpreter start included)`,
        "CPU s/image: user + system seconds of all threads and child processes over the run (ours: the whole run; python: the interpreter with its imports), median over rounds; less moved by other load than images/s",
        `rounds alternate the order; load average at start ${load0}, end ${loadavg()} (the machine may be shared: compare ratios, not absolute rates)`,
        ...notes,
      ],
      context: machine(),
    };
  },
};
