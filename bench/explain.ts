import type { Benchmark, BenchResult } from "./harness";

/**
 * Stage 4 kernels: heat map by difference array vs a per-tile loop over pixels, box extraction
 * (quantile + components + NMS), the map back to an original frame, and one overlay PNG, at the
 * synthetic size (1024 px working, 128 px tiles) and the paper's (4096 px, 518 px tiles), both at
 * 75 % overlap. Each timing is the best of a few repeats.
 */
export const explainBenchmark: Benchmark = {
  name: "explain",
  description: "explain: heat map (difference array vs per-tile loop), boxes, map to original, overlay; 1024/128 and 4096/518 at 75 % overlap",
  async run(): Promise<BenchResult> {
    const { attentionHeatmapWithCoverage } = await import("../lib/explain/heatmap");
    const { boxesFromHeatmap } = await import("../lib/explain/boxes");
    const { heatmapToOriginal } = await import("../lib/explain/frames");
    const { renderOverlay } = await import("../lib/explain/overlay");
    const { gridTiles } = await import("../lib/tiling/grid");
    const { makeTransform } = await import("../lib/preprocess/transform");
    const { Rng } = await import("../lib/util/rng");
    const best = async (reps: number, f: () => unknown): Promise<number> => {
      let b = Infinity;
      for (let r = 0; r < reps; r++) {
        const t = process.hrtime.bigint();
        await f();
        b = Math.min(b, Number(process.hrtime.bigint() - t) / 1e6);
      }
      return b;
    };
    const rows: Record<string, number | string>[] = [];
    for (const [n, tile, origW, origH] of [
      [1024, 128, 832, 1024],
      [4096, 518, 3328, 4096],
    ] as const) {
      const rng = new Rng(n);
      const tiles = gridTiles(n, tile, 0.75).map((t) => ({ ...t, sizePx: tile }));
      const values = Float32Array.from(tiles, () => rng.uniform());
      const diffMs = await best(3, () => attentionHeatmapWithCoverage(n, tiles, values));
      // the per-tile loop the difference array replaces: add each tile to every pixel it covers
      const loopMs = await best(1, () => {
        const sum = new Float64Array(n * n);
        const cnt = new Uint16Array(n * n);
        tiles.forEach((t, i) => {
          for (let y = t.yPx; y < Math.min(n, t.yPx + tile); y++)
            for (let x = t.xPx; x < Math.min(n, t.xPx + tile); x++) {
              sum[y * n + x] += values[i];
              cnt[y * n + x]++;
            }
        });
        for (let i = 0; i < sum.length; i++) if (cnt[i]) sum[i] /= cnt[i];
        return sum;
      });
      const map = attentionHeatmapWithCoverage(n, tiles, values);
      const k = n / 4096;
      let nBoxes = 0;
      const boxMs = await best(2, () => (nBoxes = boxesFromHeatmap(map.values, n, { minAreaPx: 1024 * k * k, mask: map.coverage }).length));
      const t = makeTransform({ originalWidthPx: origW, originalHeightPx: origH, flipped: true, crop: { x0: 0, y0: 0, x1: origW, y1: origH }, workingSizePx: n });
      const origMs = await best(2, () => heatmapToOriginal(map.values, t));
      const grey = { widthPx: n, heightPx: n, pixels: Float32Array.from({ length: n * n }, () => 0.5) };
      const overlayMs = await best(2, () => renderOverlay(grey, { heat: map.values, heatMask: map.coverage, outWidthPx: 512, predictions: [], groundTruth: [] }));
      rows.push({
        workingPx: n,
        tilePx: tile,
        tiles: tiles.length,
        heatmapMs: diffMs,
        perTileLoopMs: loopMs,
        speedup: loopMs / diffMs,
        boxesMs: boxMs,
        boxes: nBoxes,
        toOriginalMs: origMs,
        overlayPngMs: overlayMs,
      });
    }
    return {
      name: "explain",
      rows,
      notes: [
        "random tile values (boxes = components of random noise at the 0.95 quantile, an upper bound on the component count)",
        "whole-bag explain time on the synthetic set is dominated by embedding the 75 %-overlap tiles (~800-1400 tiles per breast)",
      ],
    };
  },
};
