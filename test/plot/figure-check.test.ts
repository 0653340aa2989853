import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { selectTfBackend } from "../../lib/util/backend";
import { ABLATION_CONFIGS, rocFigure, seedSpreadFigure, sourceFromStoreData, summarizeGrid, summarizeRuns, synthesizeEmbeddings, trainGrid, trainingCurvesFigure } from "../../lib/head";
import type { GridResult } from "../../lib/head/train";
import type { ConfigSummary } from "../../lib/head/results";
import { checkFigure, checkFigureTree } from "../../lib/plot/check";
import { tilesPerViewFigure } from "../../lib/tiling/figures";
import type { TileManifest } from "../../lib/types";
import { ROOT } from "../runner/helpers";

/** A figure that passes: titled, titled axes, named traces, one colour per series. */
const good = () => ({
  data: [
    { type: "scatter", name: "a", x: [0, 1], y: [0, 1], line: { color: "#332288" } },
    { type: "scatter", name: "b", x: [0, 1], y: [1, 0], line: { color: "#88CCEE" } },
  ],
  layout: { title: { text: "t" }, xaxis: { title: { text: "x" } }, yaxis: { title: { text: "y" } } },
});

describe("figure check", () => {
  it("passes a complete figure and names each problem of a broken one", () => {
    expect(checkFigure(good())).toEqual([]);
    const cases: [string, (f: ReturnType<typeof good>) => void, RegExp][] = [
      ["empty", (f) => (f.data = []), /empty figure/],
      ["no points", (f) => f.data.forEach((t) => ((t.x = []), (t.y = []))), /empty figure/],
      ["no title", (f) => (f.layout.title = { text: "" }), /no figure title/],
      ["axis title", (f) => (f.layout.yaxis = { title: { text: "" } }), /axis yaxis shows tick labels but has no title/],
      ["unnamed", (f) => (f.data[1].name = ""), /trace 1 \(scatter\) has no name/],
      ["repeated colour", (f) => (f.data[1].line.color = "#332288"), /colour #332288 is used by two series/],
      ["default colours repeat", (f) => {
        f.data = Array.from({ length: 11 }, (_, i) => ({ type: "scatter", name: `s${i}`, x: [0], y: [i] })) as typeof f.data;
      }, /colour #1f77b4 is used by two series \(name s0; name s10\)/],
      ["hidden, unnamed by anything", (f) => Object.assign(f.data[1], { showlegend: false }), /trace 1 "b" is not in the legend/],
    ];
    for (const [what, breakIt, re] of cases) {
      const f = good();
      breakIt(f);
      const problems = checkFigure(f);
      expect(problems.join("\n"), what).toMatch(re);
    }
    // the same colour within one legend group (one series drawn as several traces) is fine
    const grouped = good();
    Object.assign(grouped.data[0], { legendgroup: "g" });
    Object.assign(grouped.data[1], { legendgroup: "g", showlegend: false, line: { color: "#332288" } });
    expect(checkFigure(grouped)).toEqual([]);
    // a heat map needs a titled colour bar
    const heat = { data: [{ type: "heatmap", name: "h", z: [[1, 2]] }], layout: good().layout };
    expect(checkFigure(heat).join()).toMatch(/no colour bar title/);
    expect(checkFigure({ ...heat, data: [{ ...heat.data[0], colorbar: { title: { text: "v" } } }] })).toEqual([]);
  });

  describe("the project's figures", () => {
    let res: GridResult;
    let sums: ConfigSummary[];
    beforeAll(async () => {
      await selectTfBackend({ log: () => undefined });
      const data = synthesizeEmbeddings({ bags: 90, tilesPerBag: 6, viewsPerBag: 2, dim: 8, seed: 5, prevalence: 0.4, positiveTilesPerBag: 2, signalStrength: 1.5 });
      res = await trainGrid({ source: sourceFromStoreData(data, 8), configs: [...ABLATION_CONFIGS], seeds: [0, 1], epochs: 12, progress: false });
      sums = summarizeGrid(res);
    });

    it("training curves (all nine configurations) pass the check", () => {
      expect(checkFigure(trainingCurvesFigure(res, sums), "training_curves")).toEqual([]);
    });
    it("ROC and seed spread pass the check", () => {
      expect(checkFigure(rocFigure(res, sums), "roc_test")).toEqual([]);
      expect(checkFigure(seedSpreadFigure(summarizeRuns(res), sums), "seed_spread")).toEqual([]);
    });
    it("tiles per view passes the check", () => {
      const img = (view: string, n: number) => ({ view, tiles: Array.from({ length: n }, () => ({})) });
      const manifest = { params: { tileSizePx: 128, workingSizePx: 1024, overlap: 0 }, images: [img("CC", 3), img("MLO", 5), img("CC", 4)] } as unknown as TileManifest;
      expect(checkFigure(tilesPerViewFigure(manifest), "tiles_per_view")).toEqual([]);
    });
  });

  // After `npm run pipeline` (CI runs it before the tests): every figure spec it exported.
  const tree = checkFigureTree(path.join(ROOT, "figures"));
  it.skipIf(tree.files.length === 0)(`every figure the pipeline exported passes (${tree.files.length} specs under figures/)`, () => {
    expect(tree.problems).toEqual([]);
  });
});
