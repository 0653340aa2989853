import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { register } from "../../runner/commands/data";
import { loadDataset } from "../../lib/data/adapters";
import { DATASET_LAYOUTS, type DatasetLayout, LAYOUT_INFO_FILE, type LayoutSummary, writeSyntheticLayout } from "../../lib/data/layouts";
import { makeSplits } from "../../lib/data/splits";
import { generateSyntheticDataset } from "../../lib/data/synthetic";
import type { ImageRecord } from "../../lib/types";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-layouts-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const synth = path.join(tmp, "synthetic");

/** Per breast: its images (sorted), label, BI-RADS, density, split, lesion count. */
function breasts(records: ImageRecord[], breastOf: (r: ImageRecord) => string = (r) => r.breastId) {
  const out = new Map<string, { images: string[]; views: string[]; label: number | null; birads: number | null; density: string | null; split: string | null; lesions: number }>();
  for (const r of records) {
    const key = breastOf(r);
    const b = out.get(key) ?? { images: [], views: [], label: r.label, birads: r.birads, density: r.density, split: r.split, lesions: 0 };
    b.images.push(r.imageId);
    b.views.push(r.view);
    b.lesions += r.lesions.length;
    out.set(key, b);
  }
  for (const b of out.values()) {
    b.images.sort();
    b.views.sort();
  }
  return out;
}

describe("writeSyntheticLayout: the synthetic set in each real layout reads back through that adapter", () => {
  let source: ImageRecord[];
  beforeAll(async () => {
    // prevalence + benign rate high enough that negatives, benign (left out) and positives all occur
    await generateSyntheticDataset({ outDir: synth, patients: 8, heightPx: 128, seed: 5, prevalence: 0.4, benignRate: 0.25, workers: 1, progress: false });
    source = (await loadDataset({ adapter: "synthetic", dir: synth })).records;
    const labels = new Set(source.map((r) => r.birads));
    expect(labels.has(1) && [...labels].some((b) => b !== null && b >= 4) && (labels.has(2) || labels.has(3))).toBe(true);
  }, 120_000);

  const written = new Map<DatasetLayout, LayoutSummary>();
  for (const layout of DATASET_LAYOUTS) {
    it(`${layout}: same images, breasts and labels (differences only where the layout cannot carry them)`, async () => {
      const out = path.join(tmp, layout);
      const s = await writeSyntheticLayout({ from: synth, layout, out });
      written.set(layout, s);
      expect(s.images).toBe(source.length);
      expect(s.linked).toBe(source.length); // hard links on one file system
      const { records, skipped } = await loadDataset({ adapter: layout, dir: out });
      expect(skipped).toEqual([]);
      expect(records).toHaveLength(source.length);
      // map the layout's breasts back to the source's through the id map
      const toSource = new Map(s.imageMap.map((m) => [m.breastId, m.source.breastId]));
      const got = breasts(records, (r) => toSource.get(r.breastId) ?? `unmapped ${r.breastId}`);
      const want = breasts(source);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      expect(s.breasts).toBe(want.size);
      const imageToSource = new Map(s.imageMap.map((m) => [m.imageId, m.source.imageId]));
      for (const [id, w] of want) {
        const g = got.get(id)!;
        expect(g.images.map((i) => imageToSource.get(i)).sort(), id).toEqual(w.images);
        expect(g.views, id).toEqual(w.views);
        expect(g.density, id).toBe(w.density);
        if (layout === "rsna") {
          // cancer: BI-RADS 4-6 -> 1, every other breast 0; BIRADS is the screening read (0 recalled, 1, 2 benign)
          expect(g.label, id).toBe(w.birads! >= 4 ? 1 : 0);
          expect(g.birads, id).toBe(w.birads! >= 4 ? 0 : w.birads! >= 2 ? 2 : 1);
          expect([g.split, g.lesions], id).toEqual([null, 0]);
        } else {
          expect([g.label, g.birads], id).toEqual([w.label, w.birads]);
          if (layout === "vindr") expect([g.split, g.lesions], id).toEqual([w.split, w.lesions]);
          else expect([g.split, g.lesions], id).toEqual([null, 0]);
        }
      }
      // the image files are the source's (hard links: same inode)
      const m = s.imageMap[0];
      const src = source.find((r) => r.imageId === m.source.imageId)!;
      expect(fs.statSync(path.join(out, m.file)).ino).toBe(fs.statSync(src.filePath).ino);
      if (layout === "vindr") {
        // same patients and given split -> the same 70/10/20 splits as the synthetic adapter's
        expect([...makeSplits(records, { seed: 42 })].sort()).toEqual([...makeSplits(source, { seed: 42 })].sort());
      }
    });
  }

  it("rsna writes the real columns, numeric ids beyond int32 and BIRADS / age as floats", () => {
    const text = fs.readFileSync(path.join(tmp, "rsna", "train.csv"), "utf8").split("\n");
    expect(text[0]).toBe("site_id,patient_id,image_id,laterality,view,age,cancer,biopsy,invasive,BIRADS,implant,density,machine_id,difficult_negative_case");
    const birads = new Set(text.slice(1, -1).map((l) => l.split(",")[9]));
    expect([...birads].every((b) => ["0.0", "1.0", "2.0"].includes(b))).toBe(true);
    expect(text.slice(1, -1).every((l) => /^\d+,\d{5},\d{10},[LR],/.test(l))).toBe(true);
    const s = written.get("rsna")!;
    expect(fs.existsSync(path.join(tmp, "rsna", s.imageMap[0].file))).toBe(true);
    expect(s.imageMap[0].file).toMatch(/^train_images\/\d{5}\/\d{10}\.dcm$/);
  });

  it("embed writes clinical + metadata tables joined on empi_anon / acc_anon, with C-view rows the adapter leaves out", () => {
    const dir = path.join(tmp, "embed");
    const clinical = fs.readFileSync(path.join(dir, "EMBED_OpenData_clinical.csv"), "utf8").split("\n");
    const meta = fs.readFileSync(path.join(dir, "EMBED_OpenData_metadata.csv"), "utf8").split("\n");
    expect(clinical[0]).toMatch(/^empi_anon,acc_anon,.*side,asses,tissueden/);
    expect(meta[0]).toMatch(/^empi_anon,acc_anon,anon_dicom_path,ImageLateralityFinal,ViewPosition,FinalImageType/);
    expect(meta.some((l) => l.endsWith(",cview"))).toBe(true);
    expect(clinical.slice(1, -1).every((l) => /^\d{8},\d{16},/.test(l))).toBe(true);
  });

  it("rewrites its own earlier output; refuses a foreign non-empty folder and an unknown layout", async () => {
    const again = await writeSyntheticLayout({ from: synth, layout: "embed", out: path.join(tmp, "embed") });
    expect(again.imageMap).toEqual(written.get("embed")!.imageMap);
    const foreign = path.join(tmp, "foreign");
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, "x.txt"), "x");
    await expect(writeSyntheticLayout({ from: synth, layout: "rsna", out: foreign })).rejects.toThrow(/not empty and holds no synthetic-layout\.json/);
    await expect(writeSyntheticLayout({ from: synth, layout: "ddsm" as DatasetLayout, out: path.join(tmp, "x") })).rejects.toThrow(/"ddsm" is not one of vindr, rsna, embed/);
    expect(fs.existsSync(path.join(tmp, "embed", LAYOUT_INFO_FILE))).toBe(true);
  });

  it("milpf synth-layout writes a layout, --copy copies, and the summary says how to try it", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      const p = new Command();
      p.exitOverride();
      register(p);
      const out = path.join(tmp, "cli-rsna");
      await p.parseAsync(["node", "milpf", "synth-layout", "--from", synth, "--layout", "rsna", "--out", out, "--copy"]);
      const lines = log.mock.calls.map((c) => String(c[0]));
      expect(lines[0]).toMatch(new RegExp(`rsna layout, 8 patients, 16 breasts, ${source.length} images \\(0 linked, ${source.length} copied\\)`));
      expect(lines.at(-1)).toBe(`try it: milpf pipeline -p datasetDir ${out} -p adapter rsna`);
      await expect(p.parseAsync(["node", "milpf", "synth-layout", "--from", synth, "--layout", "ddsm", "--out", out])).rejects.toThrow(/--layout must be one of/);
    } finally {
      log.mockRestore();
    }
  });
});
