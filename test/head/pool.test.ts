import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

// The worker pool needs the compiled worker: this test runs the built library (npm test builds first).
const dist = path.join(__dirname, "../../dist/lib/head/index.js");
const haveDist = fs.existsSync(path.join(__dirname, "../../dist/lib/head/rowgradWorker.js"));

describe.skipIf(!haveDist)("head after H on worker threads (dist build)", () => {
  it("gives the same models as the main thread", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const head = require(dist) as typeof import("../../lib/head");
    const data = head.synthesizeEmbeddings({ bags: 80, tilesPerBag: 10, viewsPerBag: 2, dim: 16, seed: 2, prevalence: 0.4, positiveTilesPerBag: 2, signalStrength: 1 });
    const src = head.sourceFromStoreData(data, 16);
    const configs = [head.FULL_CONFIG, head.ABLATION_CONFIGS[0], head.ABLATION_CONFIGS[6]];
    const opts = { source: src, configs, seeds: [1, 2, 3], epochs: 6, progress: false, chunkRows: 100 };
    const pool = new head.RowgradPool(2);
    expect(pool.threads).toBe(2); // the compiled worker was found: the threaded path is exercised
    await pool.close();
    const one = await head.trainGrid({ ...opts, postHThreads: 1 });
    const two = await head.trainGrid({ ...opts, postHThreads: 2 });
    one.runs.forEach((r, i) => {
      for (const k of Object.keys(r.params)) expect(two.runs[i].params[k]).toEqual(r.params[k]);
      expect(two.runs[i].scores).toEqual(r.scores);
    });
  });
});
