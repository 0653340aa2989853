import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { selectTfBackend } from "../../lib/util/backend";
import {
  ABLATION_CONFIGS,
  ablationTableRows,
  loadHead,
  resultsTableRows,
  rocFigure,
  sourceFromStoreData,
  spreadOf,
  summarizeGrid,
  synthesizeEmbeddings,
  trainGrid,
  writeTrainOutputs,
} from "../../lib/head";

beforeAll(async () => {
  await selectTfBackend({ log: () => undefined });
});

describe("results", () => {
  it("spreadOf gives mean, sample sd, min, max", () => {
    const s = spreadOf([1, 2, 3, 4, NaN]);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect([s.min, s.max, s.n]).toEqual([1, 4, 4]);
  });

  it("selects the best validation AUC per config and writes predictions, curves, results and heads", async () => {
    const data = synthesizeEmbeddings({ bags: 100, tilesPerBag: 8, viewsPerBag: 2, dim: 16, seed: 3, prevalence: 0.4, positiveTilesPerBag: 2, signalStrength: 1 });
    const configs = [ABLATION_CONFIGS[8], ABLATION_CONFIGS[0]];
    const res = await trainGrid({ source: sourceFromStoreData(data, 16), configs, seeds: [0, 1, 2], epochs: 8, progress: false });
    const sums = summarizeGrid(res, { bootstrap: { iterations: 50, seed: 1 } });
    expect(sums.map((s) => s.config)).toEqual(configs.map((c) => c.name));
    for (const s of sums) {
      const runs = res.runs.filter((r) => r.config.name === s.config);
      expect(s.selectedValAuc).toBe(Math.max(...runs.map((r) => r.bestValAuc)));
      expect(s.selected.test.ci?.auc.lower).toBeLessThanOrEqual(s.selected.test.auc);
    }
    expect(ablationTableRows(sums)).toHaveLength(2);
    expect(resultsTableRows(sums)[0].AUC).toMatch(/\[/);
    expect(rocFigure(res, sums).data).toHaveLength(3);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-train-"));
    writeTrainOutputs(out, res, sums);
    const csv = fs.readFileSync(path.join(out, "predictions.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("bag_id,patient_id,split,label,score,config,seed");
    expect(csv).toHaveLength(1 + 6 * 100);
    const curves = fs.readFileSync(path.join(out, "curves.csv"), "utf8").trim().split("\n");
    expect(curves).toHaveLength(1 + res.runs.reduce((n, r) => n + r.curve.length, 0));
    const head = loadHead(path.join(out, "head"));
    expect(head.config.name).toBe("max+attn");
    expect(head.seed).toBe(sums[0].selectedSeed);
    const results = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")) as { settings: { lr: number }; runs: unknown[] };
    expect(results.settings.lr).toBe(0.002);
    expect(results.runs).toHaveLength(6);
  });
});
