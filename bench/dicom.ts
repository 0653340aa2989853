import type { Benchmark, BenchResult } from "./harness";
import { WRITABLE_TRANSFER_SYNTAXES, encodeDicom, readDicomBytes, type DicomWriteInput } from "../lib/dicom";
import { powerLawTexturePair } from "../lib/data/texture";
import { Rng } from "../lib/util/rng";

/**
 * A full-size 12-bit mammogram-like test image: a half-ellipse breast on the chest-wall side with
 * 1/f^3 texture (lib/data's generator) plus per-pixel quantum noise, exact-zero background.
 * The noise matters: it is what limits lossless compression on real detectors.
 */
export function benchImage(rows: number, columns: number, seed = 1): Uint16Array {
  const rng = new Rng(seed);
  const [tex] = powerLawTexturePair(columns, rows, rng, { maxFftSizePx: 1024 });
  const px = new Uint16Array(rows * columns);
  const cy = rows / 2;
  const ry = rows * 0.46;
  const rx = columns * 0.8;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const e = (x / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (e >= 1) continue;
      const thickness = Math.sqrt(1 - e);
      const v = 600 + 1800 * thickness + 450 * tex[y * columns + x] + rng.normal(0, 12);
      px[y * columns + x] = Math.max(1, Math.min(4095, Math.round(v)));
    }
  }
  return px;
}

function input(px: Uint16Array, rows: number, columns: number, ts: DicomWriteInput["transferSyntax"]): DicomWriteInput {
  return {
    pixels: px,
    rows,
    columns,
    bitsStored: 12,
    photometric: "MONOCHROME2",
    transferSyntax: ts,
    tags: {
      patientId: "BENCH",
      studyInstanceUid: "2.25.1",
      seriesInstanceUid: "2.25.1.1",
      sopInstanceUid: "2.25.1.1.1",
      laterality: "L",
      viewPosition: "CC",
      windowCenter: 2048,
      windowWidth: 4096,
      pixelSpacingMm: [0.07, 0.07],
      pixelPaddingValue: 0,
    },
  };
}

export const dicomBenchmark: Benchmark = {
  name: "dicom",
  description: "DICOM decode speed (images/s, MB/s) per transfer syntax on a 3328 x 4096 12-bit image; encode time and size",
  async run(): Promise<BenchResult> {
    const rows = Number(process.env.MILPF_BENCH_DICOM_ROWS ?? 4096);
    const columns = Number(process.env.MILPF_BENCH_DICOM_COLUMNS ?? 3328);
    const budgetS = Number(process.env.MILPF_BENCH_DICOM_SECONDS_PER_SYNTAX ?? 6);
    const t0 = performance.now();
    const px = benchImage(rows, columns);
    const genS = (performance.now() - t0) / 1000;
    const rawMB = (rows * columns * 2) / 1e6;
    const out: BenchResult["rows"] = [];
    for (const ts of WRITABLE_TRANSFER_SYNTAXES) {
      const e0 = performance.now();
      const bytes = await encodeDicom(input(px, rows, columns, ts));
      const encodeS = (performance.now() - e0) / 1000;
      // decode at least twice (the first call also loads wasm codecs), up to the time budget
      const times: number[] = [];
      const start = performance.now();
      while (times.length < 2 || (performance.now() - start) / 1000 < budgetS) {
        const d0 = performance.now();
        const img = await readDicomBytes(bytes, `bench-${ts}.dcm`);
        times.push((performance.now() - d0) / 1000);
        if (img.pixels[rows * (columns >> 1)] !== px[rows * (columns >> 1)]) throw new Error(`${ts}: decode mismatch`);
        if (times.length >= 20) break;
      }
      const steady = times.slice(1);
      const decodeS = steady.reduce((a, b) => a + b, 0) / steady.length;
      out.push({
        transferSyntax: ts,
        fileMB: bytes.length / 1e6,
        ratio: rawMB / (bytes.length / 1e6),
        encodeS,
        decodeS,
        imagesPerS: 1 / decodeS,
        decodedMBPerS: rawMB / decodeS,
        runs: steady.length,
      });
    }
    return {
      name: "dicom",
      rows: out,
      notes: [
        `${columns} x ${rows} 12-bit image (in 16-bit words: ${rawMB.toFixed(1)} MB), generated in ${genS.toFixed(1)} s`,
        "decode = readDicomBytes from memory (parse + decode + stored-value fix-up), mean over runs after the first",
        "MB/s counts decoded pixel bytes (2 per pixel)",
      ],
      context: { rows, columns, bitsStored: 12 },
    };
  },
};
