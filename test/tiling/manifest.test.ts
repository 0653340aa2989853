import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { decodeGrey16Png } from "../../lib/preprocess";
import { readManifest, runTiling, runTilingWithStats, type PresentationLoader } from "../../lib/tiling";
import type { ImageRecord, TileManifest } from "../../lib/types";
import { simplePhantom } from "../preprocess/phantom";

const params = { workingSizePx: 128, tileSizePx: 32, globalSizePx: 32, overlap: 0 };

function makeRecords(dir: string, n: number): ImageRecord[] {
  fs.mkdirSync(dir, { recursive: true });
  const out: ImageRecord[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `img${i}.json`);
    fs.writeFileSync(file, JSON.stringify({ seed: i, side: i % 2 ? "right" : "left", bad: i === 3 }));
    out.push({
      patientId: `p${i >> 1}`,
      studyId: `s${i >> 1}`,
      imageId: `img${i}`,
      breastId: `s${i >> 1}_${i % 2 ? "R" : "L"}`,
      laterality: i % 2 ? "R" : "L",
      view: i % 4 < 2 ? "CC" : "MLO",
      filePath: file,
      birads: 1,
      label: i === 5 ? null : ((i % 3 === 0 ? 1 : 0) as 0 | 1),
      density: null,
      split: null, // from the split file
      lesions: [{ x0: 10, y0: 60, x1: 30, y1: 80, kind: "mass", birads: 4 }],
    });
  }
  return out;
}

/** Test loader: the "DICOM" is a JSON recipe for the simple phantom; bad = throws. */
const loader: PresentationLoader = async (rec) => {
  const spec = JSON.parse(fs.readFileSync(rec.filePath, "utf8")) as { seed: number; side: "left" | "right"; bad: boolean };
  if (spec.bad) throw new Error(`${rec.filePath}: unreadable (test)`);
  const ph = simplePhantom({ widthPx: 120, heightPx: 160, chestWall: spec.side, seed: spec.seed });
  return { pixels: ph.pixels, widthPx: 120, heightPx: 160 };
};

function stripVolatile(m: TileManifest): unknown {
  return { ...m, createdAt: undefined };
}

describe("runTiling (in-process)", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-tile-"));
  const data = path.join(root, "data");
  const records = makeRecords(data, 8);
  // Patients p0, p1 train, p2 test; p3 (img6, img7) has no split.
  const splitsFile = path.join(root, "splits.csv");
  fs.writeFileSync(splitsFile, "patient_id,split\np0,train\np1,train\np2,test\n");
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const base = { datasetDir: data, adapter: "test", splitsFile, params, workers: 0, loader, records, progress: false };

  it("writes a manifest with labelled, split images; skips bad ones without stopping", async () => {
    const out = path.join(root, "clean");
    const { manifest, stats } = await runTilingWithStats({ ...base, outDir: out });
    // img5 has no label, img6 and img7 no split; img3 is bad.
    expect(manifest.images.map((m) => m.imageId)).toEqual(["img0", "img1", "img2", "img4"]);
    expect(manifest.images.map((m) => m.split)).toEqual(["train", "train", "train", "test"]);
    expect(manifest.skipped).toEqual([{ file: records[3].filePath, error: `${records[3].filePath}: unreadable (test)` }]);
    expect(stats).toMatchObject({ processed: 5, reused: 0, images: 4, skipped: 1 });
    const onDisk = readManifest(path.join(out, "manifest.json"));
    expect(onDisk).toEqual(manifest);
    for (const m of manifest.images) {
      const w = await decodeGrey16Png(path.join(out, m.workingImageFile));
      expect([w.widthPx, w.heightPx]).toEqual([128, 128]);
      const g = await decodeGrey16Png(path.join(out, m.globalViewFile));
      expect([g.widthPx, g.heightPx]).toEqual([32, 32]);
      expect(m.tiles.length).toBeGreaterThan(0);
      expect(m.transform.flipped).toBe(m.laterality === "R");
      expect(m.lesionsWorking).toHaveLength(1);
    }
    // The flipped right breast puts the lesion at working x ~ (W - x) mapped, not at x.
    const r1 = manifest.images[1];
    expect(r1.lesionsWorking[0].x0).toBeGreaterThan(0);
    // Second run reuses everything and gives the same manifest.
    const again = await runTilingWithStats({ ...base, outDir: out });
    expect(again.stats).toMatchObject({ processed: 1, reused: 4 }); // the bad image is retried
    expect(stripVolatile(again.manifest)).toEqual(stripVolatile(manifest));
  });

  it("resume: a run interrupted half way then re-run equals a clean run", async () => {
    const clean = await runTiling({ ...base, outDir: path.join(root, "clean2") });
    const out = path.join(root, "resumed");
    await expect(runTiling({ ...base, outDir: out, abortAfter: 3 })).rejects.toThrow(/aborted after 3/);
    expect(fs.existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(fs.readdirSync(path.join(out, "done"))).toHaveLength(3);
    const { manifest, stats } = await runTilingWithStats({ ...base, outDir: out });
    expect(stats.reused).toBe(3);
    expect(stats.processed).toBe(2);
    expect(stripVolatile(manifest)).toEqual(stripVolatile(clean));
    // Changed parameters invalidate the done-records.
    const other = await runTilingWithStats({ ...base, outDir: out, params: { ...params, tileSizePx: 16 } });
    expect(other.stats.reused).toBe(0);
    expect(other.manifest.images[0].tiles[0].sizePx).toBe(16);
  });

  it("makes the split file from the seed when it is missing, then reads it", async () => {
    const file = path.join(root, "new-splits.csv");
    const a = await runTiling({ ...base, splitsFile: file, seed: 3, outDir: path.join(root, "s1") });
    expect(fs.existsSync(file)).toBe(true);
    const text = fs.readFileSync(file, "utf8");
    expect(text.split("\n")[0]).toBe("patient_id,split");
    // Every patient in the file; the manifest's splits are the file's.
    const rows = new Map(text.trim().split("\n").slice(1).map((l) => l.split(",") as [string, string]));
    expect([...rows.keys()].sort()).toEqual(["p0", "p1", "p2", "p3"]);
    for (const m of a.images) expect(m.split).toBe(rows.get(m.patientId));
    fs.writeFileSync(file, "patient_id,split\np0,test\n");
    const b = await runTiling({ ...base, splitsFile: file, seed: 3, outDir: path.join(root, "s1") });
    expect(b.images.map((m) => [m.imageId, m.split])).toEqual([
      ["img0", "test"],
      ["img1", "test"],
    ]);
  });

  it("summaries and pictures of a manifest", async () => {
    const { countsBySplitAndLabel, renderTilingGallery, pickExamples, tilesPerViewFigure } = await import("../../lib/tiling");
    const out = path.join(root, "fig");
    const m = await runTiling({ ...base, outDir: out });
    // img0 (label 1, p0 train), img1 (0, train), img2 (0, p1 train), img4 (0, p2 test).
    expect(countsBySplitAndLabel(m).map((r) => [r.split, r.label, r.images, r.breasts, r.patients])).toEqual([
      ["train", 0, 2, 2, 2],
      ["train", 1, 1, 1, 1],
      ["test", 0, 1, 1, 1],
    ]);
    const fig = tilesPerViewFigure(m);
    const xs = (fig.data as { x: number[] }[]).flatMap((d) => d.x).sort();
    expect(xs).toEqual(m.images.map((i) => i.tiles.length).sort());
    const png = await renderTilingGallery(out, pickExamples(m, 3), 100, 4);
    const meta = await sharp(png).metadata();
    // three 100 px images side by side (2 gaps of 4 px), with captions, a legend and a title around them
    expect(meta.width).toBeGreaterThanOrEqual(3 * 100 + 2 * 4);
    expect(meta.height).toBeGreaterThan(100);
  });

  it("rejects bad parameters with one clear error", async () => {
    await expect(runTiling({ ...base, outDir: path.join(root, "x"), params: { ...params, overlap: 1 } })).rejects.toThrow(/overlap must be in \[0, 1\)/);
  });
});
