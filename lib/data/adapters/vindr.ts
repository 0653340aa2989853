import * as path from "node:path";
import type { ImageRecord, LesionBox } from "../../types";
import { parseBirads, parseDensity } from "../labels";
import { parseSplitName } from "../splits";
import { loadTable } from "./table";
import { type AdapterResult, type SkippedRow, applyBreastLevelLabels, cell, forEachRow, fileExists, imageRecord, isLaterality } from "./common";

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
  const records: ImageRecord[] = [];
  const seen = new Set<string>();
  const lesionsByImage = new Map<string, LesionBox[]>();
  if (fileExists(findingFile)) {
    const findings = await loadTable(findingFile, VINDR_FINDING_COLUMNS);
    tables.push({ file: findingFile, loader: findings.loader, rows: findings.rows.length });
    forEachRow(findings.rows, findingFile, skipped, (r) => {
      const cats = parseCategoryList(r.finding_categories ?? "");
      const coords = [r.xmin, r.ymin, r.xmax, r.ymax].map((s) => num(s ?? ""));
      if (coords.every((c) => c === null)) return; // "No Finding" rows carry no box
      if (coords.some((c) => c === null) || !r.image_id) return "finding row with an incomplete box or no image_id";
      const [x0, y0, x1, y1] = coords as number[];
      if (!(x1 > x0 && y1 > y0)) return `empty box (${x0}, ${y0}, ${x1}, ${y1})`;
      const box: LesionBox = { kind: lesionKind(cats), birads: parseBirads(r.finding_birads ?? ""), x0, y0, x1, y1 };
      const list = lesionsByImage.get(r.image_id);
      if (list) list.push(box);
      else lesionsByImage.set(r.image_id, [box]);
    });
  }
  forEachRow(breast.rows, breastFile, skipped, (r) => {
    const studyId = cell(r, "study_id");
    const imageId = cell(r, "image_id");
    const lat = cell(r, "laterality").toUpperCase();
    const view = cell(r, "view_position").toUpperCase();
    if (!studyId || !imageId) return "empty study_id or image_id";
    if (!isLaterality(lat)) return `laterality "${r.laterality}" is not L or R`;
    if (!view) return "empty view_position";
    if (seen.has(imageId)) return `image_id ${imageId} listed twice`;
    // A label or split that cannot be read is a bad row, reported (not an image silently left out).
    const biradsText = cell(r, "breast_birads");
    if (biradsText === "") return "empty breast_birads";
    if (parseBirads(biradsText) === null) return `breast_birads "${biradsText}" is not BI-RADS 0-6`;
    const splitText = cell(r, "split");
    if (splitText !== "" && parseSplitName(splitText) === null) return `split "${splitText}" is not a known split name (training/train, validation/val, test)`;
    const filePath = path.join(imagesDir, studyId, `${imageId}${ext}`);
    if (opts.checkFiles !== false && !fileExists(filePath)) return `missing image file ${filePath}`;
    seen.add(imageId);
    const birads = parseBirads(r.breast_birads ?? "");
    records.push(
      imageRecord({ patientId: studyId, studyId, imageId, laterality: lat, view, filePath, birads, density: parseDensity(r.breast_density ?? ""), split: parseSplitName(r.split), lesions: lesionsByImage.get(imageId) ?? [] }),
    );
  });
  applyBreastLevelLabels(records, "birads");
  return { records, skipped, tables };
}
