import * as fs from "node:fs";
import * as path from "node:path";
import type { Benchmark, BenchResult } from "./harness";

/**
 * The sharp box method's grid on a trained run (docs/EXPLAIN.md, "Box size"): scores the first
 * N validation and M test breasts once (cached next to the run, keyed by the run's head), then
 * chooses the sharp parameters on validation with the grid before the minimum side and 60 EM
 * steps (`BEFORE_GRID`) and with `DEFAULT_SHARP_GRID`, and applies each choice to the test
 * breasts. The numbers of the EXPLAIN.md table come from this script:
 *
 *   MILPF_BENCH_RUN=data/paper/work/train MILPF_BENCH_VAL=50 MILPF_BENCH_TEST=60 npm run bench -- sharp-grid
 *
 * Without MILPF_BENCH_RUN it reports that it was skipped.
 */
export const sharpGridBenchmark: Benchmark = {
  name: "sharp-grid",
  description: "explain: sharp parameters chosen on N validation breasts of a trained run (MILPF_BENCH_RUN) with the grid before/after the minimum side and 60 EM steps, applied to M test breasts",
  async run(): Promise<BenchResult> {
    const runDir = process.env.MILPF_BENCH_RUN;
    if (!runDir) return { name: "sharp-grid", rows: [{ skipped: "set MILPF_BENCH_RUN to a training run folder (and MILPF_BENCH_VAL, MILPF_BENCH_TEST)" }] };
    const nVal = Number(process.env.MILPF_BENCH_VAL ?? 50);
    const nTest = Number(process.env.MILPF_BENCH_TEST ?? 60);
    const { readTrainRun, loadTrainRunHead } = await import("../lib/head/record");
    const { readManifest } = await import("../lib/tiling/manifest");
    const { allCases, loadExplainView } = await import("../lib/explain/runExplain");
    const { loadRunEncoder } = await import("../lib/explain/loaders");
    const { scoreBagTilesAt } = await import("../lib/explain/explainBag");
    const { selectSharpParams, detectionSummary, DEFAULT_SHARP_GRID } = await import("../lib/explain/select");
    const { sharpBoxes } = await import("../lib/explain/sharp");
    const { hashFile, hashJson } = await import("../lib/util/workId");
    type Img = import("../lib/explain/select").SelectionImage;

    const run = readTrainRun(path.resolve(runDir));
    const head = loadTrainRunHead(run);
    const manifest = readManifest(run.manifest);
    const overlaps = [0.75, 0.875];
    const headId = hashJson({ weights: hashFile(path.join(run.headDir, "weights.bin")), nVal, nTest, overlaps });
    const cacheFile = path.join(run.dir, `bench-sharp-scores-${headId.slice(0, 12)}.json`);
    let cache: Record<"val" | "test", Record<string, Img[]>>;
    let scoreSeconds = 0;
    if (fs.existsSync(cacheFile)) cache = JSON.parse(fs.readFileSync(cacheFile, "utf8"));
    else {
      if (!run.encoderSpec) throw new Error(`${run.storeDir}: no encoder spec recorded`);
      const enc = await loadRunEncoder(run.encoderSpec, "cpu");
      const t0 = Date.now();
      cache = { val: {}, test: {} };
      try {
        for (const [split, n] of [["val", nVal], ["test", nTest]] as const) {
          for (const o of overlaps) cache[split][o] = [];
          for (const bag of allCases(manifest, split).slice(0, n)) {
            const inputs: import("../lib/explain/explainBag").ExplainImageInput[] = [];
            for (const img of bag.images) inputs.push(await loadExplainView(path.dirname(run.manifest), img, enc));
            const sc = await scoreBagTilesAt(inputs, enc, head, { overlaps, tiling: manifest.params });
            for (const o of overlaps) {
              const s = sc.get(o)!;
              s.images.forEach((im, k) =>
                cache[split][o].push({ imageId: im.imageId, workingSizePx: im.workingSizePx, tiles: im.tiles, attention: Array.from(im.attention), contribution: Array.from(im.contribution), probability: s.probability, groundTruth: inputs[k].lesionsWorking }),
              );
            }
          }
        }
      } finally {
        await enc.close();
      }
      scoreSeconds = (Date.now() - t0) / 1000;
      fs.writeFileSync(cacheFile, JSON.stringify(cache));
    }
    const asMap = (c: Record<string, Img[]>): Map<number, Img[]> => new Map(Object.entries(c).map(([k, v]) => [Number(k), v]));
    const val = asMap(cache.val);
    const test = asMap(cache.test);
    const BEFORE_GRID = { ...DEFAULT_SHARP_GRID, iterations: [1, 10, 30], minSideProtocolPx: [null] };
    const rows: Record<string, number | string>[] = [];
    for (const [name, grid] of [["before (up to 30 steps, no minimum side)", BEFORE_GRID], ["DEFAULT_SHARP_GRID", DEFAULT_SHARP_GRID]] as const) {
      const t0 = Date.now();
      const sel = selectSharpParams(val, grid);
      const seconds = (Date.now() - t0) / 1000;
      const p = sel.chosen;
      const t = detectionSummary(test.get(p.overlap)!.map((im) => ({ imageId: im.imageId, groundTruth: im.groundTruth, predictions: sharpBoxes(im.workingSizePx, im.tiles, im.attention, p, im.probability, im.contribution).boxes })));
      const c = sel.chosenRow;
      rows.push({
        grid: name,
        entries: sel.rows.length,
        "grid s": seconds,
        chosen: c.description,
        "val AP": c.ap,
        "val mass": c.apMass,
        "val calc": c.apCalcification,
        "val sens@1": c.sensAt1,
        "test AP": t.ap,
        "test mass": t.apMass,
        "test calc": t.apCalcification,
        "test sens@1": t.sensAt1,
      });
    }
    const count = (m: Map<number, Img[]>): string => {
      const imgs = m.get(0.875)!;
      return `${imgs.length} images, ${imgs.reduce((s, i) => s + i.groundTruth.length, 0)} lesions`;
    };
    return {
      name: "sharp-grid",
      rows,
      notes: [
        `run ${run.dir}: first ${nVal} validation breasts (${count(val)}), first ${nTest} test breasts (${count(test)})`,
        scoreSeconds ? `tile scores computed in ${scoreSeconds.toFixed(0)} s and cached in ${cacheFile}` : `tile scores read from ${cacheFile}`,
      ],
    };
  },
};
