/**
 * Table formats (CSV, Markdown, LaTeX, HTML), hand-written: each is a few lines and the escaping
 * rules are the point (no table library installed here covers all four).
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

/** Full-precision text of a cell (CSV). */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : String(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Display text of a cell: non-integer numbers with `digits` decimals (exponent form when tiny or huge). */
export function displayText(v: unknown, digits = 4): string {
  if (typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v)) {
    const a = Math.abs(v);
    return a !== 0 && (a < 10 ** -digits || a >= 1e9) ? v.toExponential(Math.max(0, digits - 1)) : v.toFixed(digits);
  }
  return cellText(v);
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

/** RFC 4180 CSV: fields with a comma, quote, CR/LF or edge spaces are quoted, quotes doubled; CRLF-free (\n). */
export function toCsv(t: TableData): string {
  const field = (s: string): string => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [t.columns, ...t.rows.map((r) => r.map(cellText))].map((r) => r.map(field).join(",")).join("\n") + "\n";
}

/** GitHub-flavoured Markdown table; numeric columns right-aligned; caption as a pandoc "Table:" line. */
export function toMarkdown(t: TableData, opts: { caption?: string; digits?: number } = {}): string {
  const esc = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
  const numeric = t.columns.map((_, j) => isNumericColumn(t, j));
  const lines = [
    `| ${t.columns.map(esc).join(" | ")} |`,
    `|${numeric.map((n) => (n ? " ---: " : " --- ")).join("|")}|`,
    ...t.rows.map((r) => `| ${r.map((v) => esc(displayText(v, opts.digits))).join(" | ")} |`),
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
export function toLatex(t: TableData, opts: { caption?: string; label?: string; digits?: number } = {}): string {
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
    ...t.rows.map((r) => row(r.map((v) => latexEscape(displayText(v, opts.digits))))),
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
export function toHtml(t: TableData, opts: { caption?: string; digits?: number } = {}): string {
  const numeric = t.columns.map((_, j) => isNumericColumn(t, j));
  const td = (v: unknown, j: number): string => `<td${numeric[j] ? ' style="text-align:right"' : ""}>${htmlEscape(displayText(v, opts.digits))}</td>`;
  return [
    "<table>",
    opts.caption ? `<caption>${htmlEscape(opts.caption)}</caption>` : "",
    `<thead><tr>${t.columns.map((c) => `<th>${htmlEscape(c)}</th>`).join("")}</tr></thead>`,
    `<tbody>${t.rows.map((r) => `<tr>${r.map(td).join("")}</tr>`).join("")}</tbody>`,
    "</table>",
  ].join("");
}
