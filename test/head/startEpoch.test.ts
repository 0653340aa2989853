import { beforeAll, describe, expect, it } from "vitest";
import { selectTfBackend } from "../../lib/util/backend";
import { FULL_CONFIG, sourceFromStoreData, synthesizeEmbeddings, trainGrid } from "../../lib/head";

beforeAll(async () => {
  await selectTfBackend({ log: () => undefined });
});

const data = synthesizeEmbeddings({ bags: 60, tilesPerBag: 6, viewsPerBag: 2, dim: 12, seed: 9, prevalence: 0.4, positiveTilesPerBag: 1, signalStrength: 1 });
const source = sourceFromStoreData(data, 12);

describe("early stopping warm-up (startEpoch)", () => {
  it("watches validation AUC only from startEpoch: the best epoch is never earlier, and patience counts from there", async () => {
    const base = { source, configs: [FULL_CONFIG], seeds: [0, 1, 2], epochs: 40, patience: 2, progress: false };
    const watched = await trainGrid({ ...base, startEpoch: 0 });
    const warm = await trainGrid({ ...base, startEpoch: 15 });
    for (const r of warm.runs) {
      expect(r.bestEpoch).toBeGreaterThanOrEqual(15);
      // with patience 2 a run stops at the latest 2 epochs after its last improvement, never before epoch 16
      expect(r.epochsRun).toBeGreaterThanOrEqual(16);
      expect(r.bestValAuc).toBeCloseTo(r.curve[r.bestEpoch - 1].valAuc, 6);
      // the best state is the best watched epoch (within min delta), not an earlier, unwatched one
      const watchedAucs = r.curve.slice(14).map((c) => c.valAuc);
      expect(r.bestValAuc).toBeGreaterThanOrEqual(Math.max(...watchedAucs) - 0.001 - 1e-9);
    }
    // the same seeds without warm-up stop early on this tiny validation split: the warm-up changes the outcome
    expect(watched.runs.some((r) => r.epochsRun < 16)).toBe(true);
  });

  it("rejects a startEpoch outside [0, epochs]", async () => {
    await expect(trainGrid({ source, configs: [FULL_CONFIG], seeds: [0], epochs: 5, startEpoch: 6, progress: false })).rejects.toThrow(/startEpoch/);
  });
});
