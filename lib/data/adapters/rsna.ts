import * as path from "node:path";
import type { ImageRecord } from "../../types";
import { parseBirads, parseCancer, parseDensity } from "../labels";
import { loadTable } from "./table";
import { type AdapterResult, type SkippedRow, applyBreastLevelLabels, fileExists, isLaterality } from "./common";

/**
 * RSNA Screening Mammography Breast Cancer Detection:
 *   train.csv: site_id, patient_id, image_id, laterality, view, age, cancer, biopsy, invasive,
 *     BIRADS, implant, density, machine_id, difficult_negative_case
 *   train_images/<patient_id>/<image_id>.dcm
 * One exam per patient: the study is the patient, the bag is patient + laterality. The label is
 * `cancer` (1 positive, 0 negative); BIRADS (0/1/2 or empty) is kept for stratification.
 */

export const RSNA_COLUMNS = ["patient_id", "image_id", "laterality", "view", "cancer"] as const;

export interface RsnaOptions {
  dir: string;
  checkFiles?: boolean;
  table?: string;
  imagesDir?: string;
  extension?: string;
}

export async function loadRsna(opts: RsnaOptions): Promise<AdapterResult> {
  const dir = path.resolve(opts.dir);
  const file = path.join(dir, opts.table ?? "train.csv");
  const imagesDir = path.join(dir, opts.imagesDir ?? "train_images");
  const ext = opts.extension ?? ".dcm";
  const t = await loadTable(file, RSNA_COLUMNS);
  const skipped: SkippedRow[] = [];
  const records: ImageRecord[] = [];
  const seen = new Set<string>();
  t.rows.forEach((r, i) => {
    const row = i + 2;
    const patientId = (r.patient_id ?? "").trim();
    const imageId = (r.image_id ?? "").trim();
    const lat = (r.laterality ?? "").trim().toUpperCase();
    if (!patientId || !imageId) return skipped.push({ file, row, reason: "empty patient_id or image_id" });
    if (!isLaterality(lat)) return skipped.push({ file, row, reason: `laterality "${r.laterality}" is not L or R` });
    const label = parseCancer(r.cancer);
    if (label === null) return skipped.push({ file, row, reason: `cancer "${r.cancer}" is not 0 or 1` });
    if (seen.has(`${patientId}/${imageId}`)) return skipped.push({ file, row, reason: `image ${imageId} listed twice` });
    const filePath = path.join(imagesDir, patientId, `${imageId}${ext}`);
    if (opts.checkFiles !== false && !fileExists(filePath)) return skipped.push({ file, row, reason: `missing image file ${filePath}` });
    seen.add(`${patientId}/${imageId}`);
    records.push({
      patientId,
      studyId: patientId,
      imageId,
      breastId: `${patientId}_${lat}`,
      laterality: lat,
      view: (r.view ?? "").trim().toUpperCase(),
      filePath,
      birads: parseBirads(r.BIRADS ?? ""),
      label,
      density: parseDensity(r.density ?? ""),
      split: null,
      lesions: [],
    });
  });
  applyBreastLevelLabels(records, "given");
  return { records, skipped, tables: [{ file, loader: t.loader, rows: t.rows.length }] };
}
