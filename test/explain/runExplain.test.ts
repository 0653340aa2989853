import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { softmax } from "../../lib/explain/heatmap";
import { chooseCases, runExplain } from "../../lib/explain/runExplain";
import { caseMontage, caseRows, describeExplain, detectionCaption, frocFigure, precisionRecallFigure, readExplainSummary } from "../../lib/explain/figures";
import { DEFAULT_SHARP_GRID } from "../../lib/explain/select";
import type { BagScorer, TileEmbedder } from "../../lib/explain/explainBag";
import { encodeGrey16Png, encodeMaskPng } from "../../lib/preprocess/grey16";
import { makeTransform } from "../../lib/preprocess/transform";
import type { ManifestImage, TileManifest } from "../../lib/types";
import { Rng } from "../../lib/util/rng";

const N = 128;
const S = 16;

const encoder: TileEmbedder = {
  inputSizePx: S,
  async embed(batch, count) {
    const out = new Float32Array(count * 2);
    for (let b = 0; b < count; b++) {
      let s = 0;
      for (let i = 0; i < S * S; i++) s += batch[b * S * S + i];
      out[b * 2] = s / (S * S);
      out[b * 2 + 1] = 1;
    }
    return out;
  },
};
const head: BagScorer = {
  scoreBag(_g, _n, tiles, nTiles) {
    const a = softmax(Array.from({ length: nTiles }, (_, i) => 40 * tiles[i * 2]));
    return { logit: 0, probability: 0.5, tileAttention: a, tileContribution: a.map((v, i) => v * tiles[i * 2]) };
  },
};

async function writeFixture(dir: string): Promise<string> {
  const images: ManifestImage[] = [];
  const specs = [
    { breast: "s1_L", id: "p_cc", label: 1 as const, blob: null },
    { breast: "s1_L", id: "p_mlo", label: 1 as const, blob: { cx: 80, cy: 40, r: 10 } },
    { breast: "s2_R", id: "n_cc", label: 0 as const, blob: null },
  ];
  for (const [k, s] of specs.entries()) {
    const rng = new Rng(k);
    const px = new Uint16Array(N * N);
    const mask = new Uint8Array(N * N);
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        if (x >= 100) continue; // background strip on the right
        mask[y * N + x] = 1;
        const hot = s.blob && (x - s.blob.cx) ** 2 + (y - s.blob.cy) ** 2 < s.blob.r ** 2;
        px[y * N + x] = Math.round(65535 * (0.3 + 0.05 * rng.uniform() + (hot ? 0.6 : 0)));
      }
    fs.writeFileSync(path.join(dir, `${s.id}.png`), await encodeGrey16Png({ pixels: px, widthPx: N, heightPx: N }));
    fs.writeFileSync(path.join(dir, `${s.id}_mask.png`), await encodeMaskPng(mask, N, N));
    fs.writeFileSync(path.join(dir, `${s.id}_g.png`), await encodeGrey16Png({ pixels: new Uint16Array(S * S).fill(20000), widthPx: S, heightPx: S }));
    images.push({
      imageId: s.id,
      patientId: s.breast.slice(0, 2),
      studyId: s.breast.slice(0, 2),
      breastId: s.breast,
      laterality: s.breast.endsWith("L") ? "L" : "R",
      view: s.id.endsWith("cc") ? "CC" : "MLO",
      label: s.label,
      birads: s.label ? 5 : 1,
      split: "test",
      sourceFile: `${s.id}.dcm`,
      transform: makeTransform({ originalWidthPx: 200, originalHeightPx: 260, flipped: true, crop: { x0: 10, y0: 0, x1: 210 - 10, y1: 260 }, workingSizePx: N }),
      workingImageFile: `${s.id}.png`,
      globalViewFile: `${s.id}_g.png`,
      maskFile: `${s.id}_mask.png`,
      lesionsWorking: s.blob ? [{ x0: s.blob.cx - s.blob.r, y0: s.blob.cy - s.blob.r, x1: s.blob.cx + s.blob.r, y1: s.blob.cy + s.blob.r, kind: "Mass", birads: 5 }] : [],
      tiles: [],
    });
  }
  const manifest: TileManifest = {
    version: 1,
    createdAt: "2026-01-01T00:00:00Z",
    datasetDir: dir,
    params: { workingSizePx: N, tileSizePx: S, overlap: 0, tissueRule: "maskFraction", minTissueFraction: 0.5, meanIntensityFactor: 0.05, globalSizePx: S, preprocessing: "milpf" },
    images,
    skipped: [],
  };
  const file = path.join(dir, "manifest.json");
  fs.writeFileSync(file, JSON.stringify(manifest));
  return file;
}

describe("runExplain on a hand-made manifest", () => {
  it("writes overlays, galleries, maps and a detection table that finds the lesion", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-explain-"));
    const manifestFile = await writeFixture(dir);
    const out = path.join(dir, "out");
    const s = await runExplain({ manifest: manifestFile, out, encoder, head, cases: 2, progress: false, overlayWidthPx: 64 });
    expect(s.skipped).toEqual([]);
    expect(s.cases.map((c) => c.breastId)).toEqual(["s1_L", "s2_R"]); // positive first
    const pos = s.cases[0];
    const mlo = pos.images.find((i) => i.imageId === "p_mlo")!;
    // the top box holds the lesion centre
    const b = mlo.boxes[0];
    expect(b.x0 <= 80 && b.x1 > 80 && b.y0 <= 40 && b.y1 > 40).toBe(true);
    for (const f of [mlo.attentionOverlay, mlo.contributionOverlay, mlo.heatOriginal, pos.gallery]) expect(fs.existsSync(path.join(out, f))).toBe(true);
    // gallery: 8 tiles in 4 columns of 128 px cells with 4 px frames; best attention first
    const gm = await sharp(path.join(out, pos.gallery)).metadata();
    expect([gm.width, gm.height]).toEqual([4 * 136, 2 * 136]);
    expect(pos.galleryValues).toEqual([...pos.galleryValues].sort((a, b) => b - a));
    // the original-frame heat map has the original DICOM size
    const meta = await sharp(path.join(out, mlo.heatOriginal)).metadata();
    expect([meta.width, meta.height]).toEqual([200, 260]);
    // detection: one mass GT in the 128 px frame; the best-scored box overall is on it -> AP > 0
    const all = s.detection.find((r) => r.lesionType === "all")!;
    expect(all.gtCount).toBe(1);
    expect(all.resolutionPx).toBe(N);
    expect(all.ap).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(out, "detection.md"), "utf8")).toContain("128 px");
    const saved = JSON.parse(fs.readFileSync(path.join(out, "explain.json"), "utf8")) as { cases: unknown[] };
    expect(saved.cases).toHaveLength(2);
    // figures for the notebook: montage of positive cases, PR curve from the saved summary
    const saved2 = readExplainSummary(out);
    const m = await caseMontage(out, saved2, { label: 1, cellWidthPx: 40 });
    expect(m.cases.map((c) => c.breastId)).toEqual(["s1_L"]);
    const mm = await sharp(m.png).metadata();
    // two views side by side; each overlay = 64 px square + 40 px title band, + 96 px colour bar
    expect([mm.width, mm.height]).toEqual([2 * 40 + 4, Math.round((40 * (64 + 40)) / (64 + 96))]);
    expect(caseRows(saved2).map((r) => [r.breast, r.label, r.views, r.lesions])).toEqual([
      ["s1_L", 1, 2, 1],
      ["s2_R", 0, 1, 0],
    ]);
    // 128 px frame: bucket edges 128 x 128/4096 = 4 and 8 px
    expect(detectionCaption(saved2)).toContain("128 px working frame, size buckets small < 4^2, medium < 8^2");
    expect(describeExplain(saved2)).toMatch(/^2 cases explained \(0 skipped\)/);
    const pr = precisionRecallFigure(saved2);
    expect(pr.data).toHaveLength(4); // (all + mass) x (protocol, sharp)
    // both methods side by side in the table, FROC rows for both methods and both hit criteria
    expect(s.detection.map((r) => `${r.method}/${r.lesionType}`)).toEqual(["protocol/all", "protocol/mass", "sharp/all", "sharp/mass"]);
    expect(s.detection.every((r) => r.imageCount === 3)).toBe(true);
    expect(s.froc.map((r) => `${r.method}/${r.criterion}`)).toEqual(["protocol/iou", "sharp/iou", "protocol/centre", "sharp/centre"]);
    expect(s.froc.every((r) => r.images === 3 && r.lesions === 1)).toBe(true);
    // no validation split in the fixture: the sharp defaults are used, and the reason recorded
    expect(s.sharp.source).toMatch(/^defaults \(no selection: selectSharpParams: no validation images/);
    const sharpTop = mlo.sharpBoxes[0];
    expect(sharpTop.x0 <= 80 && sharpTop.x1 > 80 && sharpTop.y0 <= 40 && sharpTop.y1 > 40).toBe(true);
    expect(frocFigure(saved2).data).toHaveLength(4);
    await expect(caseMontage(out, saved2, { label: 0, map: "contribution" })).resolves.toBeTruthy();
    // a broken image is skipped with its reason, the batch goes on
    fs.writeFileSync(path.join(dir, "n_cc.png"), "not a png");
    const s2 = await runExplain({ manifest: manifestFile, out: path.join(dir, "out2"), encoder, head, cases: 2, progress: false, overlayWidthPx: 64 });
    expect(s2.cases).toHaveLength(1);
    expect(s2.skipped[0].breastId).toBe("s2_R");
    expect(s2.skipped[0].error).toContain("n_cc.png");
    // default: every bag of the split; sharp parameters chosen on the split given (here test)
    const s3 = await runExplain({ manifest: manifestFile.replace("manifest.json", "manifest.json"), out: path.join(dir, "out3"), encoder, head, progress: false, overlayWidthPx: 64, selectionSplit: "test", sharpGrid: { ...DEFAULT_SHARP_GRID, overlap: [0.75], iterations: [1, 10] } });
    expect(s3.params.cases).toBe("all");
    expect(s3.sharp.source).toBe("chosen on the test split (2 images, 1 lesions)");
    expect(fs.existsSync(path.join(dir, "out3", "sharp_selection.md"))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("chooses half positives (with lesions first) and half negatives, reproducibly", () => {
    const img = (breastId: string, label: 0 | 1, lesion: boolean): ManifestImage =>
      ({ breastId, label, split: "test", lesionsWorking: lesion ? [{ x0: 0, y0: 0, x1: 1, y1: 1, kind: "Mass", birads: 4 }] : [] }) as unknown as ManifestImage;
    const m = { images: [img("a", 1, false), img("b", 1, true), img("c", 0, false), img("d", 0, false), img("e", 1, false)] } as TileManifest;
    const c = chooseCases(m, 3, "test", 1);
    expect(c.map((b) => b.label)).toEqual([1, 1, 0]);
    expect(c[0].breastId).toBe("b");
    expect(chooseCases(m, 3, "test", 1).map((b) => b.breastId)).toEqual(c.map((b) => b.breastId));
    expect(chooseCases(m, 10, "test", 1)).toHaveLength(5);
  });
});
