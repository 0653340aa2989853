import type { Command } from "commander";
import { writeFileAtomicAsync } from "../../lib/util/atomic";
import { type DicomImage, TRANSFER_SYNTAX_NAMES, previewPng, readDicom, writeNpy } from "../../lib/dicom";

interface DicomCommandOptions {
  json?: boolean;
  png?: string;
  npy?: string;
  bits?: string;
  maxSide?: string;
  window?: string;
}

/** The key tags and pixel statistics `milpf dicom` prints (everything but the pixels). */
export function dicomSummary(img: DicomImage): Record<string, unknown> {
  const { pixels, voiLut, ...tags } = img;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return {
    ...tags,
    transferSyntaxName: TRANSFER_SYNTAX_NAMES[img.transferSyntaxUid] ?? null,
    voiLut: voiLut ? { firstMapped: voiLut.firstMapped, bits: voiLut.bits, entries: voiLut.data.length } : null,
    storedMin: min,
    storedMax: max,
    storedMean: sum / pixels.length,
  };
}

function parseWindow(text: string): { center: number; width: number } {
  const m = /^\s*(-?[\d.]+)\s*[,/:]\s*([\d.]+)\s*$/.exec(text);
  if (!m) throw new Error(`--window expects CENTER,WIDTH, got "${text}"`);
  return { center: Number(m[1]), width: Number(m[2]) };
}

export function register(program: Command): void {
  program
    .command("dicom")
    .description("read a DICOM file: print its key tags, write a windowed PNG preview and/or the stored pixels as .npy")
    .argument("<file>", "DICOM file")
    .option("--json", "print the tags as JSON")
    .option("--png <out>", "write a windowed PNG preview (presentation: bright = dense)")
    .option("--bits <n>", "PNG bit depth, 8 or 16", "8")
    .option("--max-side <px>", "downscale the PNG so its longer side is at most this")
    .option("--window <center,width>", "override the file's window for the PNG")
    .option("--npy <out>", "write the stored pixel values (before rescale and VOI) as NumPy .npy [rows, columns]")
    .action(async (file: string, opts: DicomCommandOptions) => {
      const bits = Number(opts.bits ?? "8");
      if (bits !== 8 && bits !== 16) throw new Error(`--bits must be 8 or 16, got ${opts.bits}`);
      const maxSidePx = opts.maxSide !== undefined ? Number(opts.maxSide) : undefined;
      if (maxSidePx !== undefined && !(maxSidePx >= 1)) throw new Error(`--max-side must be a positive number, got ${opts.maxSide}`);
      const window = opts.window !== undefined ? parseWindow(opts.window) : undefined;
      const img = await readDicom(file);
      const summary = dicomSummary(img);
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      } else {
        for (const [k, v] of Object.entries(summary)) {
          if (k === "file") continue;
          process.stdout.write(`${k.padEnd(24)} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}\n`);
        }
      }
      if (opts.png) {
        const png = await previewPng(img, { bits, maxSidePx, ...(window ? { window } : {}) });
        await writeFileAtomicAsync(opts.png, png);
        if (!opts.json) process.stdout.write(`wrote ${opts.png}\n`);
      }
      if (opts.npy) {
        await writeNpy(opts.npy, img.pixels, [img.rows, img.columns]);
        if (!opts.json) process.stdout.write(`wrote ${opts.npy}\n`);
      }
    });
}
