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

/** "BI-RADS 4", "BI-RADS 4A", "4", " 5 " -> 4 / 4 / 4 / 5; empty or unknown -> null. */
export function parseBirads(text: string | number | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const m = /^\s*(?:bi-?rads)?\s*([0-6])(?:\s*[abc])?\s*$/i.exec(String(text));
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
