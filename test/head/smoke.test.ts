import { describe, expect, it } from "vitest";
import { selectTfBackend } from "../../lib/util/backend";
import { ABLATION_CONFIGS, FULL_CONFIG, aucExact, sourceFromStoreData, synthesizeEmbeddings, trainGrid, splitBagIndices } from "../../lib/head";

describe("smoke", () => {
  it("trains", async () => {
    await selectTfBackend({ log: () => undefined });
    const data = synthesizeEmbeddings({ bags: 200, tilesPerBag: 20, viewsPerBag: 2, dim: 64, seed: 1, prevalence: 0.3, positiveTilesPerBag: 2 });
    const src = sourceFromStoreData(data, 64);
    const t0 = performance.now();
    const res = await trainGrid({ source: src, configs: [...ABLATION_CONFIGS], seeds: [1, 2], epochs: 60, progress: false });
    console.log((performance.now() - t0) / 1000, res.timing);
    const test = splitBagIndices(src.bags, "test");
    for (const r of res.runs) {
      console.log(r.config.name, r.seed, r.bestEpoch, r.epochsRun, r.bestValAuc.toFixed(3), aucExact(test.map((b) => r.scores[b]), test.map((b) => src.bags[b].label)).toFixed(3));
    }
    expect(res.runs.length).toBe(18);
  }, 120000);
});
