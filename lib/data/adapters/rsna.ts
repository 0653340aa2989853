import * as path from "node:path";
import type { ImageRecord } from "../../types";
import { parseBirads, parseCancer, parseDensity } from "../labels";
import { loadTable } from "./table";
import { type AdapterResult, type SkippedRow, applyBreastLevelLabels, cell, forEachRow, fileExists, imageRecord, isLaterality } from "./common";

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
  forEachRow(t.rows, file, skipped, (r) => {
    const patientId = cell(r, "patient_id");
    const imageId = cell(r, "image_id");
    const lat = cell(r, "laterality").toUpperCase();
    if (!patientId || !imageId) return "empty patient_id or image_id";
    if (!isLaterality(lat)) return `laterality "${r.laterality}" is not L or R`;
    const label = parseCancer(r.cancer);
    if (label === null) return `cancer "${r.cancer}" is not 0 or 1`;
    if (seen.has(`${patientId}/${imageId}`)) return `image ${imageId} listed twice`;
    const filePath = path.join(imagesDir, patientId, `${imageId}${ext}`);
    if (opts.checkFiles !== false && !fileExists(filePath)) return `missing image file ${filePath}`;
    seen.add(`${patientId}/${imageId}`);
    records.push(
      imageRecord({ patientId, studyId: patientId, imageId, laterality: lat, view: cell(r, "view").toUpperCase(), filePath, birads: parseBirads(r.BIRADS ?? ""), label, density: parseDensity(r.density ?? "") }),
    );
  });
  applyBreastLevelLabels(records, "given");
  return { records, skipped, tables: [{ file, loader: t.loader, rows: t.rows.length }] };
}
