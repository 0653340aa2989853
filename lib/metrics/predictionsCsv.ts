import * as fs from "node:fs";
import { parseCsvRecords, type CsvRecord } from "../util/table";

/**
 * Predictions read from a CSV file: columns `label` (0/1) and `score`, optional `split`
 * (train/val/test) and `patient`.
 *
 * Read with the project's CSV reader (lib/util/table.ts: RFC 4180 quoting, CRLF, BOM, the line of
 * each record), so that a bad value is named by its row and line.
 */
export interface PredictionsTable {
  file: string;
  labels: number[];
  scores: number[];
  /** Per-row split ("train" | "val" | "test"), or null when the file has no split column. */
  splits: string[] | null;
  /** Per-row patient id, or null when the file has no patient column. */
  patients: string[] | null;
}

const SPLIT_ALIASES: Record<string, string> = {
  train: "train",
  training: "train",
  val: "val",
  valid: "val",
  validation: "val",
  test: "test",
};

/** Reads and checks a predictions CSV. Any problem is one Error naming the file and the row. */
export function readPredictionsCsv(file: string): PredictionsTable {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  return parsePredictionsCsv(text, file);
}

/** Parses the text of a predictions CSV (see readPredictionsCsv); `file` names it in errors. */
export function parsePredictionsCsv(text: string, file: string): PredictionsTable {
  const records = parseCsvRecords(text, file);
  if (records.length === 0) throw new Error(`${file}: empty file (expected a header with columns label, score)`);
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const column = (name: string): number => header.indexOf(name);
  for (const required of ["label", "score"]) {
    if (column(required) < 0) {
      throw new Error(`${file}: missing column '${required}' (found: ${records[0].fields.join(", ")})`);
    }
  }
  const labelCol = column("label");
  const scoreCol = column("score");
  const splitCol = column("split");
  const patientCol = column("patient");
  if (records.length === 1) throw new Error(`${file}: no data rows after the header`);

  const labels: number[] = [];
  const scores: number[] = [];
  const splits: string[] | null = splitCol >= 0 ? [] : null;
  const patients: string[] | null = patientCol >= 0 ? [] : null;
  const problems: string[] = [];
  const problem = (row: number, rec: CsvRecord, message: string): void => {
    problems.push(`row ${row} (line ${rec.line}): ${message}`);
  };
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    const f = rec.fields;
    if (f.length !== header.length) {
      problem(r, rec, `${f.length} fields, the header has ${header.length}`);
      continue;
    }
    const labelText = f[labelCol].trim();
    const label = labelText === "" ? NaN : Number(labelText);
    if (label !== 0 && label !== 1) problem(r, rec, `label must be 0 or 1, got '${f[labelCol]}'`);
    const scoreText = f[scoreCol].trim();
    const score = scoreText === "" ? NaN : Number(scoreText);
    if (!Number.isFinite(score)) problem(r, rec, `non-numeric score '${f[scoreCol]}'`);
    labels.push(label);
    scores.push(score);
    if (splits) {
      const s = SPLIT_ALIASES[f[splitCol].trim().toLowerCase()];
      if (s === undefined) problem(r, rec, `split must be train, val or test, got '${f[splitCol]}'`);
      splits.push(s ?? "");
    }
    if (patients) {
      const p = f[patientCol].trim();
      if (p === "") problem(r, rec, "empty patient id");
      patients.push(p);
    }
  }
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : "";
    throw new Error(`${file}: ${problems[0]}${more}`);
  }
  return { file, labels, scores, splits, patients };
}
