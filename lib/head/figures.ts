import { rocCurve } from "../metrics";
import type { FigureSpec } from "../plot";
import { DASHES, NEUTRAL, PAGE_WIDTH, COLUMN_WIDTH, axis, baseLayout, configColour } from "../plot/style";
import type { ConfigSummary, RunSummary } from "./results";
import type { GridResult, RunResult } from "./train";

/**
 * Figure specs (Plotly) and table rows for the training notebook: the notebook only calls these
 * and hands the result to milpf.plot.show / milpf.plot.table. Colours: one fixed colour per
 * configuration (lib/plot/style.ts), the same in every figure.
 */

function selectedRun(res: GridResult, s: ConfigSummary): RunResult {
  const r = res.runs.find((x) => x.config.name === s.config && x.seed === s.selectedSeed);
  if (!r) throw new Error(`no run of configuration ${s.config} with seed ${s.selectedSeed} in the grid result`);
  return r;
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
/** Plotly's name of the k-th (1-based) x or y axis in layout: "xaxis", "xaxis2", ... and its trace reference "x", "x2", ... */
const axName = (letter: "x" | "y", k: number): string => `${letter}axis${k === 1 ? "" : k}`;
const axRef = (letter: "x" | "y", k: number): string => `${letter}${k === 1 ? "" : k}`;
const colourOf = (summaries: ConfigSummary[]) => (s: ConfigSummary) => configColour(s.config, summaries.map((x) => x.config));

/**
 * Training curves as small multiples: one panel per configuration (three per row), its selected
 * run's validation AUC on top and training loss below, each on its own axis; all panels share
 * the epoch axis and the AUC and loss ranges, so panels compare at a glance. The diamond and the
 * dotted line mark the epoch whose state was kept (best validation AUC).
 */
export function trainingCurvesFigure(res: GridResult, summaries: ConfigSummary[]): FigureSpec {
  if (summaries.length === 0) throw new Error("trainingCurvesFigure: no configuration summaries");
  const colour = colourOf(summaries);
  const runs = summaries.map((s) => selectedRun(res, s));
  const cols = Math.min(3, summaries.length);
  const rows = Math.ceil(summaries.length / cols);
  const finite = (xs: number[]): number[] => xs.filter(Number.isFinite);
  const aucs = finite(runs.flatMap((r) => r.curve.map((p) => p.valAuc)));
  const losses = finite(runs.flatMap((r) => r.curve.map((p) => p.trainLoss)));
  const maxEpoch = Math.max(1, ...runs.map((r) => r.curve.length ? r.curve[r.curve.length - 1].epoch : 1));
  const aucLo = Math.min(0.4, Math.floor(Math.min(1, ...aucs) * 10) / 10);
  const lossHi = Math.max(0.1, ...losses) * 1.05;

  // Geometry in px, converted to paper fractions.
  const aucH = 64;
  const lossH = 40;
  const innerGap = 6;
  const rowGap = 26;
  const colGap = 14;
  const margin = { l: 44, r: 8, t: 44, b: 36 };
  const plotH = rows * (aucH + innerGap + lossH) + (rows - 1) * rowGap;
  const height = plotH + margin.t + margin.b;
  const plotW = PAGE_WIDTH - margin.l - margin.r;
  const panelW = (plotW - (cols - 1) * colGap) / cols;

  const data: object[] = [];
  const layout: Record<string, unknown> = {
    ...baseLayout({ title: "Training curves of the selected runs: validation AUC (top) and training loss (bottom); ◆ kept epoch", width: "page", height, legend: false }),
    margin,
  };
  const shapes: object[] = [];
  const annotations: object[] = [];
  summaries.forEach((s, k) => {
    const r = runs[k];
    const row = Math.floor(k / cols);
    const col = k % cols;
    const a = 2 * k + 1; // AUC panel's axis number
    const b = 2 * k + 2; // loss panel's axis number
    const x0 = (col * (panelW + colGap)) / plotW;
    const x1 = (col * (panelW + colGap) + panelW) / plotW;
    const top = row * (aucH + innerGap + lossH + rowGap);
    const yA = [1 - (top + aucH) / plotH, 1 - top / plotH];
    const yB = [1 - (top + aucH + innerGap + lossH) / plotH, 1 - (top + aucH + innerGap) / plotH];
    const bottomRow = row === rows - 1 || k + cols >= summaries.length;
    const c = colour(s);
    const epochs = r.curve.map((p) => p.epoch);
    data.push(
      { type: "scatter", mode: "lines", name: `${s.label}: validation AUC`, legendgroup: s.config, x: epochs, y: r.curve.map((p) => p.valAuc), xaxis: axRef("x", a), yaxis: axRef("y", a), line: { color: c, width: 1.25 } },
      { type: "scatter", mode: "markers", name: `${s.label}: kept epoch ${r.bestEpoch}`, legendgroup: s.config, x: [r.bestEpoch], y: [r.bestValAuc], xaxis: axRef("x", a), yaxis: axRef("y", a), marker: { color: c, symbol: "diamond", size: 6, line: { color: "#222222", width: 0.5 } } },
      { type: "scatter", mode: "lines", name: `${s.label}: training loss`, legendgroup: s.config, x: epochs, y: r.curve.map((p) => p.trainLoss), xaxis: axRef("x", b), yaxis: axRef("y", b), line: { color: c, width: 1.25 } },
    );
    const noTitle = { title: { text: "" } };
    layout[axName("x", a)] = axis("epoch", { domain: [x0, x1], anchor: axRef("y", a), matches: axRef("x", b), showticklabels: false, ...noTitle });
    layout[axName("x", b)] = axis("epoch", { domain: [x0, x1], anchor: axRef("y", b), range: [0, maxEpoch + 1], showticklabels: bottomRow, nticks: 5, ...(bottomRow ? {} : noTitle) });
    layout[axName("y", a)] = axis("val AUC", { domain: yA, anchor: axRef("x", a), range: [aucLo, 1.05], tickvals: [0.5, 0.75, 1], showticklabels: col === 0, ...(col === 0 ? {} : noTitle) });
    layout[axName("y", b)] = axis("train loss", { domain: yB, anchor: axRef("x", b), range: [0, lossHi], nticks: 3, showticklabels: col === 0, ...(col === 0 ? {} : noTitle) });
    for (const p of [a, b]) {
      shapes.push({ type: "line", xref: axRef("x", p), yref: `${axRef("y", p)} domain`, x0: r.bestEpoch, x1: r.bestEpoch, y0: 0, y1: 1, line: { color: NEUTRAL, width: 0.75, dash: "dot" } });
    }
    annotations.push({
      xref: `${axRef("x", a)} domain`,
      yref: `${axRef("y", a)} domain`,
      x: 0,
      y: 1,
      xanchor: "left",
      yanchor: "bottom",
      showarrow: false,
      align: "left",
      text: `<b>${s.label}</b> (seed ${s.selectedSeed}, stop ${r.epochsRun})`,
      font: { size: 7.5, color: "#222222" },
    });
  });
  layout.shapes = shapes;
  layout.annotations = annotations;
  return { data, layout };
}

/** The paper's Table 4 form: per config, the selected run's test AUC / Spec@Sens0.9 and their mean +- sd over seeds. */
export function ablationTableRows(summaries: ConfigSummary[]): Record<string, string | number>[] {
  return summaries.map((s) => ({
    configuration: s.label,
    runs: s.runs,
    "AUC (selected)": s.selected.test.auc,
    "AUC mean ± sd": `${f3(s.spread.testAuc.mean)} ± ${f3(s.spread.testAuc.sd)}`,
    "Spec@Sens0.9 (selected)": s.selected.test.specificityAtSensitivity,
    "Spec@Sens0.9 mean ± sd": `${f3(s.spread.testSpecAtSens.mean)} ± ${f3(s.spread.testSpecAtSens.sd)}`,
    "val AUC (selected)": s.selectedValAuc,
    seed: s.selectedSeed,
  }));
}

function withCi(est: number, ci: { lower: number; upper: number } | null | undefined): string {
  return ci ? `${f3(est)} [${f3(ci.lower)}, ${f3(ci.upper)}]` : f3(est);
}

/** The paper's Table 1 form: the selected runs' test AUC, balanced accuracy (threshold from validation), Spec@Sens0.9, with bootstrap 95 % CIs in brackets where computed. */
export function resultsTableRows(summaries: ConfigSummary[]): Record<string, string | number>[] {
  return summaries.map((s) => {
    const t = s.selected.test;
    return {
      configuration: s.label,
      AUC: withCi(t.auc, t.ci?.auc),
      bACC: withCi(t.balancedAccuracy ?? NaN, t.ci?.balancedAccuracy),
      "Spec@Sens0.9": withCi(t.specificityAtSensitivity, t.ci?.specificityAtSensitivity),
      "threshold (from val)": s.selected.threshold.threshold ?? NaN,
      "test bags": t.n,
    };
  });
}

/**
 * ROC curves of each config's selected run on the test split, one fixed colour and one line style
 * per configuration; earlier curves are drawn wider, so equal curves (e.g. several at AUC 1) show
 * as nested stripes instead of hiding each other.
 */
export function rocFigure(res: GridResult, summaries: ConfigSummary[]): FigureSpec {
  const colour = colourOf(summaries);
  const n = summaries.length;
  const data: object[] = summaries.map((s, k) => {
    const r = selectedRun(res, s);
    const labels: number[] = [];
    const scores: number[] = [];
    res.bags.forEach((b, i) => {
      if (b.split === "test" && Number.isFinite(r.scores[i])) {
        labels.push(b.label);
        scores.push(r.scores[i]);
      }
    });
    const roc = rocCurve(labels, scores);
    const width = n > 1 ? 2.8 - (1.8 * k) / (n - 1) : 1.5;
    return { type: "scatter", mode: "lines", name: `${s.label} ${f3(s.selected.test.auc)}`, x: roc.fpr, y: roc.tpr, line: { shape: "hv", color: colour(s), dash: DASHES[k % DASHES.length], width } };
  });
  data.push({ type: "scatter", mode: "lines", name: "chance", x: [0, 1], y: [0, 1], line: { dash: "dash", color: NEUTRAL, width: 0.75 } });
  // Legend under the plot, one entry per row (16 pt per row, Plotly's minimum).
  const plotPx = COLUMN_WIDTH - 48;
  const bottom = 36 + (n + 2) * 16;
  return {
    data,
    layout: {
      ...baseLayout({ title: "ROC on test (selected run per configuration)", width: "column", height: 28 + plotPx + bottom }),
      margin: { l: 40, r: 8, t: 28, b: bottom },
      // A little room outside [0, 1]: curves along the edges (AUC 1) stay fully visible.
      xaxis: axis("1 - specificity", { range: [-0.02, 1.02], dtick: 0.25, constrain: "domain" }),
      yaxis: axis("sensitivity", { range: [-0.02, 1.02], dtick: 0.25, scaleanchor: "x", scaleratio: 1, constrain: "domain" }),
      legend: {
        orientation: "v",
        x: 0,
        xanchor: "left",
        y: -36 / plotPx,
        yanchor: "top",
        font: { size: 7 },
        title: { text: "configuration, test AUC", font: { size: 7 } },
      },
    },
  };
}

/**
 * Test AUC (top) and Spec@Sens0.9 (bottom) of every seed, per configuration (box + points, the
 * configuration's colour); the black star marks the run selected on validation.
 */
export function seedSpreadFigure(perRun: RunSummary[] | { config: string; seed?: number; testAuc: number; testSpecAtSens: number }[], summaries: ConfigSummary[]): FigureSpec {
  const colour = colourOf(summaries);
  const data: object[] = [];
  const metrics = [
    { key: "testAuc", axis: 1, title: "test AUC" },
    { key: "testSpecAtSens", axis: 2, title: "test Spec@Sens0.9" },
  ] as const;
  for (const m of metrics) {
    for (const s of summaries) {
      const rows = perRun.filter((r) => r.config === s.config);
      data.push({
        type: "box",
        name: s.label,
        legendgroup: s.config,
        showlegend: false,
        y: rows.map((r) => r[m.key]),
        x: rows.map(() => s.label),
        xaxis: axRef("x", m.axis),
        yaxis: axRef("y", m.axis),
        boxpoints: "all",
        jitter: 0.5,
        pointpos: 0,
        line: { color: colour(s), width: 1 },
        marker: { color: colour(s), size: 3, opacity: 0.8 },
        fillcolor: "rgba(0,0,0,0)",
      });
    }
    data.push({
      type: "scatter",
      mode: "markers",
      name: "run selected on validation",
      legendgroup: "selected",
      showlegend: m.axis === 1,
      x: summaries.map((s) => s.label),
      y: summaries.map((s) => (m.key === "testAuc" ? s.selected.test.auc : s.selected.test.specificityAtSensitivity)),
      xaxis: axRef("x", m.axis),
      yaxis: axRef("y", m.axis),
      marker: { symbol: "star", size: 8, color: "#000000", line: { color: "white", width: 0.5 } },
    });
  }
  const seeds = Math.max(...summaries.map((s) => s.runs));
  return {
    data,
    layout: {
      ...baseLayout({ title: `Spread over ${seeds} seeds per configuration (★ the run selected on validation)`, width: "page", height: 360 }),
      margin: { l: 44, r: 8, t: 28, b: 70 },
      boxmode: "overlay",
      xaxis: axis("configuration", { anchor: "y", matches: "x2", showticklabels: false, title: { text: "" }, showgrid: false }),
      yaxis: axis("test AUC", { domain: [0.55, 1], anchor: "x" }),
      xaxis2: axis("configuration", { anchor: "y2", showgrid: false, tickangle: -25 }),
      yaxis2: axis("test Spec@Sens0.9", { domain: [0, 0.45], anchor: "x2" }),
      legend: { orientation: "h", x: 1, xanchor: "right", y: 1.0, yanchor: "bottom", font: { size: 7 } },
    },
  };
}
