import { rocCurve } from "../metrics";
import type { FigureSpec } from "../plot";
import type { ConfigSummary } from "./results";
import type { GridResult, RunResult } from "./train";

/**
 * Figure specs (Plotly) and table rows for the training notebook: the notebook only calls these
 * and hands the result to milpf.plot.show / milpf.plot.table.
 */

function selectedRun(res: GridResult, s: ConfigSummary): RunResult {
  return res.runs.find((r) => r.config.name === s.config && r.seed === s.selectedSeed) as RunResult;
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "n/a");

/** Validation AUC (and training loss) per epoch of each config's selected run; dashed line = kept epoch. */
export function trainingCurvesFigure(res: GridResult, summaries: ConfigSummary[]): FigureSpec {
  const data: object[] = [];
  for (const s of summaries) {
    const r = selectedRun(res, s);
    data.push({ type: "scatter", mode: "lines", name: `${s.config} val AUC`, x: r.curve.map((p) => p.epoch), y: r.curve.map((p) => p.valAuc), legendgroup: s.config });
    data.push({ type: "scatter", mode: "lines", name: `${s.config} train loss`, x: r.curve.map((p) => p.epoch), y: r.curve.map((p) => p.trainLoss), yaxis: "y2", line: { dash: "dot" }, legendgroup: s.config, showlegend: false });
  }
  return {
    data,
    layout: {
      title: { text: "Training curves of the selected runs (solid: validation AUC, dotted: training loss)" },
      xaxis: { title: { text: "epoch" } },
      yaxis: { title: { text: "validation AUC" }, range: [0.4, 1.0] },
      yaxis2: { title: { text: "training loss (weighted BCE)" }, overlaying: "y", side: "right" },
      width: 950,
      height: 520,
      legend: { font: { size: 10 }, x: 1.1 },
    },
  };
}

/** The paper's Table 4 form: per config, the selected run's test AUC / Spec@Sens0.9 and their mean +- sd over seeds. */
export function ablationTableRows(summaries: ConfigSummary[]): Record<string, string | number>[] {
  return summaries.map((s) => ({
    configuration: s.label,
    runs: s.runs,
    "AUC (selected)": Number(s.selected.test.auc.toFixed(4)),
    "AUC mean ± sd": `${f3(s.spread.testAuc.mean)} ± ${f3(s.spread.testAuc.sd)}`,
    "Spec@Sens0.9 (selected)": Number(s.selected.test.specificityAtSensitivity.toFixed(4)),
    "Spec@Sens0.9 mean ± sd": `${f3(s.spread.testSpecAtSens.mean)} ± ${f3(s.spread.testSpecAtSens.sd)}`,
    "val AUC (selected)": Number(s.selectedValAuc.toFixed(4)),
    seed: s.selectedSeed,
  }));
}

function withCi(est: number, ci: { lower: number; upper: number } | null | undefined): string {
  return ci ? `${f3(est)} [${f3(ci.lower)}, ${f3(ci.upper)}]` : f3(est);
}

/** The paper's Table 1 form: the selected runs' test AUC, balanced accuracy (threshold from validation), Spec@Sens0.9, with bootstrap 95 % CIs where computed. */
export function resultsTableRows(summaries: ConfigSummary[]): Record<string, string | number>[] {
  return summaries.map((s) => {
    const t = s.selected.test;
    return {
      configuration: s.label,
      AUC: withCi(t.auc, t.ci?.auc),
      bACC: withCi(t.balancedAccuracy ?? NaN, t.ci?.balancedAccuracy),
      "Spec@Sens0.9": withCi(t.specificityAtSensitivity, t.ci?.specificityAtSensitivity),
      "threshold (from val)": Number((s.selected.threshold.threshold ?? NaN).toPrecision(4)),
      "test bags": t.n,
    };
  });
}

/** ROC curves of each config's selected run on the test split. */
export function rocFigure(res: GridResult, summaries: ConfigSummary[]): FigureSpec {
  const data: object[] = summaries.map((s) => {
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
    return { type: "scatter", mode: "lines", name: `${s.label} (AUC ${f3(s.selected.test.auc)})`, x: roc.fpr, y: roc.tpr, line: { shape: "hv" } };
  });
  data.push({ type: "scatter", mode: "lines", name: "chance", x: [0, 1], y: [0, 1], line: { dash: "dash", color: "grey" }, showlegend: false });
  return {
    data,
    layout: {
      title: { text: "ROC on test (selected run per configuration)" },
      xaxis: { title: { text: "1 - specificity" }, range: [0, 1] },
      yaxis: { title: { text: "sensitivity" }, range: [0, 1] },
      width: 760,
      height: 620,
    },
  };
}

/** Box plots of the test AUC and Spec@Sens0.9 over seeds, per config. */
export function seedSpreadFigure(perRun: { config: string; testAuc: number; testSpecAtSens: number }[], summaries: ConfigSummary[]): FigureSpec {
  const data: object[] = [];
  for (const s of summaries) {
    const rows = perRun.filter((r) => r.config === s.config);
    data.push({ type: "box", name: s.config, y: rows.map((r) => r.testAuc), boxpoints: "all", jitter: 0.4, pointpos: 0, marker: { size: 3 }, legendgroup: "auc", showlegend: false });
  }
  return {
    data,
    layout: {
      title: { text: `Spread over ${Math.max(...summaries.map((s) => s.runs))} seeds: test AUC per configuration` },
      yaxis: { title: { text: "test AUC" } },
      width: 950,
      height: 480,
    },
  };
}
