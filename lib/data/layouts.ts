import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageRecord } from "../types";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { recordsTable, toCsv } from "../util/table";
import { EMBED_ASSESSMENT } from "./labels";
import { groupBy } from "./adapters/common";
import { loadVindr } from "./adapters/vindr";

/**
 * A dataset in the VinDr layout (the synthetic set, or VinDr itself) rewritten in the folder
 * layout and table columns of each real dataset's download, so that every adapter can be tried
 * end to end without the real data:
 *
 *   vindr: breast-level_annotations.csv, finding_annotations.csv (copied as they are),
 *          images/<study_id>/<image_id>.dicom
 *   rsna:  train.csv (site_id, patient_id, image_id, laterality, view, age, cancer, biopsy,
 *          invasive, BIRADS, implant, density, machine_id, difficult_negative_case; BIRADS and
 *          age written as floats, "1.0", as pandas writes columns with blanks),
 *          train_images/<patient_id>/<image_id>.dcm
 *   embed: EMBED_OpenData_clinical.csv (one row per exam side: empi_anon, acc_anon, side L/R,
 *          or B where both breasts have the same assessment, asses letter, tissueden 1.0-4.0),
 *          EMBED_OpenData_metadata.csv (one row per image, FinalImageType 2D, plus one C-view row
 *          per CC image that the adapter leaves out), images/<empi_anon>/<acc_anon>/<image>.dcm
 *          (anon_dicom_path relative to the folder)
 *
 * Images are hard links to the source's DICOMs (copies where a link is impossible, e.g. across
 * file systems). RSNA and EMBED ids are numeric as in the real tables (RSNA image ids up to
 * 2^32, EMBED accession numbers of 16 digits: both beyond what int32 / float64 readers keep),
 * derived from the source ids; `synthetic-layout.json` maps every source image to its new ids.
 *
 * What the layouts cannot carry (LAYOUT_DIFFERENCES): RSNA has no split column, no lesion boxes
 * and no "left out" label (benign BI-RADS 2/3 breasts are cancer 0, as in the real table); EMBED
 * has no split column and no lesion boxes. So on those layouts the tile stage splits 70/10/20
 * afresh (by the new patient ids) and the detection metrics of notebook 04 have no boxes.
 */

export type DatasetLayout = "vindr" | "rsna" | "embed";
export const DATASET_LAYOUTS: readonly DatasetLayout[] = ["vindr", "rsna", "embed"];

/** What each layout cannot carry from the source (also written to synthetic-layout.json). */
export const LAYOUT_DIFFERENCES: Readonly<Record<DatasetLayout, readonly string[]>> = {
  vindr: ["ground_truth/ and synthetic.json are not part of a VinDr download and are left out"],
  rsna: [
    "no split column: the tile stage splits 70/10/20 by patient afresh",
    "no lesion boxes (no mass / calcification tasks, no detection metrics)",
    "label = cancer: BI-RADS 4-6 -> 1, every other breast 0 (BI-RADS 2/3 breasts, left out under the BI-RADS label, are negatives here)",
    "BIRADS column as RSNA's screening read: 1.0 negative, 2.0 benign (source 2/3), 0.0 recalled (source 4-6)",
    "density letters only; patient and image ids are new numbers (synthetic-layout.json maps them)",
  ],
  embed: [
    "no split column: the tile stage splits 70/10/20 by patient afresh",
    "no lesion boxes (no mass / calcification tasks, no detection metrics)",
    "patient (empi_anon) and exam (acc_anon) ids are new numbers (synthetic-layout.json maps them)",
  ],
};

export interface LayoutOptions {
  /** Source folder in the VinDr layout (e.g. a generated synthetic set). */
  from: string;
  layout: DatasetLayout;
  /** Output folder: new, empty, or written by an earlier call (its synthetic-layout.json). */
  out: string;
  /** Copy the DICOMs instead of hard-linking them. */
  copy?: boolean;
}

export interface LayoutImage {
  /** The source's ids. */
  source: { patientId: string; studyId: string; imageId: string; breastId: string };
  /** The ids the layout's adapter reads back. */
  patientId: string;
  studyId: string;
  imageId: string;
  breastId: string;
  /** Path of the image relative to the output folder. */
  file: string;
}

export interface LayoutSummary {
  layout: DatasetLayout;
  from: string;
  out: string;
  patients: number;
  breasts: number;
  images: number;
  /** Tables written, relative to out. */
  tables: string[];
  linked: number;
  copied: number;
  /** Source rows the VinDr adapter could not use (they are not written). */
  sourceSkipped: number;
  differences: readonly string[];
  imageMap: LayoutImage[];
}

export const LAYOUT_INFO_FILE = "synthetic-layout.json";
export const EMBED_CLINICAL_FILE = "EMBED_OpenData_clinical.csv";
export const EMBED_METADATA_FILE = "EMBED_OpenData_metadata.csv";

const RSNA_TABLE_COLUMNS = ["site_id", "patient_id", "image_id", "laterality", "view", "age", "cancer", "biopsy", "invasive", "BIRADS", "implant", "density", "machine_id", "difficult_negative_case"] as const;
const EMBED_CLINICAL_TABLE_COLUMNS = ["empi_anon", "acc_anon", "study_date_anon", "desc", "numfind", "side", "asses", "tissueden", "path_severity"] as const;
const EMBED_METADATA_TABLE_COLUMNS = ["empi_anon", "acc_anon", "anon_dicom_path", "ImageLateralityFinal", "ViewPosition", "FinalImageType"] as const;
const EMBED_LETTER: Record<number, string> = Object.fromEntries(Object.entries(EMBED_ASSESSMENT).map(([k, v]) => [v, k]));

/**
 * Unique decimal ids in [lo, hi) derived from a source id (FNV-1a over its text, then linear
 * probing): deterministic for the same source ids in the same order, never two equal.
 */
class NumericIds {
  private readonly byKey = new Map<string, string>();
  private readonly taken = new Set<bigint>();
  constructor(
    private readonly lo: bigint,
    private readonly hi: bigint,
  ) {}
  get(key: string): string {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const span = this.hi - this.lo;
    if (BigInt(this.taken.size) >= span) throw new Error(`layout: more than ${span} ids needed in [${this.lo}, ${this.hi})`);
    let h = 0xcbf29ce484222325n;
    for (let i = 0; i < key.length; i++) h = ((h ^ BigInt(key.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
    let v = this.lo + (h % span);
    while (this.taken.has(v)) v = v + 1n >= this.hi ? this.lo : v + 1n;
    this.taken.add(v);
    const id = v.toString();
    this.byKey.set(key, id);
    return id;
  }
}

/** Hard-link src to dst (replacing dst); copy where linking fails or copies are asked for. */
function linkOrCopy(src: string, dst: string, copy: boolean): "linked" | "copied" {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.rmSync(dst, { force: true });
  if (!copy) {
    try {
      fs.linkSync(src, dst);
      return "linked";
    } catch {
      // EXDEV (another file system), EPERM (no hard links): fall back to a copy
    }
  }
  fs.copyFileSync(src, dst);
  return "copied";
}

function checkOut(from: string, out: string): void {
  if (path.resolve(out) === path.resolve(from)) throw new Error(`layout: --out ${out} is the source folder`);
  if (!fs.existsSync(out)) return;
  const names = fs.readdirSync(out);
  if (names.length > 0 && !names.includes(LAYOUT_INFO_FILE)) {
    throw new Error(`${out}: folder is not empty and holds no ${LAYOUT_INFO_FILE}; use a new folder`);
  }
}

/** The source's breasts in table order, each with its images. */
function breastsOf(records: ImageRecord[]): ImageRecord[][] {
  return [...groupBy(records, (r) => r.breastId).values()];
}

/** `n` as pandas writes a float column ("61.0"); "" for null. */
function floatText(n: number | null): string {
  return n === null ? "" : Number.isInteger(n) ? `${n}.0` : String(n);
}

/** A small deterministic number from an id (ages, site ids). */
function idHash(key: string, mod: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  return h % mod;
}

interface Written {
  tables: string[];
  images: LayoutImage[];
}

function writeVindr(from: string, out: string, records: ImageRecord[]): Written {
  const tables = ["breast-level_annotations.csv", "finding_annotations.csv"].filter((t) => fs.existsSync(path.join(from, t)));
  for (const t of tables) writeFileAtomic(path.join(out, t), fs.readFileSync(path.join(from, t)));
  const images = records.map((r) => ({
    source: { patientId: r.patientId, studyId: r.studyId, imageId: r.imageId, breastId: r.breastId },
    patientId: r.patientId,
    studyId: r.studyId,
    imageId: r.imageId,
    breastId: r.breastId,
    file: path.join("images", r.studyId, `${r.imageId}.dicom`),
  }));
  return { tables, images };
}

function writeRsna(out: string, records: ImageRecord[]): Written {
  const patientIds = new NumericIds(10000n, 65536n);
  const imageIds = new NumericIds(1000000000n, 4294967296n);
  const rows: Record<string, unknown>[] = [];
  const images: LayoutImage[] = [];
  for (const breast of breastsOf(records)) {
    const b = breast[0].birads;
    const cancer = b !== null && b >= 4 ? 1 : 0;
    // RSNA's BIRADS is the screening read: 0 = recalled, 1 = negative, 2 = benign
    const screening = b === null ? null : b >= 4 ? 0 : b >= 2 ? 2 : b;
    for (const r of breast) {
      const patientId = patientIds.get(r.patientId);
      const imageId = imageIds.get(r.imageId);
      rows.push({
        site_id: 1 + idHash(r.patientId, 2),
        patient_id: patientId,
        image_id: imageId,
        laterality: r.laterality,
        view: r.view,
        age: floatText(40 + idHash(r.patientId, 35)),
        cancer,
        biopsy: cancer,
        invasive: cancer,
        BIRADS: floatText(screening),
        implant: 0,
        density: r.density ?? "",
        machine_id: 49,
        difficult_negative_case: cancer === 0 && b !== null && b >= 2 ? "True" : "False",
      });
      const file = path.join("train_images", patientId, `${imageId}.dcm`);
      images.push({ source: { patientId: r.patientId, studyId: r.studyId, imageId: r.imageId, breastId: r.breastId }, patientId, studyId: patientId, imageId, breastId: `${patientId}_${r.laterality}`, file });
    }
  }
  writeFileAtomic(path.join(out, "train.csv"), toCsv(recordsTable(RSNA_TABLE_COLUMNS, rows)));
  return { tables: ["train.csv"], images };
}

function writeEmbed(out: string, records: ImageRecord[]): Written {
  const empiIds = new NumericIds(10000000n, 100000000n);
  const accIds = new NumericIds(1000000000000000n, 10000000000000000n);
  const clinical: Record<string, unknown>[] = [];
  const metadata: Record<string, unknown>[] = [];
  const images: LayoutImage[] = [];
  // one exam per (patient, study); its breasts in table order
  for (const breasts of groupBy(breastsOf(records), (b) => `${b[0].patientId}|${b[0].studyId}`).values()) {
    const first = breasts[0][0];
    const empi = empiIds.get(first.patientId);
    const acc = accIds.get(`${first.patientId}|${first.studyId}`);
    const density = first.density === null ? null : "ABCD".indexOf(first.density) + 1;
    const exam = { empi_anon: empi, acc_anon: acc, study_date_anon: "", desc: "MG Screen Bilat w/CAD", tissueden: density ? floatText(density) : "", path_severity: "" };
    const assessed = breasts.filter((b) => b[0].birads !== null);
    const letters = assessed.map((b) => EMBED_LETTER[b[0].birads as number]);
    if (assessed.length === 2 && letters[0] === letters[1]) {
      clinical.push({ ...exam, numfind: 1, side: "B", asses: letters[0] });
    } else {
      assessed.forEach((b, k) => clinical.push({ ...exam, numfind: k + 1, side: b[0].laterality, asses: letters[k] }));
    }
    for (const breast of breasts) {
      for (const r of breast) {
        const file = path.join("images", empi, acc, `${r.imageId}.dcm`);
        const row = { empi_anon: empi, acc_anon: acc, ImageLateralityFinal: r.laterality, ViewPosition: r.view };
        metadata.push({ ...row, anon_dicom_path: file, FinalImageType: "2D" });
        // EMBED lists the synthesised 2D (C-view) of a tomosynthesis exam too; the adapter leaves it out
        if (r.view === "CC") metadata.push({ ...row, anon_dicom_path: path.join("images", empi, acc, `${r.imageId}.cview.dcm`), FinalImageType: "cview" });
        images.push({ source: { patientId: r.patientId, studyId: r.studyId, imageId: r.imageId, breastId: r.breastId }, patientId: empi, studyId: acc, imageId: r.imageId, breastId: `${acc}_${r.laterality}`, file });
      }
    }
  }
  writeFileAtomic(path.join(out, EMBED_CLINICAL_FILE), toCsv(recordsTable(EMBED_CLINICAL_TABLE_COLUMNS, clinical)));
  writeFileAtomic(path.join(out, EMBED_METADATA_FILE), toCsv(recordsTable(EMBED_METADATA_TABLE_COLUMNS, metadata)));
  return { tables: [EMBED_CLINICAL_FILE, EMBED_METADATA_FILE], images };
}

/**
 * Write the dataset at `from` (VinDr layout, e.g. `milpf synth`'s output) in `layout` at `out`.
 * The layout's adapter then reads the same images, breasts and labels back, except where the
 * layout cannot carry them (LAYOUT_DIFFERENCES). Re-running over an earlier output rewrites it.
 */
export async function writeSyntheticLayout(opts: LayoutOptions): Promise<LayoutSummary> {
  if (!(DATASET_LAYOUTS as readonly string[]).includes(opts.layout)) {
    throw new Error(`layout: "${opts.layout}" is not one of ${DATASET_LAYOUTS.join(", ")}`);
  }
  const from = path.resolve(opts.from);
  const out = path.resolve(opts.out);
  checkOut(from, out);
  const src = await loadVindr({ dir: from });
  if (src.records.length === 0) throw new Error(`${from}: no images to write (${src.skipped.length} row(s) skipped)`);
  fs.mkdirSync(out, { recursive: true });
  fs.rmSync(path.join(out, LAYOUT_INFO_FILE), { force: true });
  const written = opts.layout === "vindr" ? writeVindr(from, out, src.records) : opts.layout === "rsna" ? writeRsna(out, src.records) : writeEmbed(out, src.records);
  let linked = 0;
  let copied = 0;
  const sourceFile = new Map(src.records.map((r) => [r.imageId, r.filePath]));
  for (const m of written.images) {
    if (linkOrCopy(sourceFile.get(m.source.imageId) as string, path.join(out, m.file), opts.copy ?? false) === "linked") linked++;
    else copied++;
  }
  const summary: LayoutSummary = {
    layout: opts.layout,
    from,
    out,
    patients: new Set(written.images.map((m) => m.patientId)).size,
    breasts: new Set(written.images.map((m) => m.breastId)).size,
    images: written.images.length,
    tables: written.tables,
    linked,
    copied,
    sourceSkipped: src.skipped.length,
    differences: LAYOUT_DIFFERENCES[opts.layout],
    imageMap: written.images,
  };
  // written last: its presence marks a complete folder
  const { linked: _l, copied: _c, ...info } = summary;
  writeJsonAtomic(path.join(out, LAYOUT_INFO_FILE), info);
  return summary;
}
