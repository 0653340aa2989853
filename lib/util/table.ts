/**
 * The project's one table module: CSV reading and writing (RFC 4180 quoting, CRLF, BOM), and
 * Markdown, LaTeX and HTML tables. Hand-written: each format is a few lines and the escaping rules
 * are the point (no table library installed here covers all four). danfojs-node (a dependency)
 * reads CSV too, but loading it pulls in tfjs (seconds of start-up for a one-shot command) and its
 * per-column type inference mangles ids ("00123" -> 123) and coerces bad cells silently, where the
 * callers here must keep every cell as text and name the row of a bad value.
 */

/** A danfo DataFrame (or anything shaped like one). */
export interface DataFrameLike {
  columns: string[];
  values: unknown;
}
export type TableRows = Record<string, unknown>[];
export type TableInput = TableRows | DataFrameLike;

/** A table as columns + rows of cells. */
export interface TableData {
  columns: string[];
  rows: unknown[][];
}

export function isDataFrameLike(x: unknown): x is DataFrameLike {
  return typeof x === "object" && x !== null && !Array.isArray(x) && Array.isArray((x as DataFrameLike).columns) && "values" in x;
}

/** Normalise rows (columns = union of keys in first-seen order) or a DataFrame. */
export function toTableData(input: TableInput, what = "table"): TableData {
  if (isDataFrameLike(input)) {
    const values = input.values;
    if (!Array.isArray(values)) throw new Error(`${what}: DataFrame values are not an array`);
    const rows = values.map((r: unknown) => (Array.isArray(r) ? r : [r]));
    return { columns: input.columns.map(String), rows };
  }
  if (!Array.isArray(input)) throw new Error(`${what}: expected an array of row objects or a DataFrame`);
  const columns: string[] = [];
  const seen = new Set<string>();
  input.forEach((row, i) => {
    if (typeof row !== "object" || row === null || Array.isArray(row)) throw new Error(`${what}: row ${i} is not an object`);
    for (const k of Object.keys(row)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  });
  return { columns, rows: input.map((row) => columns.map((c) => row[c])) };
}

/** Full-precision text of a cell (CSV): null, undefined and non-finite numbers are empty cells. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/**
 * The one number-formatting rule of every displayed table (Markdown, LaTeX, HTML; CSV keeps full
 * precision): a numeric column whose numbers are all integers shows integers (counts); any other
 * numeric column shows every number with DEFAULT_DIGITS decimals (metrics: 3), so 1 next to
 * 0.9653 reads "1.000" and "0.965". Tiny non-zero values use exponent form; NaN/infinite "n/a".
 * Text cells (e.g. "0.912 [0.850, 0.960]" for a CI in brackets) are shown as they are.
 */
export const DEFAULT_DIGITS = 3;

/** Decimals: one number for all columns, or per column name (others: DEFAULT_DIGITS). */
export type Digits = number | Record<string, number>;

function digitsFor(digits: Digits | undefined, column: string): number {
  if (typeof digits === "number") return digits;
  return digits?.[column] ?? DEFAULT_DIGITS;
}

/** Display text of one number with `digits` decimals. */
export function formatNumber(v: number, digits = DEFAULT_DIGITS): string {
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  return a !== 0 && (a < 10 ** -digits || a >= 1e9) ? v.toExponential(Math.max(0, digits - 1)) : v.toFixed(digits);
}

/** Display text of a cell in a column that is integer-only (`integers`) or not. */
export function displayText(v: unknown, digits = DEFAULT_DIGITS, integers = false): string {
  if (typeof v === "number") return integers && Number.isInteger(v) ? String(v) : formatNumber(v, digits);
  return cellText(v);
}

/** Whether a numeric column holds integers only (shown without decimals). */
function isIntegerColumn(t: TableData, j: number): boolean {
  return t.rows.every((r) => typeof r[j] !== "number" || Number.isInteger(r[j]));
}

/** Every cell of a table as display text, by the one rule above. */
export function displayCells(t: TableData, digits?: Digits): string[][] {
  const cols = t.columns.map((c, j) => ({ digits: digitsFor(digits, c), integers: isIntegerColumn(t, j) }));
  return t.rows.map((r) => r.map((v, j) => displayText(v, cols[j].digits, cols[j].integers)));
}

function isNumericColumn(t: TableData, j: number): boolean {
  let any = false;
  for (const r of t.rows) {
    const v = r[j];
    if (v === null || v === undefined || v === "") continue;
    if (typeof v !== "number") return false;
    any = true;
  }
  return any;
}

/** A table of records with a fixed column order (a column a record lacks is an empty cell). */
export function recordsTable<R extends object>(columns: readonly (keyof R & string)[], records: readonly R[]): TableData {
  return { columns: [...columns], rows: records.map((r) => columns.map((c) => r[c])) };
}

/** One CSV field: quoted when it holds a comma, quote, CR/LF or edge spaces, quotes doubled. */
function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row (cellText of every cell, csvField quoting); lines end with "\n". */
export function toCsv(t: TableData): string {
  return [t.columns, ...t.rows.map((r) => r.map(cellText))].map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

/** One parsed CSV record with the 1-based line where it starts. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Parse CSV text into records (RFC 4180: fields in double quotes may hold commas, newlines and
 * doubled quotes; CRLF or LF; a leading BOM is skipped). Blank lines are dropped; every cell is
 * text. Throws naming `source` on an unterminated quote.
 */
export function parseCsvRecords(text: string, source = "CSV"): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = "";
  let atFieldStart = true;
  // False while the record is a blank line (no character, no quote, no comma seen yet).
  let recordHasContent = false;
  const endRecord = (): void => {
    fields.push(field);
    if (recordHasContent) records.push({ fields, line: recordLine });
    fields = [];
    field = "";
    atFieldStart = true;
    recordHasContent = false;
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' && atFieldStart) {
      const quoteLine = line;
      atFieldStart = false;
      recordHasContent = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`${source}: unterminated quoted field starting on line ${quoteLine}`);
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === "\n") line++;
        field += c;
        i++;
      }
      continue;
    }
    if (ch === "\r" || ch === "\n") {
      endRecord();
      if (ch === "\r" && text[i + 1] === "\n") i++;
      i++;
      line++;
      recordLine = line;
      continue;
    }
    recordHasContent = true;
    if (ch === ",") {
      fields.push(field);
      field = "";
      atFieldStart = true;
    } else {
      field += ch;
      atFieldStart = false;
    }
    i++;
  }
  if (recordHasContent) endRecord();
  return records;
}

/** Parse CSV text into rows of cells (see parseCsvRecords). */
export function parseCsvRows(text: string, source = "CSV"): string[][] {
  return parseCsvRecords(text, source).map((r) => r.fields);
}

/** Parse CSV text with a header row into records keyed by column name (header cells trimmed; a missing cell reads ""). */
export function parseCsv(text: string, source = "CSV"): { columns: string[]; rows: Record<string, string>[] } {
  const all = parseCsvRows(text, source);
  if (all.length === 0) return { columns: [], rows: [] };
  const columns = all[0].map((c) => c.trim());
  const rows = all.slice(1).map((cells) => {
    const r: Record<string, string> = {};
    columns.forEach((c, j) => (r[c] = cells[j] ?? ""));
    return r;
  });
  return { columns, rows };
}

/** GitHub-flavoured Markdown table; numeric columns right-aligned; caption as a pandoc "Table:" line. */
export function toMarkdown(t: TableData, opts: { caption?: string; digits?: Digits } = {}): string {
  const esc = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
  const numeric = t.columns.map((_, j) => isNumericColumn(t, j));
  const lines = [
    `| ${t.columns.map(esc).join(" | ")} |`,
    `|${numeric.map((n) => (n ? " ---: " : " --- ")).join("|")}|`,
    ...displayCells(t, opts.digits).map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
  if (opts.caption) lines.push("", `Table: ${opts.caption.replace(/\r?\n/g, " ")}`);
  return lines.join("\n") + "\n";
}

/** Escape LaTeX's special characters in text. */
export function latexEscape(s: string): string {
  const map: Record<string, string> = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    $: "\\$",
    "#": "\\#",
    _: "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
  };
  return s.replace(/[\\&%$#_{}~^]/g, (c) => map[c]).replace(/\r?\n/g, " ");
}

/** A LaTeX table (booktabs rules: \usepackage{booktabs}); numeric columns right-aligned. */
export function toLatex(t: TableData, opts: { caption?: string; label?: string; digits?: Digits } = {}): string {
  const align = t.columns.map((_, j) => (isNumericColumn(t, j) ? "r" : "l")).join("");
  const row = (cells: string[]): string => `${cells.join(" & ")} \\\\`;
  const lines = ["\\begin{table}[htbp]", "\\centering"];
  if (opts.caption) lines.push(`\\caption{${latexEscape(opts.caption)}}`);
  if (opts.label) lines.push(`\\label{${opts.label}}`);
  lines.push(
    `\\begin{tabular}{${align}}`,
    "\\toprule",
    row(t.columns.map(latexEscape)),
    "\\midrule",
    ...displayCells(t, opts.digits).map((r) => row(r.map(latexEscape))),
    "\\bottomrule",
    "\\end{tabular}",
    "\\end{table}",
  );
  return lines.join("\n") + "\n";
}

export function htmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** An HTML table for inline display. */
export function toHtml(t: TableData, opts: { caption?: string; digits?: Digits } = {}): string {
  const numeric = t.columns.map((_, j) => isNumericColumn(t, j));
  const td = (v: string, j: number): string => `<td${numeric[j] ? ' style="text-align:right"' : ""}>${htmlEscape(v)}</td>`;
  return [
    "<table>",
    opts.caption ? `<caption>${htmlEscape(opts.caption)}</caption>` : "",
    `<thead><tr>${t.columns.map((c) => `<th>${htmlEscape(c)}</th>`).join("")}</tr></thead>`,
    `<tbody>${displayCells(t, opts.digits).map((r) => `<tr>${r.map(td).join("")}</tr>`).join("")}</tbody>`,
    "</table>",
  ].join("");
}
