import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageRecord } from "../../types";
import { embedAssessmentToBirads, parseDensity } from "../labels";
import { loadTable } from "./table";
import { type AdapterResult, type SkippedRow, applyBreastLevelLabels, cell, forEachRow, fileExists, imageRecord, isLaterality } from "./common";

/**
 * EMBED Open Data: a clinical table (one row per finding/assessment: empi_anon = patient,
 * acc_anon = exam, side L / R / B, asses = BI-RADS letter A=0 N=1 B=2 P=3 S=4 M=5 K=6,
 * tissueden 1..4, path_severity, ...) joined on (empi_anon, acc_anon) with a metadata table (one
 * row per image: anon_dicom_path, ImageLateralityFinal, ViewPosition, FinalImageType 2D / cview,
 * ...). A clinical row with side B applies to both breasts (so does a blank side when the
 * assessment is A, N or B, which localise nothing); a breast's BI-RADS is the highest of its rows.
 * Only FinalImageType 2D images are kept.
 */

export const EMBED_CLINICAL_COLUMNS = ["empi_anon", "acc_anon", "side", "asses"] as const;
export const EMBED_METADATA_COLUMNS = ["empi_anon", "acc_anon", "anon_dicom_path", "ImageLateralityFinal", "ViewPosition", "FinalImageType"] as const;

export interface EmbedOptions {
  dir: string;
  checkFiles?: boolean;
  /** Default: the one *.csv in dir whose name contains "clinical". */
  clinicalTable?: string;
  /** Default: the one *.csv in dir whose name contains "metadata". */
  metadataTable?: string;
  /** Strip this prefix from anon_dicom_path before resolving it against dir (EMBED paths are absolute paths on the providers' server). */
  stripPathPrefix?: string;
}

function findTable(dir: string, word: string): string {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new Error(`${dir}: cannot list EMBED folder (${(e as Error).message})`);
  }
  const hits = names.filter((n) => n.toLowerCase().endsWith(".csv") && n.toLowerCase().includes(word));
  if (hits.length !== 1) {
    throw new Error(`${dir}: expected one *${word}*.csv table, found ${hits.length ? hits.join(", ") : "none"} (name it with the ${word}Table option)`);
  }
  return path.join(dir, hits[0]);
}

export async function loadEmbed(opts: EmbedOptions): Promise<AdapterResult> {
  const dir = path.resolve(opts.dir);
  const clinicalFile = opts.clinicalTable ? path.resolve(dir, opts.clinicalTable) : findTable(dir, "clinical");
  const metadataFile = opts.metadataTable ? path.resolve(dir, opts.metadataTable) : findTable(dir, "metadata");
  const clinical = await loadTable(clinicalFile, EMBED_CLINICAL_COLUMNS);
  const meta = await loadTable(metadataFile, EMBED_METADATA_COLUMNS);
  const skipped: SkippedRow[] = [];
  // (empi, acc, side) -> highest BI-RADS; density per exam
  const assess = new Map<string, number>();
  const density = new Map<string, string>();
  forEachRow(clinical.rows, clinicalFile, skipped, (r) => {
    const exam = `${cell(r, "empi_anon")}|${cell(r, "acc_anon")}`;
    const side = cell(r, "side").toUpperCase();
    const b = embedAssessmentToBirads(r.asses);
    const d = parseDensity(r.tissueden ?? "");
    if (d) density.set(exam, d);
    if (b === null) return `assessment "${r.asses}" is not one of A N B P S M K`;
    // A blank side is read as the whole exam when the assessment localises nothing (A, N, B:
    // BI-RADS 0-2); a blank side with P/S/M/K cannot be placed on a breast and is skipped.
    const blankWhole = side === "" && b <= 2;
    const sides = side === "B" || blankWhole ? ["L", "R"] : side === "L" || side === "R" ? [side] : [];
    if (sides.length === 0) return side === "" ? `no side for assessment "${r.asses}"` : `side "${r.side}" is not L, R or B`;
    for (const s of sides) {
      const key = `${exam}|${s}`;
      assess.set(key, Math.max(assess.get(key) ?? -1, b));
    }
  });
  const records: ImageRecord[] = [];
  const seen = new Set<string>();
  forEachRow(meta.rows, metadataFile, skipped, (r) => {
    const type = cell(r, "FinalImageType");
    if (type.toUpperCase() !== "2D") return; // C-view and others are not used (not a skip)
    const empi = cell(r, "empi_anon");
    const acc = cell(r, "acc_anon");
    const lat = cell(r, "ImageLateralityFinal").toUpperCase();
    let p = cell(r, "anon_dicom_path");
    if (!empi || !acc || !p) return "empty empi_anon, acc_anon or anon_dicom_path";
    if (!isLaterality(lat)) return `ImageLateralityFinal "${r.ImageLateralityFinal}" is not L or R`;
    const birads = assess.get(`${empi}|${acc}|${lat}`);
    if (birads === undefined) return `no clinical assessment for exam ${acc} side ${lat}`;
    if (opts.stripPathPrefix && p.startsWith(opts.stripPathPrefix)) p = p.slice(opts.stripPathPrefix.length).replace(/^[/\\]+/, "");
    const filePath = path.isAbsolute(p) ? p : path.join(dir, p);
    if (seen.has(filePath)) return `image ${filePath} listed twice`;
    if (opts.checkFiles !== false && !fileExists(filePath)) return `missing image file ${filePath}`;
    seen.add(filePath);
    const imageId = path.basename(filePath).replace(/\.(dcm|dicom)$/i, "");
    records.push(imageRecord({ patientId: empi, studyId: acc, imageId, laterality: lat, view: cell(r, "ViewPosition").toUpperCase(), filePath, birads, density: density.get(`${empi}|${acc}`) ?? null }));
  });
  applyBreastLevelLabels(records, "birads");
  return {
    records,
    skipped,
    tables: [
      { file: clinicalFile, loader: clinical.loader, rows: clinical.rows.length },
      { file: metadataFile, loader: meta.loader, rows: meta.rows.length },
    ],
  };
}
