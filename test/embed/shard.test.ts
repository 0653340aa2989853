import { describe, expect, it } from "vitest";
import { parseShard, planBags } from "../../lib/embed/run";
import type { ManifestImage, TileManifest } from "../../lib/types";
import { resolveShard } from "../../runner/commands/embed";

function manifest(ids: string[]): TileManifest {
  const images = ids.map(
    (b, i) =>
      ({ imageId: `im${i}`, patientId: `p${b}`, studyId: "s", breastId: b, laterality: "L", view: "CC", label: (i % 2) as 0 | 1, birads: 1, split: "train", tiles: [] }) as unknown as ManifestImage,
  );
  return { version: 1, createdAt: "", datasetDir: "", params: {} as TileManifest["params"], images, skipped: [] };
}

describe("shards", () => {
  it("parses K/N and rejects bad values", () => {
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow(/0 <= K < N/);
    expect(() => parseShard("a/b")).toThrow(/K\/N/);
  });

  it("takes the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID", () => {
    expect(resolveShard({ shardCount: "4" }, { JOB_COMPLETION_INDEX: "3" })).toEqual({ index: 3, count: 4 });
    expect(resolveShard({ shardCount: "4" }, { SLURM_ARRAY_TASK_ID: "1" })).toEqual({ index: 1, count: 4 });
    expect(resolveShard({ shard: "0/2", shardCount: "4" }, { SLURM_ARRAY_TASK_ID: "1" })).toEqual({ index: 0, count: 2 });
    expect(resolveShard({}, {})).toBe(null);
    expect(() => resolveShard({ shardCount: "4" }, {})).toThrow(/JOB_COMPLETION_INDEX/);
    expect(() => resolveShard({ shardCount: "4" }, { SLURM_ARRAY_TASK_ID: "4" })).toThrow(/0 <= K < N/);
  });

  it("splits bags into disjoint shards that cover all bags", () => {
    const ids = ["c", "a", "e", "b", "d", "f", "g"];
    const m = manifest(ids);
    const all = planBags(m).bags.map((b) => b.bag.bagId);
    expect(all).toEqual([...ids].sort());
    const parts = [0, 1, 2].map((k) => planBags(m, { index: k, count: 3 }).bags.map((b) => b.bag.bagId));
    expect(parts.flat().sort()).toEqual(all);
    expect(new Set(parts.flat()).size).toBe(all.length);
    expect(parts[0]).toEqual(["a", "d", "g"]);
  });

  it("leaves out a bag whose images disagree on the label, and reports it", () => {
    const m = manifest(["a", "a", "b"]); // image 0 label 0, image 1 label 1 in bag a
    const plan = planBags(m);
    expect(plan.bags.map((b) => b.bag.bagId)).toEqual(["b"]);
    expect(plan.skipped.map((s) => s.imageId)).toEqual(["im0", "im1"]);
  });
});
