/**
 * Minimal RFC 4180 CSV reading and writing. Writing needs quoting for VinDr's list-valued cells
 * ("['Mass', 'Suspicious Calcification']"). Reading is the fallback for tables danfojs-node
 * mangles (it infers types per column, so ids such as "00123" lose their leading zeros).
 */

export type CsvCell = string | number | null | undefined;

function quote(cell: CsvCell): string {
  if (cell === null || cell === undefined) return "";
  const s = typeof cell === "number" ? (Number.isFinite(cell) ? String(cell) : "") : cell;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text with a header row; `columns` fixes the column order. Lines end with "\n". */
export function toCsv(columns: readonly string[], rows: readonly Record<string, CsvCell>[]): string {
  const lines = [columns.map(quote).join(",")];
  for (const r of rows) lines.push(columns.map((c) => quote(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/** Parse CSV text into rows of strings (all cells as text; "" for empty). */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let inQuotes = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  for (; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else inQuotes = false;
      } else cell += ch;
      continue;
    }
    if (ch === '"') inQuotes = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** Parse CSV text with a header into objects keyed by column name. */
export function parseCsv(text: string): { columns: string[]; rows: Record<string, string>[] } {
  const all = parseCsvRows(text);
  if (all.length === 0) return { columns: [], rows: [] };
  const columns = all[0].map((c) => c.trim());
  const rows = all.slice(1).map((cells) => {
    const r: Record<string, string> = {};
    columns.forEach((c, j) => (r[c] = cells[j] ?? ""));
    return r;
  });
  return { columns, rows };
}
