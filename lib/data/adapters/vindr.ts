import * as path from "node:path";
import type { ImageRecord, LesionBox } from "../../types";
import { parseBirads, parseDensity } from "../labels";
import { parseSplitName } from "../splits";
import { loadTable } from "./table";
import { type AdapterResult, type SkippedRow, applyBreastLevelLabels, fileExists, isLaterality } from "./common";

/**
 * VinDr-Mammo (and the synthetic set, which uses its layout):
 *   breast-level_annotations.csv: study_id, series_id, image_id, laterality, view_position,
 *     height, width, breast_birads ("BI-RADS 1".."BI-RADS 5"), breast_density ("DENSITY A".."D"),
 *     split ("training" / "test")
 *   finding_annotations.csv: the same keys plus finding_categories ("['Mass']", ...),
 *     finding_birads, xmin, ymin, xmax, ymax (empty for "['No Finding']")
 *   images/<study_id>/<image_id>.dicom
 * VinDr has no patient column: the study is the patient.
 */

export const VINDR_BREAST_COLUMNS = ["study_id", "image_id", "laterality", "view_position", "breast_birads"] as const;
export const VINDR_FINDING_COLUMNS = ["image_id", "finding_categories", "xmin", "ymin", "xmax", "ymax"] as const;

export interface VindrOptions {
  dir: string;
  /** Check that every image file exists (default true). */
  checkFiles?: boolean;
  breastTable?: string;
  findingTable?: string;
  imagesDir?: string;
  /** Image file extension (default ".dicom"). */
  extension?: string;
}

/** "['Mass', 'Suspicious Calcification']" -> ["Mass", "Suspicious Calcification"]. */
export function parseCategoryList(text: string): string[] {
  const inner = text.trim().replace(/^\[/, "").replace(/\]$/, "");
  return inner
    .split(",")
    .map((s) => s.trim().replace(/^['"]|['"]$/g, "").trim())
    .filter((s) => s.length > 0);
}

/** Lesion kind from VinDr categories: "mass", "calcification", or the categories as written. */
export function lesionKind(categories: string[]): string {
  if (categories.some((c) => /mass/i.test(c))) return "mass";
  if (categories.some((c) => /calcification/i.test(c))) return "calcification";
  return categories.join(", ");
}

function num(s: string): number | null {
  if (s.trim() === "") return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

export async function loadVindr(opts: VindrOptions): Promise<AdapterResult> {
  const dir = path.resolve(opts.dir);
  const breastFile = path.join(dir, opts.breastTable ?? "breast-level_annotations.csv");
  const findingFile = path.join(dir, opts.findingTable ?? "finding_annotations.csv");
  const imagesDir = path.join(dir, opts.imagesDir ?? "images");
  const ext = opts.extension ?? ".dicom";
  const breast = await loadTable(breastFile, VINDR_BREAST_COLUMNS);
  const tables = [{ file: breastFile, loader: breast.loader, rows: breast.rows.length }];
  const skipped: SkippedRow[] = [];
  const lesionsByImage = new Map<string, LesionBox[]>();
  if (fileExists(findingFile)) {
    const findings = await loadTable(findingFile, VINDR_FINDING_COLUMNS);
    tables.push({ file: findingFile, loader: findings.loader, rows: findings.rows.length });
    findings.rows.forEach((r, i) => {
      const cats = parseCategoryList(r.finding_categories ?? "");
      const coords = [r.xmin, r.ymin, r.xmax, r.ymax].map((s) => num(s ?? ""));
      if (coords.every((c) => c === null)) return; // "No Finding" rows carry no box
      if (coords.some((c) => c === null) || !r.image_id) {
        skipped.push({ file: findingFile, row: i + 2, reason: "finding row with an incomplete box or no image_id" });
        return;
      }
      const [x0, y0, x1, y1] = coords as number[];
      if (!(x1 > x0 && y1 > y0)) {
        skipped.push({ file: findingFile, row: i + 2, reason: `empty box (${x0}, ${y0}, ${x1}, ${y1})` });
        return;
      }
      const box: LesionBox = { kind: lesionKind(cats), birads: parseBirads(r.finding_birads ?? ""), x0, y0, x1, y1 };
      const list = lesionsByImage.get(r.image_id);
      if (list) list.push(box);
      else lesionsByImage.set(r.image_id, [box]);
    });
  }
  const records: ImageRecord[] = [];
  const seen = new Set<string>();
  breast.rows.forEach((r, i) => {
    const row = i + 2;
    const studyId = (r.study_id ?? "").trim();
    const imageId = (r.image_id ?? "").trim();
    const lat = (r.laterality ?? "").trim().toUpperCase();
    const view = (r.view_position ?? "").trim().toUpperCase();
    if (!studyId || !imageId) return skipped.push({ file: breastFile, row, reason: "empty study_id or image_id" });
    if (!isLaterality(lat)) return skipped.push({ file: breastFile, row, reason: `laterality "${r.laterality}" is not L or R` });
    if (!view) return skipped.push({ file: breastFile, row, reason: "empty view_position" });
    if (seen.has(imageId)) return skipped.push({ file: breastFile, row, reason: `image_id ${imageId} listed twice` });
    // A label or split that cannot be read is a bad row, reported (not an image silently left out).
    const biradsText = (r.breast_birads ?? "").trim();
    if (biradsText === "") return skipped.push({ file: breastFile, row, reason: "empty breast_birads" });
    if (parseBirads(biradsText) === null) return skipped.push({ file: breastFile, row, reason: `breast_birads "${biradsText}" is not BI-RADS 0-6` });
    const splitText = (r.split ?? "").trim();
    if (splitText !== "" && parseSplitName(splitText) === null) return skipped.push({ file: breastFile, row, reason: `split "${splitText}" is not a known split name (training/train, validation/val, test)` });
    const filePath = path.join(imagesDir, studyId, `${imageId}${ext}`);
    if (opts.checkFiles !== false && !fileExists(filePath)) return skipped.push({ file: breastFile, row, reason: `missing image file ${filePath}` });
    seen.add(imageId);
    const birads = parseBirads(r.breast_birads ?? "");
    records.push({
      patientId: studyId,
      studyId,
      imageId,
      breastId: `${studyId}_${lat}`,
      laterality: lat,
      view,
      filePath,
      birads,
      label: null,
      density: parseDensity(r.breast_density ?? ""),
      split: parseSplitName(r.split),
      lesions: lesionsByImage.get(imageId) ?? [],
    });
  });
  applyBreastLevelLabels(records, "birads");
  return { records, skipped, tables };
}
