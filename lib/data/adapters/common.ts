import * as fs from "node:fs";
import type { ImageRecord } from "../../types";
import { biradsToLabel } from "../labels";

/** A table row that produced no record, and why (row = 1-based line number in the file, header = 1). */
export interface SkippedRow {
  file: string;
  row: number;
  reason: string;
}

export interface AdapterResult {
  records: ImageRecord[];
  skipped: SkippedRow[];
  /** Which loader read each table (danfojs-node or the CSV fallback, with the reason). */
  tables: { file: string; loader: string; rows: number }[];
}

/** Items grouped by a key; groups, and items within a group, in first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Does the file exist (a cheap stat; false for folders)? */
export function fileExists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Bag-level BI-RADS and labels: every image of a breast gets the breast's highest BI-RADS (the
 * reference: "max over its images where the assessment is per image") and the label from it,
 * unless `labelFrom` gives the label directly (RSNA cancer), in which case the breast's highest
 * label is used.
 */
export function applyBreastLevelLabels(records: ImageRecord[], labelFrom: "birads" | "given"): void {
  for (const list of groupBy(records, (r) => r.breastId).values()) {
    let birads: number | null = null;
    let label: 0 | 1 | null = null;
    for (const r of list) {
      if (r.birads !== null && (birads === null || r.birads > birads)) birads = r.birads;
      if (r.label !== null && (label === null || r.label > label)) label = r.label;
    }
    for (const r of list) {
      r.birads = birads;
      r.label = labelFrom === "birads" ? biradsToLabel(birads) : label;
    }
  }
}

export function isLaterality(s: string): s is "L" | "R" {
  return s === "L" || s === "R";
}

/** A table cell, trimmed ("" when the column is missing or empty). */
export function cell(row: Record<string, string | undefined>, column: string): string {
  return (row[column] ?? "").trim();
}

/**
 * One image's record; its bag (breast) is `${studyId}_${laterality}`. Label, split and lesions
 * default to unknown and none; `applyBreastLevelLabels` fills the label afterwards.
 */
export function imageRecord(
  r: Omit<ImageRecord, "breastId" | "label" | "split" | "lesions"> & Partial<Pick<ImageRecord, "label" | "split" | "lesions">>,
): ImageRecord {
  const { label = null, split = null, lesions = [], ...rest } = r;
  // Fields in ImageRecord's order, as the adapters wrote them before, so that any JSON written
  // from a record keeps its bytes.
  return {
    patientId: rest.patientId,
    studyId: rest.studyId,
    imageId: rest.imageId,
    breastId: `${rest.studyId}_${rest.laterality}`,
    laterality: rest.laterality,
    view: rest.view,
    filePath: rest.filePath,
    birads: rest.birads,
    label,
    density: rest.density,
    split,
    lesions,
  };
}

/**
 * Visits a table's rows; `visit` gets the row and its line in the file (the header is line 1)
 * and returns the reason to skip the row, which is added to `skipped` with the file and line,
 * or nothing to keep it.
 */
export function forEachRow<R>(rows: readonly R[], file: string, skipped: SkippedRow[], visit: (r: R, row: number) => string | void): void {
  rows.forEach((r, i) => {
    const reason = visit(r, i + 2);
    if (reason) skipped.push({ file, row: i + 2, reason });
  });
}
