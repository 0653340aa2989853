import { describe, expect, it } from "vitest";
import type { TileRect } from "../../lib/explain/heatmap";
import { DEFAULT_SHARP_GRID, detectionSummary, selectSharpParams, type SelectionImage } from "../../lib/explain/select";
import { Rng } from "../../lib/util/rng";

const N = 512;
function grid(t: number, s: number): TileRect[] {
  const out: TileRect[] = [];
  for (let y = 0; y + t <= N; y += s) for (let x = 0; x + t <= N; x += s) out.push({ xPx: x, yPx: y, sizePx: t });
  return out;
}

/** Attention: noise baseline plus the fraction of the lesion inside the tile; contribution = attention x (lesion ? 1 : -0.2). */
function image(id: string, tiles: TileRect[], les: { x0: number; y0: number; x1: number; y1: number } | null, seed: number, probability: number): SelectionImage {
  const rng = new Rng(seed);
  const att = tiles.map((t) => {
    let f = 0;
    if (les) {
      const w = Math.max(0, Math.min(t.xPx + t.sizePx, les.x1) - Math.max(t.xPx, les.x0));
      const h = Math.max(0, Math.min(t.yPx + t.sizePx, les.y1) - Math.max(t.yPx, les.y0));
      f = (w * h) / ((les.x1 - les.x0) * (les.y1 - les.y0));
    }
    return 0.05 + 0.02 * rng.uniform() + f;
  });
  return {
    imageId: id,
    workingSizePx: N,
    tiles,
    attention: att,
    contribution: att.map((a, i) => a * (att[i] > 0.3 ? 1 : -0.2)),
    probability,
    groundTruth: les ? [{ ...les, kind: "Mass", birads: 5 }] : [],
  };
}

describe("choosing the sharp parameters on a validation set", () => {
  it("returns the grid entry with the best objective, records every entry and the one-option rows", () => {
    const lesions = [
      { x0: 100, y0: 120, x1: 140, y1: 170 },
      { x0: 300, y0: 260, x1: 330, y1: 300 },
      { x0: 200, y0: 350, x1: 260, y1: 400 },
    ];
    const byOverlap = new Map<number, SelectionImage[]>();
    for (const [o, s] of [[0.75, 32], [0.875, 16]] as const) {
      const t = grid(128, s);
      byOverlap.set(o, [...lesions.map((l, k) => image(`p${k}`, t, l, k, 0.8)), image("n0", t, null, 7, 0.2), image("n1", t, null, 8, 0.3)]);
    }
    const g = { ...DEFAULT_SHARP_GRID, iterations: [1, 20], peakFraction: [null, 0.5], momentK: [null, Math.sqrt(3)], minSideProtocolPx: [null, 128] };
    const sel = selectSharpParams(byOverlap, g);
    expect(sel.rows).toHaveLength(2 * 2 * 2 * 2 * 2 * 2 * 2 * 2);
    expect(sel.images).toBe(5);
    expect(sel.lesions).toBe(3);
    const best = Math.max(...sel.rows.map((r) => r.objective));
    expect(sel.chosenRow.objective).toBe(best);
    expect(sel.chosen).toEqual(sel.chosenRow.params);
    // the objective is the mean of AP and sensitivity at 1 FP/image
    for (const r of sel.rows) expect(r.objective).toBeCloseTo((r.ap + r.sensAt1) / 2, 12);
    // on these lesions the sharp options beat the protocol-like start clearly
    const start = sel.ablation[0];
    expect(start.step).toBe("protocol-like (grid start)");
    expect(start.params).toMatchObject({ source: "attention", overlap: 0.75, iterations: 1, peakFraction: null, momentK: null, minSideProtocolPx: null, scoreBy: "mass", probabilityWeighted: false });
    expect(sel.chosenRow.ap).toBeGreaterThan(start.ap + 0.3);
    expect(sel.ablation[sel.ablation.length - 1].step).toBe("chosen (all options)");
  });

  it("refuses a validation set without lesions", () => {
    const t = grid(128, 32);
    const m = new Map([[0.75, [image("n", t, null, 1, 0.1)]]]);
    expect(() => selectSharpParams(m, { ...DEFAULT_SHARP_GRID, overlap: [0.75] })).toThrow(/no annotated lesion/);
  });

  it("summarises detection: AP and sensitivity at 1 FP/image by hand", () => {
    const gt = { x0: 0, y0: 0, x1: 10, y1: 10, kind: "Mass", birads: 4 };
    // one image: FP (0.9), hit (0.8) -> AP = 0.5 (precision 1/2 at recall 1); 1 FP on 1 image -> sens@1 = 1
    const s = detectionSummary([{ imageId: "a", groundTruth: [gt], predictions: [{ x0: 50, y0: 50, x1: 60, y1: 60, score: 0.9 }, { x0: 0, y0: 0, x1: 10, y1: 10, score: 0.8 }] }]);
    expect(s.ap).toBeCloseTo(0.5, 12);
    expect(s.sensAt1).toBe(1);
    expect(s.apCalcification).toBeNaN();
  });
});
