import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSyntheticDataset, type ImageTruth } from "../../lib/data";
import { boxOriginalToWorking, decodeMaskPng, maskIoU, workingToOriginal } from "../../lib/preprocess";
import { readMask, runTilingWithStats, workerScriptPath } from "../../lib/tiling";
import type { ImageRecord, TileManifest } from "../../lib/types";

/**
 * End to end on the lib/data synthetic set (real DICOMs in mixed transfer syntaxes, MONOCHROME1
 * images, chest wall on the unusual side for some breasts): orientation, mask vs the generator's
 * silhouette, lesion coverage, worker threads = in-process.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-tile-synth-"));
const dataDir = path.join(root, "synthetic");
let truths: ImageTruth[] = [];
let records: ImageRecord[] = [];

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

beforeAll(async () => {
  await generateSyntheticDataset({ outDir: dataDir, patients: 3, heightPx: 512, seed: 11, workers: 1, progress: false, flippedRate: 0.5, prevalence: 0.6 });
  truths = walk(path.join(dataDir, "ground_truth"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as ImageTruth)
    .sort((a, b) => (a.imageId < b.imageId ? -1 : 1));
  records = truths.map((t, i) => ({
    patientId: t.studyId,
    studyId: t.studyId,
    imageId: t.imageId,
    breastId: `${t.studyId}_${t.laterality}`,
    laterality: t.laterality,
    view: t.view,
    filePath: path.join(dataDir, "images", t.studyId, `${t.imageId}.dicom`),
    birads: t.birads,
    label: t.birads >= 4 ? 1 : 0,
    density: t.density,
    split: i % 2 ? "train" : "test",
    lesions: t.lesions,
  }));
}, 120_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const params = { workingSizePx: 256, tileSizePx: 32, globalSizePx: 32, overlap: 0 };

function checkManifest(out: string, m: TileManifest): Promise<void[]> {
  expect(m.skipped).toEqual([]);
  expect(m.images).toHaveLength(truths.length);
  // The set holds both trustworthy and untrustworthy tags, both sides.
  expect(truths.some((t) => (t.laterality === "R") !== (t.chestWallSide === "right"))).toBe(true);
  expect(truths.some((t) => (t.laterality === "R") === (t.chestWallSide === "right"))).toBe(true);
  expect(new Set(truths.map((t) => t.chestWallSide)).size).toBe(2);
  return Promise.all(
    m.images.map(async (img, k) => {
      const t = truths[k];
      expect(img.imageId).toBe(t.imageId);
      // Breast against the left edge whatever the side in the file.
      expect(img.transform.flipped).toBe(t.chestWallSide === "right");
      // An untrustworthy tag (chest wall on the unusual side for its laterality) is noted.
      const unusual = (t.laterality === "R") !== (t.chestWallSide === "right");
      expect(Boolean(img.notes?.some((n) => n.includes("disagrees with the column sums"))), `${t.imageId} notes`).toBe(unusual);
      const N = img.transform.workingSizePx;
      const mask = await readMask(out, img);
      const gt = await decodeMaskPng(path.join(dataDir, "ground_truth", t.studyId, `${t.imageId}.mask.png`));
      const truthW = new Uint8Array(N * N);
      for (let y = 0; y < N; y++)
        for (let x = 0; x < N; x++) {
          const o = workingToOriginal({ xPx: x + 0.5, yPx: y + 0.5 }, img.transform);
          const xo = Math.floor(o.xPx);
          const yo = Math.floor(o.yPx);
          if (xo >= 0 && yo >= 0 && xo < gt.widthPx && yo < gt.heightPx) truthW[y * N + x] = gt.mask[yo * gt.widthPx + xo];
        }
      const iou = maskIoU(mask, truthW);
      if (process.env.MILPF_PRINT_IOU) console.log(`IoU ${t.imageId} ${t.view} ${t.density} ${t.photometric} ${t.transferSyntax}: ${iou.toFixed(4)}`);
      expect(iou, `${t.imageId} ${t.transferSyntax}`).toBeGreaterThan(0.95);
      // Every ground-truth lesion box intersects a kept tile.
      for (const l of t.lesions) {
        const b = boxOriginalToWorking(l, img.transform);
        expect(img.tiles.some((tl) => tl.xPx < b.x1 && tl.xPx + tl.sizePx > b.x0 && tl.yPx < b.y1 && tl.yPx + tl.sizePx > b.y0)).toBe(true);
      }
      expect(img.lesionsWorking).toHaveLength(t.lesions.length);
    }),
  );
}

describe("tile stage on the synthetic DICOM set", () => {
  it("in-process: orientation, mask IoU > 0.95, lesion coverage", async () => {
    const out = path.join(root, "tiles0");
    const { manifest } = await runTilingWithStats({ datasetDir: dataDir, adapter: "test", outDir: out, splitsFile: path.join(root, "s.csv"), params, workers: 0, records, progress: false });
    await checkManifest(out, manifest);
  });
  it("preprocessImage on a decoded DICOM matches the stage's working image", async () => {
    const { readDicom } = await import("../../lib/dicom");
    const { preprocessImage, decodeGrey16Png } = await import("../../lib/preprocess");
    const out = path.join(root, "tiles0");
    const r = records[0];
    const p = await preprocessImage(await readDicom(r.filePath), { workingSizePx: 256, globalSizePx: 32, laterality: r.laterality });
    const png = await decodeGrey16Png(path.join(out, "working", `${r.imageId}.png`));
    expect(Buffer.from(p.working.buffer).equals(Buffer.from(png.pixels.buffer))).toBe(true);
  });

  it("worker threads (compiled dist/) give the same manifest as in-process", async (ctx) => {
    let script = "";
    try {
      script = workerScriptPath();
    } catch {
      ctx.skip(); // dist/ not built: `npm test` builds first
    }
    expect(fs.existsSync(script)).toBe(true);
    const a = await runTilingWithStats({ datasetDir: dataDir, adapter: "test", outDir: path.join(root, "tilesA"), splitsFile: path.join(root, "s.csv"), params, workers: 0, records, progress: false });
    const b = await runTilingWithStats({ datasetDir: dataDir, adapter: "test", outDir: path.join(root, "tilesB"), splitsFile: path.join(root, "s.csv"), params, workers: 2, records, progress: false });
    expect(b.stats.workerMemory).toHaveLength(2);
    // each worker's start (module loading) is within the run
    for (const m of b.stats.workerMemory) {
      expect(m.startS).toBeGreaterThanOrEqual(0);
      expect(m.startS).toBeLessThan(b.stats.seconds);
    }
    expect({ ...b.manifest, createdAt: 0 }).toEqual({ ...a.manifest, createdAt: 0 });
    // Interrupted with workers busy, then resumed on workers: same manifest again.
    const outC = path.join(root, "tilesC");
    await expect(runTilingWithStats({ datasetDir: dataDir, adapter: "test", outDir: outC, splitsFile: path.join(root, "s.csv"), params, workers: 2, records, progress: false, abortAfter: 3 })).rejects.toThrow(/aborted after 3/);
    const c = await runTilingWithStats({ datasetDir: dataDir, adapter: "test", outDir: outC, splitsFile: path.join(root, "s.csv"), params, workers: 2, records, progress: false });
    expect(c.stats.reused).toBeGreaterThanOrEqual(3);
    expect(c.stats.reused + c.stats.processed).toBe(records.length);
    expect({ ...c.manifest, createdAt: 0 }).toEqual({ ...a.manifest, createdAt: 0 });
    // Same pixels too.
    const f = a.manifest.images[0].workingImageFile;
    expect(fs.readFileSync(path.join(root, "tilesB", f)).equals(fs.readFileSync(path.join(root, "tilesA", f)))).toBe(true);
  });
});

describe("milpf tile (command action) through the synthetic adapter", () => {
  it("runs, writes the split file, re-run reuses everything", async () => {
    const { runTileCommand } = await import("../../runner/commands/tile");
    const out = path.join(root, "cli");
    const splits = path.join(root, "cli-splits.csv");
    const o = {
      dataset: dataDir,
      adapter: "synthetic",
      out,
      splits,
      workingSize: "256",
      tileSize: "64",
      globalSize: "32",
      overlap: "0",
      tissueRule: "maskFraction",
      minTissue: "0",
      workers: "0",
      seed: "1",
      progress: false,
    };
    const lines: string[] = [];
    const first = await runTileCommand(o, (t) => lines.push(t));
    expect(fs.existsSync(splits)).toBe(true);
    // The synthetic set labels BI-RADS 1 -> 0 and 4-6 -> 1; 2/3 are left out.
    const expected = truths.filter((t) => t.birads === 1 || t.birads >= 4).map((t) => t.imageId).sort();
    expect(first.manifest.images.map((m) => m.imageId).sort()).toEqual(expected);
    expect(first.stats.processed).toBe(expected.length);
    expect(lines.join("")).toMatch(new RegExp(`tile: ${expected.length} images \\(${expected.length} processed, 0 reused\\)`));
    const again = await runTileCommand(o, () => undefined);
    expect(again.stats).toMatchObject({ processed: 0, reused: expected.length });
    await expect(runTileCommand({ ...o, tissueRule: "bogus" }, () => undefined)).rejects.toThrow(/--tissue-rule/);
    await expect(runTileCommand({ ...o, tileSize: "12.5" }, () => undefined)).rejects.toThrow("tile: --tile-size: '12.5' is not an integer; allowed: an integer in [8, 8192]");
  });
});
