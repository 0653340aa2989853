import type { BinaryLabel } from "../types";

/**
 * Labels per the reference (mil-pf.md section 2): BI-RADS 1 -> 0 (negative), 4/5/6 -> 1
 * (positive), 0/2/3 -> null (left out). RSNA has no breast-level BI-RADS for the task: there
 * cancer 1/0 is the label.
 */
export function biradsToLabel(birads: number | null): BinaryLabel | null {
  if (birads === 1) return 0;
  if (birads === 4 || birads === 5 || birads === 6) return 1;
  return null;
}

/**
 * "BI-RADS 4", "BI-RADS 4A", "4", " 5 " -> 4 / 4 / 4 / 5; RSNA's float text "0.0", "2.0" (pandas
 * writes its BIRADS column, which has blanks, as floats) -> 0 / 2; empty or unknown -> null.
 */
export function parseBirads(text: string | number | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const m = /^\s*(?:bi-?rads)?\s*([0-6])(?:\.0+|\s*[abc])?\s*$/i.exec(String(text));
  return m ? Number(m[1]) : null;
}

/** EMBED assessment letters (column `asses`): A=0, N=1, B=2, P=3, S=4, M=5, K=6. */
export const EMBED_ASSESSMENT: Readonly<Record<string, number>> = { A: 0, N: 1, B: 2, P: 3, S: 4, M: 5, K: 6 };

export function embedAssessmentToBirads(letter: string | null | undefined): number | null {
  if (letter === null || letter === undefined) return null;
  const v = EMBED_ASSESSMENT[String(letter).trim().toUpperCase()];
  return v === undefined ? null : v;
}

/** "DENSITY C", "C", "c" -> "C"; EMBED tissueden 1..4 -> "A".."D"; otherwise null. */
export function parseDensity(text: string | number | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const s = String(text).trim().toUpperCase();
  let m = /^(?:DENSITY\s*)?([A-D])$/.exec(s);
  if (m) return m[1];
  m = /^([1-4])(?:\.0+)?$/.exec(s);
  if (m) return "ABCD"[Number(m[1]) - 1];
  return null;
}

/** RSNA `cancer` column: "1" -> 1, "0" -> 0, anything else null. */
export function parseCancer(text: string | null | undefined): BinaryLabel | null {
  const s = String(text ?? "").trim();
  if (s === "1" || s === "1.0") return 1;
  if (s === "0" || s === "0.0") return 0;
  return null;
}

/**
 * Label tasks (the paper's Table 2), all breast-level:
 * - `birads`: BI-RADS 1 -> 0, 4/5/6 -> 1, 0/2/3 left out (VinDr, EMBED, the synthetic set);
 * - `cancer`: RSNA's `cancer` column (the rsna adapter's label);
 * - `mass`: 1 when the breast has a finding box of category Mass (VinDr `finding_categories`),
 *   0 when it has none; breasts without an assessment are left out;
 * - `calcification`: the same for Suspicious Calcification boxes.
 */
export const LABEL_TASKS = ["birads", "cancer", "mass", "calcification"] as const;
export type LabelTask = (typeof LABEL_TASKS)[number];

/** The task an adapter's own label means: RSNA -> cancer, the others -> birads. */
export function defaultTask(adapter: string): LabelTask {
  return adapter === "rsna" ? "cancer" : "birads";
}

export function parseLabelTask(value: unknown, name = "task"): LabelTask {
  if (typeof value === "string" && (LABEL_TASKS as readonly string[]).includes(value)) return value as LabelTask;
  throw new Error(`${name}: ${JSON.stringify(value)} is not a label task; allowed: ${LABEL_TASKS.join(", ")}`);
}

/**
 * Relabel an adapter's records (in place) for `task`. The adapter's own label is the
 * `defaultTask`; `mass` / `calcification` need finding boxes (VinDr layout, the synthetic set).
 * Every image of a breast gets the breast's label.
 */
export function applyLabelTask(records: { breastId: string; birads: number | null; label: BinaryLabel | null; lesions: { kind: string }[] }[], task: LabelTask, adapter: string): void {
  const natural = defaultTask(adapter);
  if (task === natural) return;
  if (task === "cancer" || task === "birads") throw new Error(`task "${task}" is not available with adapter "${adapter}" (its label task is "${natural}")`);
  if (adapter === "rsna" || adapter === "embed") throw new Error(`task "${task}" needs finding boxes with categories (VinDr layout); adapter "${adapter}" has none`);
  const positive = new Set<string>();
  const assessed = new Set<string>();
  for (const r of records) {
    if (r.birads !== null) assessed.add(r.breastId);
    if (r.lesions.some((l) => l.kind === task)) positive.add(r.breastId);
  }
  for (const r of records) r.label = positive.has(r.breastId) ? 1 : assessed.has(r.breastId) ? 0 : null;
}
