import * as fs from "node:fs";
import type { ImageRecord, Split } from "../types";
import { writeFileAtomic } from "../util/atomic";
import { Rng } from "../util/rng";
import { parseCsv, recordsTable, toCsv } from "../util/table";
import { groupBy } from "./adapters/common";

/**
 * Train / val / test splits: grouped by patient (no patient in two splits), stratified (by the
 * patient's highest BI-RADS value by default), reproducible from a seed, saved as CSV
 * (patient_id, split). A split the dataset already gives (e.g. VinDr's training/test column,
 * carried in ImageRecord.split) is respected: its test patients stay in test and val is carved
 * out of its training patients.
 */

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

/** The split shares offered by name: the paper's 70/10/20 and the authors' code's 70/15/15. */
export const SPLIT_FRACTIONS = ["70/10/20", "70/15/15"] as const;

/** "70/15/15" -> { train: 0.7, val: 0.15, test: 0.15 }; one error naming the text. */
export function parseSplitFractions(text: string): SplitFractions {
  const parts = text.split("/").map((x) => Number(x));
  if (parts.length !== 3 || !parts.every((x) => Number.isFinite(x) && x >= 0) || parts[0] + parts[1] + parts[2] !== 100)
    throw new Error(`split fractions ${JSON.stringify(text)}: expected train/val/test percentages summing to 100, e.g. 70/10/20`);
  return { train: parts[0] / 100, val: parts[1] / 100, test: parts[2] / 100 };
}

export interface SplitOptions {
  seed: number;
  /** Default 0.7 / 0.1 / 0.2 (the paper). */
  fractions?: SplitFractions;
  /** Stratum of a patient: its highest BI-RADS ("birads", default), its highest label, or none. */
  stratifyBy?: "birads" | "label" | "none";
  /** Keep a split given in the records (default true). */
  respectGiven?: boolean;
}

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.1, test: 0.2 };

interface PatientInfo {
  patientId: string;
  stratum: string;
  given: Split | null;
}

/** The stratum label of one patient's records. */
export function patientStratum(records: readonly ImageRecord[], by: "birads" | "label" | "none"): string {
  if (by === "none") return "all";
  let best: number | null = null;
  for (const r of records) {
    const v = by === "birads" ? r.birads : r.label;
    if (v !== null && (best === null || v > best)) best = v;
  }
  // Where BI-RADS is absent (e.g. RSNA) fall back to the label.
  if (best === null && by === "birads") {
    const l = patientStratum(records, "label");
    return l === "na" ? "na" : `label ${l}`;
  }
  return best === null ? "na" : String(best);
}

/**
 * Integer counts for `n` items split by `fractions` (largest remainder): they sum to n and each
 * differs from fraction x n by less than 1.
 */
export function allocateCounts(n: number, fractions: readonly number[]): number[] {
  const total = fractions.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error("split fractions must sum to a positive number");
  const exact = fractions.map((f) => (n * f) / total);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length].i]++;
  return counts;
}

function groupPatients(records: readonly ImageRecord[], by: "birads" | "label" | "none", respectGiven: boolean): PatientInfo[] {
  const out: PatientInfo[] = [];
  for (const [patientId, list] of groupBy(records, (r) => r.patientId)) {
    let given: Split | null = null;
    if (respectGiven) {
      const splits = new Set(list.map((r) => r.split).filter((s): s is Split => s !== null));
      // a patient with records in several given splits is kept in the most held-out one
      given = splits.has("test") ? "test" : splits.has("val") ? "val" : splits.has("train") ? "train" : null;
    }
    out.push({ patientId, stratum: patientStratum(list, by), given });
  }
  return out.sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
}

/** Assign patients of each stratum to the parts in proportion, after a seeded shuffle. */
function assignStrata(patients: PatientInfo[], names: Split[], fractions: number[], rng: Rng, out: Map<string, Split>): void {
  const strata = new Map<string, string[]>();
  for (const p of patients) {
    const list = strata.get(p.stratum);
    if (list) list.push(p.patientId);
    else strata.set(p.stratum, [p.patientId]);
  }
  for (const key of [...strata.keys()].sort()) {
    const ids = rng.shuffle(strata.get(key) as string[]);
    const counts = allocateCounts(ids.length, fractions);
    let k = 0;
    names.forEach((name, j) => {
      for (let c = 0; c < counts[j]; c++) out.set(ids[k++], name);
    });
  }
}

/** patientId -> split. */
export function makeSplits(records: readonly ImageRecord[], opts: SplitOptions): Map<string, Split> {
  const f = opts.fractions ?? DEFAULT_FRACTIONS;
  for (const [k, v] of Object.entries(f)) {
    if (!(v >= 0)) throw new Error(`makeSplits: fraction ${k} = ${v} is not a non-negative number`);
  }
  const rng = Rng.derive(opts.seed, "splits");
  const patients = groupPatients(records, opts.stratifyBy ?? "birads", opts.respectGiven ?? true);
  const out = new Map<string, Split>();
  const free = patients.filter((p) => p.given === null);
  const givenTrain = patients.filter((p) => p.given === "train");
  for (const p of patients) if (p.given === "test" || p.given === "val") out.set(p.patientId, p.given);
  if (givenTrain.length) assignStrata(givenTrain, ["train", "val"], [f.train, f.val], rng, out);
  if (free.length) assignStrata(free, ["train", "val", "test"], [f.train, f.val, f.test], rng, out);
  return out;
}

/** Copies of the records with `split` set from the map (records of unknown patients get null). */
export function applySplits(records: readonly ImageRecord[], splits: ReadonlyMap<string, Split>): ImageRecord[] {
  return records.map((r) => ({ ...r, split: splits.get(r.patientId) ?? null }));
}

/** Write patient_id,split CSV (sorted by patient id), atomically. */
export function writeSplits(file: string, splits: ReadonlyMap<string, Split>): void {
  const rows = [...splits.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([patient_id, split]) => ({ patient_id, split }));
  writeFileAtomic(file, toCsv(recordsTable(["patient_id", "split"], rows)));
}

const SPLIT_NAMES: Record<string, Split> = { train: "train", training: "train", val: "val", valid: "val", validation: "val", test: "test" };

/** Read a split CSV written by writeSplits. */
export function readSplits(file: string): Map<string, Split> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read split file (${(e as Error).message})`);
  }
  const { columns, rows } = parseCsv(text, file);
  if (!columns.includes("patient_id") || !columns.includes("split")) {
    throw new Error(`${file}: split file needs columns patient_id and split, found ${columns.join(", ") || "none"}`);
  }
  const out = new Map<string, Split>();
  rows.forEach((r, i) => {
    const s = SPLIT_NAMES[r.split.trim().toLowerCase()];
    if (!s) throw new Error(`${file}: row ${i + 2}: unknown split "${r.split}" (expected train, val or test)`);
    out.set(r.patient_id, s);
  });
  return out;
}

/** Normalise a dataset's own split text ("training", "test", ...) or null. */
export function parseSplitName(text: string | null | undefined): Split | null {
  if (text === null || text === undefined) return null;
  return SPLIT_NAMES[String(text).trim().toLowerCase()] ?? null;
}
