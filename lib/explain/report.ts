import type { DetectionRow } from "./detection";

/** Rows of the Table 3-style detection table for display (AP as text, "-" where undefined). */
export function detectionTableRows(rows: readonly DetectionRow[]): Record<string, string | number>[] {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : "-");
  return rows.map((r) => ({
    lesion: r.lesionType,
    resolution: `${r.resolutionPx} px`,
    "AP@IoU0.25": f(r.ap),
    "AP small": f(r.apSmall),
    "AP medium": f(r.apMedium),
    "AP large": f(r.apLarge),
    "GT (s/m/l)": `${r.gtCount} (${r.gtSmall}/${r.gtMedium}/${r.gtLarge})`,
    predictions: r.predictionCount,
  }));
}

export function detectionTableCsv(rows: readonly DetectionRow[]): string {
  const cols: (keyof DetectionRow)[] = ["lesionType", "resolutionPx", "iouThreshold", "ap", "apSmall", "apMedium", "apLarge", "gtCount", "gtSmall", "gtMedium", "gtLarge", "predictionCount"];
  const cell = (v: unknown): string => (typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v));
  return [cols.join(","), ...rows.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

export function detectionTableMarkdown(rows: readonly DetectionRow[]): string {
  const t = detectionTableRows(rows);
  if (t.length === 0) return "(no rows)\n";
  const cols = Object.keys(t[0]);
  const res = rows[0]?.resolutionPx;
  return (
    [`| ${cols.join(" | ")} |`, `| ${cols.map(() => "---").join(" | ")} |`, ...t.map((r) => `| ${cols.map((c) => String(r[c])).join(" | ")} |`)].join("\n") +
    `\n\nBoxes in the ${res} px working frame; size buckets small < ${(128 * (res ?? 4096)) / 4096}^2, medium < ${(256 * (res ?? 4096)) / 4096}^2, large >= ${(256 * (res ?? 4096)) / 4096}^2 px^2 (the protocol's 128^2 / 256^2 at 4096 px, scaled).\n`
  );
}
