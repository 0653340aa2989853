import type { DetectionRow } from "./detection";
import { recordsTable, toCsv, toMarkdown, toTableData } from "../util/table";
import { FROC_FP_RATES, type FrocRow } from "./froc";
import type { SelectionRow } from "./select";

/** Rows of the Table 3-style detection table for display (AP as text, "-" where undefined). */
export function detectionTableRows(rows: readonly DetectionRow[]): Record<string, string | number>[] {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : "-");
  return rows.map((r) => ({
    method: r.method,
    lesion: r.lesionType,
    resolution: `${r.resolutionPx} px`,
    "AP@IoU0.25": f(r.ap),
    "AP small": f(r.apSmall),
    "AP medium": f(r.apMedium),
    "AP large": f(r.apLarge),
    images: r.imageCount,
    "lesions (s/m/l)": `${r.gtCount} (${r.gtSmall}/${r.gtMedium}/${r.gtLarge})`,
    boxes: r.predictionCount,
  }));
}

export function detectionTableCsv(rows: readonly DetectionRow[]): string {
  const cols: (keyof DetectionRow & string)[] = ["method", "lesionType", "resolutionPx", "iouThreshold", "ap", "apSmall", "apMedium", "apLarge", "gtCount", "gtSmall", "gtMedium", "gtLarge", "predictionCount", "imageCount"];
  return toCsv(recordsTable(cols, rows));
}

export function detectionTableMarkdown(rows: readonly DetectionRow[]): string {
  if (rows.length === 0) return markdownTable([]);
  const res = rows[0].resolutionPx;
  return (
    markdownTable(detectionTableRows(rows)) +
    `\nBoxes in the ${res} px working frame; size buckets small < ${(128 * (res ?? 4096)) / 4096}^2, medium < ${(256 * (res ?? 4096)) / 4096}^2, large >= ${(256 * (res ?? 4096)) / 4096}^2 px^2 (the protocol's 128^2 / 256^2 at 4096 px, scaled).\n`
  );
}

/** FROC rows for display: sensitivity at 0.5, 1 and 2 false positives per image. */
export function frocTableRows(rows: readonly FrocRow[]): Record<string, string | number>[] {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : "-");
  return rows.map((r) => ({
    method: r.method,
    hit: r.criterion === "iou" ? `IoU >= ${r.iouThreshold}` : "centre in lesion",
    images: r.images,
    lesions: r.lesions,
    boxes: r.boxes,
    ...Object.fromEntries(FROC_FP_RATES.map((k) => [`sens@${k} FP/img`, f(r.sensAt[String(k)])])),
    "max FP/img": f(r.maxFpPerImage),
    "max sens": f(r.maxSensitivity),
  }));
}

/** A list of rows as a markdown table (lib/plot's table formatting). */
export function markdownTable(rows: readonly Record<string, string | number>[]): string {
  return rows.length === 0 ? "(no rows)\n" : toMarkdown(toTableData([...rows])) + "\n";
}

/** The measured options on the validation split (SharpSelection.ablation) for display. */
export function selectionTableRows(rows: readonly (SelectionRow & { step?: string })[]): Record<string, string | number>[] {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : "-");
  return rows.map((r) => ({
    ...(r.step !== undefined ? { step: r.step } : {}),
    options: r.description,
    "AP@0.25": f(r.ap),
    "AP mass": f(r.apMass),
    "AP calc": f(r.apCalcification),
    "sens@1FP": f(r.sensAt1),
    objective: f(r.objective),
    boxes: r.boxes,
  }));
}
