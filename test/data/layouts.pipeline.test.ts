import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../lib/data/adapters";
import { DATASET_LAYOUTS, type LayoutSummary, writeSyntheticLayout } from "../../lib/data/layouts";
import { generateSyntheticDataset } from "../../lib/data/synthetic";
import { ROOT, readJsonFile, requireBuild, tempDir } from "../runner/helpers";

/**
 * Issue 12: the synthetic set written in each real layout (VinDr with `.dicom` files, RSNA
 * `train.csv` + `train_images/`, EMBED's clinical + metadata tables) goes through the README's
 * command, `milpf pipeline -p datasetDir DIR -p adapter NAME`, all four notebooks, at tiny sizes.
 */

const tmp = tempDir("layouts-pipeline");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const synth = path.join(tmp, "synthetic");

/** Tiny sizes: 256 px images, 64 px tiles, one seed of 5 epochs, 2 explained breasts. */
function pipelineArgs(datasetDir: string, adapter: string, work: string): string[] {
  const p: [string, string | number][] = [
    ["datasetDir", datasetDir],
    ["adapter", adapter],
    ["workingSizePx", 256],
    ["tileSizePx", 64],
    ["globalSizePx", 64],
    ["workers", 0],
    ["splits", path.join(work, "splits.csv")],
    ["out", path.join(work, "tiles")],
    ["manifest", path.join(work, "tiles", "manifest.json")],
    ["embeddings", path.join(work, "embeddings")],
    ["trainDir", path.join(work, "train")],
    ["seeds", 1],
    ["epochs", 5],
    ["patience", 2],
    ["startEpoch", 0],
    ["bootstrap", 10],
    ["explainDir", path.join(work, "explain")],
    ["cases", 2],
    ["selectionCases", 2],
  ];
  return ["pipeline", ...p.flatMap(([k, v]) => ["-p", k, String(v)]), "--figures-root", path.join(work, "figures")];
}

/** Run the compiled CLI; resolves with the exit code and the combined output. */
function milpf(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // static PNG/SVG export (Chromium) is tested elsewhere; here it only costs time
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "milpf.js"), ...args], { cwd: ROOT, env: { ...process.env, MILPF_CHROMIUM: path.join(tmp, "no-chromium") } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.concurrent("milpf pipeline on the synthetic set in each real layout", () => {
  beforeAll(async () => {
    requireBuild();
    // 20 patients: enough for validation bags after the 70/10/20 split
    await generateSyntheticDataset({ outDir: synth, patients: 20, heightPx: 256, seed: 42, workers: 1, progress: false });
  }, 120_000);

  for (const adapter of DATASET_LAYOUTS) {
    it(`-p adapter ${adapter}: all four notebooks, a manifest of the adapter's labelled breasts`, async () => {
      const dir = path.join(tmp, adapter);
      const work = path.join(tmp, `${adapter}-work`);
      const layout: LayoutSummary = await writeSyntheticLayout({ from: synth, layout: adapter, out: dir });
      const { records } = await loadDataset({ adapter, dir });
      const labelled = new Set(records.filter((r) => r.label !== null).map((r) => r.breastId));
      const t0 = Date.now();
      const r = await milpf(pipelineArgs(dir, adapter, work));
      const seconds = (Date.now() - t0) / 1000;
      expect(r.code, `milpf pipeline -p adapter ${adapter} failed:\n${r.output.slice(-4000)}`).toBe(0);
      expect(r.output).toMatch(/pipeline: 4 notebooks ok/);
      for (const stage of ["tiles", "embeddings", "train", "explain"]) {
        expect(fs.existsSync(path.join(work, stage, "stage.json")), `${stage}/stage.json`).toBe(true);
      }
      for (const nb of ["01_tile", "02_embed", "03_train_ablations", "04_explain"]) {
        expect(fs.existsSync(path.join(work, "figures", nb, `${nb}.ipynb`)), nb).toBe(true);
      }
      const manifest = readJsonFile<{ task: string; datasetDir: string; images: { breastId: string; sourceFile: string }[]; skipped: unknown[] }>(path.join(work, "tiles", "manifest.json"));
      expect(manifest.task).toBe(adapter === "rsna" ? "cancer" : "birads");
      expect(manifest.skipped).toEqual([]);
      expect(new Set(manifest.images.map((m) => m.breastId))).toEqual(labelled);
      // RSNA labels every breast (cancer 0/1); VinDr and EMBED leave BI-RADS 2/3 out
      if (adapter === "rsna") expect(labelled.size).toBe(layout.breasts);
      else expect(labelled.size).toBeLessThan(layout.breasts);
      expect(manifest.images.every((m) => m.sourceFile.startsWith(dir + path.sep))).toBe(true);
      console.log(`layouts pipeline: ${adapter}: ${manifest.images.length} images, ${labelled.size} breasts, ${seconds.toFixed(1)} s`);
    }, 600_000);
  }
});
