import type { BootstrapInterval } from "../metrics/bootstrap";
import { displayInline } from "../plot/inline";
import { writeFileAtomic } from "../util/atomic";
import type { ConfigSummary } from "./results";

/**
 * What notebook 03 says about its own tables: every sentence is computed from the run's
 * summaries, so the text can never contradict the tables. Comparisons between configurations
 * read the bootstrap CIs: two rows are "apart" only when their 95 % intervals do not overlap.
 */

export interface AblationFindings {
  testBags: number;
  valBags: number;
  /** Configurations by selected-run test AUC, best first. */
  ranking: { config: string; label: string; testAuc: number; ci: [number, number] | null }[];
  /** Global SIL (global mean, inf. only) against the full model (max + attn), when both ran. */
  silVsFull: { sil: string; full: string; diff: number; ciApart: boolean | null } | null;
  /** The full model's selected run against the spread over its seeds. */
  selection: { config: string; label: string; seed: number; valAuc: number; testAuc: number; meanTestAuc: number; sdTestAuc: number; bestTestAuc: number; runs: number } | null;
  /** Dual-stream rows with local pooling that beat global max on selected-run test AUC. */
  dualBeatGlobalMax: { config: string; beats: boolean; ciApart: boolean | null }[];
}

function ci(s: ConfigSummary): [number, number] | null {
  const c: BootstrapInterval | undefined = s.selected.test.ci?.auc;
  return c ? [c.lower, c.upper] : null;
}

function apart(a: ConfigSummary, b: ConfigSummary): boolean | null {
  const x = ci(a);
  const y = ci(b);
  if (!x || !y) return null;
  return x[1] < y[0] || y[1] < x[0];
}

export function ablationFindings(summaries: ConfigSummary[]): AblationFindings {
  const by = new Map(summaries.map((s) => [s.config, s]));
  const ranking = [...summaries]
    .sort((a, b) => b.selected.test.auc - a.selected.test.auc)
    .map((s) => ({ config: s.config, label: s.label, testAuc: s.selected.test.auc, ci: ci(s) }));
  const sil = by.get("global-mean-inf");
  const full = by.get("max+attn");
  const gmax = by.get("global-max");
  const sel = full ?? ranking.map((r) => by.get(r.config)!)[0];
  return {
    testBags: summaries[0]?.selected.test.n ?? 0,
    valBags: summaries[0]?.selected.val.n ?? 0,
    ranking,
    silVsFull: sil && full ? { sil: sil.label, full: full.label, diff: full.selected.test.auc - sil.selected.test.auc, ciApart: apart(sil, full) } : null,
    selection: sel
      ? {
          config: sel.config,
          label: sel.label,
          seed: sel.selectedSeed,
          valAuc: sel.selectedValAuc,
          testAuc: sel.selected.test.auc,
          meanTestAuc: sel.spread.testAuc.mean,
          sdTestAuc: sel.spread.testAuc.sd,
          bestTestAuc: sel.spread.testAuc.max,
          runs: sel.runs,
        }
      : null,
    dualBeatGlobalMax: gmax
      ? ["max+max", "max+attn"].filter((c) => by.has(c)).map((c) => ({ config: c, beats: by.get(c)!.selected.test.auc > gmax.selected.test.auc, ciApart: apart(by.get(c)!, gmax) }))
      : [],
  };
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const ciText = (c: [number, number] | null): string => (c ? ` [${f3(c[0])}, ${f3(c[1])}]` : "");

/** The findings as a short Markdown paragraph list (notebook 03's "what you saw"). */
export function ablationNarrative(summaries: ConfigSummary[]): string {
  const f = ablationFindings(summaries);
  const lines: string[] = [];
  lines.push(`On this run's test split (${f.testBags} bags; validation ${f.valBags} bags), the selected runs rank:`);
  lines.push("");
  f.ranking.forEach((r, i) => lines.push(`${i + 1}. ${r.label}: test AUC ${f3(r.testAuc)}${ciText(r.ci)}`));
  lines.push("");
  if (f.silVsFull) {
    const s = f.silVsFull;
    const word = s.diff > 0 ? "above" : s.diff < 0 ? "below" : "equal to";
    const ciWord =
      s.ciApart === null ? "(no bootstrap CIs in this run, so no claim about the difference)" : s.ciApart ? "and the two 95 % CIs do not overlap" : "but the two 95 % CIs overlap, so this run cannot tell them apart";
    lines.push(`- **Tiles against the global view.** ${s.full} is ${Math.abs(s.diff).toFixed(3)} AUC ${word} ${s.sil} (the global single-instance baseline), ${ciWord}.`);
  }
  for (const d of f.dualBeatGlobalMax) {
    const lab = summaries.find((s) => s.config === d.config)!.label;
    const ciWord = d.ciApart === null ? "" : d.ciApart ? " (CIs apart)" : " (CIs overlap)";
    lines.push(`- ${lab} ${d.beats ? "beats" : "does not beat"} global max${ciWord}.`);
  }
  if (f.selection) {
    const s = f.selection;
    lines.push(
      `- **Selection on validation.** For ${s.label}, the run selected by validation AUC (seed ${s.seed}, val AUC ${f3(s.valAuc)}) has test AUC ${f3(s.testAuc)}; ` +
        `over its ${s.runs} seeds the test AUC is ${f3(s.meanTestAuc)} ± ${f3(s.sdTestAuc)} (mean ± sd) and the best seed reaches ${f3(s.bestTestAuc)}, ` +
        `${f3(s.bestTestAuc - s.testAuc)} above the selected one.`,
    );
  }
  return lines.join("\n");
}

/**
 * Show the narrative in the notebook (Markdown through the kernel's display; printed outside a
 * kernel) and write it to `<figures dir>/ablation_findings.md` when `file` is given.
 */
export function showAblationNarrative(summaries: ConfigSummary[], file?: string): void {
  const text = ablationNarrative(summaries);
  if (!displayInline((d) => d.markdown(text))) console.log(text);
  if (file) writeFileAtomic(file, text + "\n");
}
