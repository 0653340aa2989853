import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../lib/data/adapters";
import { parseCsv } from "../../lib/util/table";
import { renderBreastMask } from "../../lib/data/phantom";
import {
  BREAST_LEVEL_COLUMNS,
  FINDING_COLUMNS,
  type SyntheticSummary,
  generateSyntheticDataset,
  groundTruthFiles,
  planSyntheticDataset,
  readImageTruth,
} from "../../lib/data/synthetic";
import { type ImageTruth, renderPlannedImage } from "../../lib/data/synthRender";
import { readDicom } from "../../lib/dicom";
import { TRANSFER_SYNTAX_UIDS } from "../../lib/dicom/uids";

const HEIGHT = 192;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-synth-"));
const dirA = path.join(tmp, "a");
const dirB = path.join(tmp, "b");
const dirC = path.join(tmp, "c");
const opts = { patients: 6, heightPx: HEIGHT, seed: 11, progress: false, extraViewRate: 0.3 };
let summaryA: SyntheticSummary;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function hashes(dir: string, filter: (f: string) => boolean = () => true): Map<string, string> {
  return new Map(listFiles(dir).filter(filter).map((f) => [f, crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex")]));
}

beforeAll(async () => {
  summaryA = await generateSyntheticDataset({ ...opts, outDir: dirA });
  await generateSyntheticDataset({ ...opts, outDir: dirB });
  await generateSyntheticDataset({ ...opts, outDir: dirC, seed: 12 });
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("generateSyntheticDataset", () => {
  it("writes the VinDr layout: tables, images/<study>/<image>.dicom, ground truth", () => {
    const files = listFiles(dirA);
    expect(files).toContain("breast-level_annotations.csv");
    expect(files).toContain("finding_annotations.csv");
    const dicoms = files.filter((f) => /^images\/[0-9a-f]{32}\/[0-9a-f]{32}\.dicom$/.test(f));
    expect(dicoms.length).toBe(summaryA.images);
    expect(summaryA.images).toBeGreaterThanOrEqual(24);
    expect(files.filter((f) => f.endsWith(".mask.png")).length).toBe(summaryA.images);
    const breast = parseCsv(fs.readFileSync(path.join(dirA, "breast-level_annotations.csv"), "utf8"));
    expect(breast.columns).toEqual([...BREAST_LEVEL_COLUMNS]);
    expect(breast.rows.length).toBe(summaryA.images);
    for (const r of breast.rows) {
      expect(r.breast_birads).toMatch(/^BI-RADS [1-6]$/);
      expect(r.breast_density).toMatch(/^DENSITY [A-D]$/);
      expect(["training", "test"]).toContain(r.split);
      expect(fs.existsSync(path.join(dirA, "images", r.study_id, `${r.image_id}.dicom`))).toBe(true);
    }
    const findings = parseCsv(fs.readFileSync(path.join(dirA, "finding_annotations.csv"), "utf8"));
    expect(findings.columns).toEqual([...FINDING_COLUMNS]);
    for (const r of findings.rows) expect(["['No Finding']", "['Mass']", "['Suspicious Calcification']"]).toContain(r.finding_categories);
  });

  it("is deterministic: same options -> byte-identical files; another seed -> different pixels", () => {
    const a = hashes(dirA);
    const b = hashes(dirB);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [f, h] of a) expect(b.get(f), f).toBe(h);
    const c = hashes(dirC, (f) => f.endsWith(".dicom"));
    const aDicoms = new Set([...a.entries()].filter(([f]) => f.endsWith(".dicom")).map(([, h]) => h));
    for (const h of c.values()) expect(aDicoms.has(h)).toBe(false);
  });

  it("a re-run over a complete folder reuses every image and leaves the files identical", async () => {
    const before = hashes(dirA);
    const again = await generateSyntheticDataset({ ...opts, outDir: dirA });
    expect(again.imagesWritten).toBe(0);
    expect(again.imagesReused).toBe(summaryA.images);
    const after = hashes(dirA);
    for (const [f, h] of before) expect(after.get(f), f).toBe(h);
  });

  it("refuses to mix different options in one folder; a missing ground truth is one clear error", async () => {
    await expect(generateSyntheticDataset({ ...opts, outDir: dirA, seed: 99 })).rejects.toThrow(/other options/);
    expect(() => readImageTruth(dirA, "nostudy", "noimage")).toThrow(/noimage\.json: cannot read ground truth/);
  });

  it("every DICOM reads back to exactly the generator's pixel array, with the planned tags", async () => {
    const tasks = planSyntheticDataset({ ...opts, outDir: dirA });
    const syntaxes = new Set<string>();
    const photometrics = new Set<string>();
    for (const task of tasks) {
      for (const im of task.images) {
        const expected = renderPlannedImage(task, im);
        const img = await readDicom(path.join(dirA, im.dicomFile));
        expect(img.rows).toBe(HEIGHT);
        expect(img.columns).toBe(task.widthPx);
        expect(img.bitsStored).toBe(im.bitsStored);
        expect(img.photometric).toBe(im.photometric);
        expect(img.transferSyntaxUid).toBe(TRANSFER_SYNTAX_UIDS[im.transferSyntax]);
        expect(img.laterality).toBe(task.laterality);
        expect(img.viewPosition).toBe(im.view);
        expect(img.pixelPaddingValue).toBe(expected.padding);
        expect(img.presentationIntentType).toBe("FOR PRESENTATION");
        expect(img.windows.length).toBe(1);
        expect(img.rescaleSlope).toBe(im.rescaleSlope);
        expect(img.pixelSpacingMm?.[0]).toBeCloseTo(task.pixelSpacingMm, 6);
        expect(img.patientId).toBe(task.patientId);
        let diff = 0;
        for (let i = 0; i < expected.stored.length; i++) if (img.pixels[i] !== expected.stored[i]) diff++;
        expect(diff, im.dicomFile).toBe(0);
        expect(img.pixels.length).toBe(expected.stored.length);
        syntaxes.add(im.transferSyntax);
        photometrics.add(im.photometric);
      }
    }
    expect(syntaxes.size).toBeGreaterThanOrEqual(8);
    expect(photometrics.size).toBe(2);
  });

  it("writes each image's breast mask as a PNG equal to the re-rendered mask", async () => {
    const tasks = planSyntheticDataset({ ...opts, outDir: dirA });
    for (const task of tasks.slice(0, 4)) {
      for (const im of task.images) {
        const { data, info } = await sharp(path.join(dirA, im.maskFile)).greyscale().raw().toBuffer({ resolveWithObject: true });
        expect(info.width).toBe(task.widthPx);
        const mask = renderBreastMask(task.shape, im.view, task.chestWallSide, task.widthPx, task.heightPx);
        let diff = 0;
        for (let i = 0; i < mask.length; i++) if ((data[i * info.channels] > 127 ? 1 : 0) !== mask[i]) diff++;
        expect(diff).toBe(0);
      }
    }
  });

  it("ground truth: lesions inside the breast mask, same lesions in every view of a breast, table boxes equal", async () => {
    const tasks = planSyntheticDataset({ ...opts, outDir: dirA });
    const findings = parseCsv(fs.readFileSync(path.join(dirA, "finding_annotations.csv"), "utf8")).rows;
    let lesionCount = 0;
    for (const task of tasks) {
      const truths = task.images.map((im) => JSON.parse(fs.readFileSync(path.join(dirA, im.truthFile), "utf8")) as ImageTruth);
      expect(readImageTruth(dirA, task.studyId, task.images[0].imageId)).toEqual(truths[0]);
      expect(groundTruthFiles(dirA, task.studyId, task.images[0].imageId).mask).toBe(path.join(dirA, task.images[0].maskFile));
      for (const t of truths) {
        expect(t.lesions.length).toBe(task.lesions.length);
        expect(t.lesions.map((l) => l.kind)).toEqual(task.lesions.map((l) => l.kind));
        const mask = renderBreastMask(task.shape, t.view, task.chestWallSide, task.widthPx, task.heightPx);
        for (const l of t.lesions) {
          lesionCount++;
          const cx = Math.floor((l.x0 + l.x1) / 2);
          const cy = Math.floor((l.y0 + l.y1) / 2);
          expect(mask[cy * task.widthPx + cx]).toBe(1);
          const rows = findings.filter((r) => r.image_id === t.imageId && r.xmin !== "");
          expect(rows.some((r) => Number(r.xmin) === l.x0 && Number(r.ymin) === l.y0 && Number(r.xmax) === l.x1 && Number(r.ymax) === l.y1)).toBe(true);
        }
      }
      if (task.birads >= 4) expect(task.lesions.length).toBeGreaterThanOrEqual(1);
      if (task.birads === 1) expect(task.lesions.length).toBe(0);
    }
    expect(lesionCount).toBeGreaterThan(0);
  });

  it("goes through the synthetic adapter; a deleted image is reported as skipped, not fatal", async () => {
    const { records, skipped } = await loadDataset({ adapter: "synthetic", dir: dirB });
    expect(skipped).toEqual([]);
    expect(records.length).toBe(summaryA.images);
    const victim = records[3];
    fs.rmSync(victim.filePath);
    const after = await loadDataset({ adapter: "synthetic", dir: dirB });
    expect(after.records.length).toBe(summaryA.images - 1);
    expect(after.skipped.length).toBe(1);
    expect(after.skipped[0].reason).toContain(victim.filePath);
    for (const r of records) {
      expect(r.breastId).toBe(`${r.studyId}_${r.laterality}`);
      expect(r.label).toBe(r.birads === 1 ? 0 : r.birads !== null && r.birads >= 4 ? 1 : null);
    }
  });
});

describe("planSyntheticDataset", () => {
  it("honours the prevalence, the benign rate and the extra-view rate roughly (1000 breasts)", () => {
    for (const prevalence of [0.3, 0.1]) {
      const tasks = planSyntheticDataset({ outDir: tmp, patients: 500, heightPx: 256, seed: 5, prevalence });
      const n = tasks.length;
      const susp = tasks.filter((t) => t.birads >= 4).length / n;
      const benign = tasks.filter((t) => t.birads === 2 || t.birads === 3).length / n;
      const xccl = tasks.filter((t) => t.images.some((im) => im.view === "XCCL")).length / n;
      // binomial sd for 1000 breasts <= 0.016: allow ~3 sd
      expect(Math.abs(susp - prevalence)).toBeLessThan(0.045);
      expect(Math.abs(benign - 0.1)).toBeLessThan(0.03);
      expect(Math.abs(xccl - 0.05)).toBeLessThan(0.025);
      expect(tasks.some((t) => t.birads === 6)).toBe(true);
      // both chest-wall sides occur for both lateralities, mostly the usual one
      const usual = tasks.filter((t) => (t.laterality === "R") === (t.chestWallSide === "right")).length / n;
      expect(usual).toBeGreaterThan(0.8);
      expect(usual).toBeLessThan(0.97);
    }
  });

  it("cycles the transfer syntaxes and mixes MONOCHROME1 and bits stored", () => {
    const tasks = planSyntheticDataset({ outDir: tmp, patients: 50, seed: 1, transferSyntaxes: ["rle", "explicit-le", "jpegls-lossless"] });
    const ims = tasks.flatMap((t) => t.images);
    ims.forEach((im, i) => expect(im.transferSyntax).toBe(["rle", "explicit-le", "jpegls-lossless"][i % 3]));
    const mono1 = ims.filter((im) => im.photometric === "MONOCHROME1").length / ims.length;
    expect(mono1).toBeGreaterThan(0.1);
    expect(mono1).toBeLessThan(0.3);
    expect(new Set(ims.map((im) => im.bitsStored))).toEqual(new Set([12, 14]));
  });

  it("rejects bad options with one clear error", () => {
    expect(() => planSyntheticDataset({ outDir: tmp, patients: 0 })).toThrow(/patients/);
    expect(() => planSyntheticDataset({ outDir: tmp, patients: 2, prevalence: 0.95 })).toThrow(/prevalence/);
  });
});

describe("worker threads", () => {
  it("the compiled generator with 2 workers writes the same files as the in-process one", async (ctx) => {
    const root = path.resolve(__dirname, "../..");
    const compiled = path.join(root, "dist", "lib", "data", "synthetic.js");
    const srcDir = path.join(root, "lib", "data");
    const newestSource = Math.max(...fs.readdirSync(srcDir).filter((f) => f.endsWith(".ts")).map((f) => fs.statSync(path.join(srcDir, f)).mtimeMs));
    if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < newestSource) ctx.skip(); // dist/ missing or stale: `npm test` builds first
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(compiled) as { generateSyntheticDataset: typeof generateSyntheticDataset };
    const dirW = path.join(tmp, "w");
    const s = await mod.generateSyntheticDataset({ ...opts, outDir: dirW, workers: 2 });
    expect(s.workers).toBe(2);
    const a = hashes(dirA);
    const w = hashes(dirW);
    expect([...w.keys()]).toEqual([...a.keys()]);
    for (const [f, h] of a) expect(w.get(f), f).toBe(h);
  });
});
