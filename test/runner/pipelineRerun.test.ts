import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Params } from "../../runner/parameterize";
import { runPipeline } from "../../runner/pipeline";
import { requireBuild, tempDir } from "./helpers";

/**
 * The real four notebooks on a tiny synthetic set, run twice: the second run changes one
 * parameter of stage 3, so stages 1 and 2 reuse everything, stage 3 retrains, and stage 4
 * (whose work identity includes the head's weights) redoes every case. The pipeline's summary
 * (read from each stage's record) says so.
 */
describe("milpf pipeline: a changed stage-3 parameter redoes stages 3 and 4 only", () => {
  beforeAll(() => requireBuild());

  it("first run does everything; the re-run with another startEpoch reuses stages 1-2 and redoes 3-4", async () => {
    const dir = tempDir("rerun");
    const w = (p: string): string => path.join(dir, p);
    const params: Params = {
      datasetDir: w("synthetic"), patients: 12, heightPx: 256, workingSizePx: 256, tileSizePx: 32, globalSizePx: 32,
      splits: w("work/splits.csv"), out: w("work/tiles"), manifest: w("work/tiles/manifest.json"), embeddings: w("work/embeddings"),
      trainDir: w("work/train"), explainDir: w("work/explain"),
      seeds: 2, configs: "global-mean-inf,max+attn", epochs: 12, startEpoch: 0, bootstrap: 0, cases: 4, selectionCases: 4,
    };
    const figuresRoot = w("figures");
    const first = await runPipeline({ params, figuresRoot, log: () => undefined });
    expect(first.ok, first.failed).toBe(true);
    const work1 = Object.fromEntries(first.runs.map((r) => [r.notebook, r.work]));
    expect(work1["01_tile"]).toMatch(/^\d+ images: \d+ done \(\d+ new\), 0 reused$/);
    expect(work1["02_embed"]).toMatch(/^\d+ images: \d+ done \(\d+ new\), 0 reused$/);
    expect(work1["03_train_ablations"]).toBe("1 unit(s) of seeds: 1 done (1 new), 0 reused");
    expect(work1["04_explain"]).toMatch(/^\d+ breasts: \d+ done \(\d+ new\), 0 reused$/);

    const second = await runPipeline({ params: { ...params, startEpoch: 6 }, figuresRoot, log: () => undefined });
    expect(second.ok, second.failed).toBe(true);
    const work2 = Object.fromEntries(second.runs.map((r) => [r.notebook, r.work]));
    expect(work2["01_tile"]).toMatch(/^\d+ images: all reused$/);
    expect(work2["02_embed"]).toMatch(/^\d+ images: all reused$/);
    expect(work2["03_train_ablations"]).toBe("1 unit(s) of seeds: 1 done (1 parameters changed), 0 reused");
    expect(work2["04_explain"]).toMatch(/^(\d+) breasts: \1 done \(\1 input changed\), 0 reused$/);
  }, 900_000);
});
