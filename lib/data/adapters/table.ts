import * as fs from "node:fs";
import { parseCsv } from "../../util/table";

/** A loaded dataset table: column names and every row as strings ("" for empty cells). */
export interface Table {
  file: string;
  columns: string[];
  rows: Record<string, string>[];
  /** "danfojs-node", or "csv" with the reason danfo was not used. */
  loader: string;
}

type Danfo = typeof import("danfojs-node");
let danfo: Danfo | null | undefined;

/** danfojs-node, loaded on first use (it pulls tfjs in; ~1 s), or null where it fails to load. */
function loadDanfo(): Danfo | null {
  if (danfo === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      danfo = require("danfojs-node") as Danfo;
    } catch {
      danfo = null;
    }
  }
  return danfo;
}

/**
 * Load a CSV table with danfojs-node, every cell as text (dynamicTyping off: danfo would turn
 * ids such as "00123" into 123 and 10-digit RSNA image ids into int32). Falls back to the
 * built-in CSV parser where danfo is missing or fails (e.g. a header-only table), and says so in
 * `loader`. Throws one clear error naming the file when it cannot be read or has no header.
 */
export async function loadTable(file: string, requiredColumns: readonly string[] = []): Promise<Table> {
  if (!fs.existsSync(file)) throw new Error(`${file}: table not found`);
  let table: Table | null = null;
  const dfd = loadDanfo();
  let reason = "danfojs-node not available";
  if (dfd) {
    try {
      const df = await dfd.readCSV(file, { dynamicTyping: false, skipEmptyLines: true } as Parameters<Danfo["readCSV"]>[1]);
      const columns = (df.columns as string[]).map((c) => c.trim());
      const values = df.values as unknown[][];
      const rows = values.map((vals) => {
        const r: Record<string, string> = {};
        columns.forEach((c, j) => {
          const v = vals[j];
          r[c] = v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v);
        });
        return r;
      });
      table = { file, columns, rows, loader: "danfojs-node" };
    } catch (e) {
      reason = `danfojs-node failed: ${(e as Error).message}`;
    }
  }
  if (!table) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`${file}: cannot read table (${(e as Error).message})`);
    }
    const parsed = parseCsv(text);
    table = { file, columns: parsed.columns, rows: parsed.rows, loader: `csv (${reason})` };
  }
  const found = table.columns;
  const missing = requiredColumns.filter((c) => !found.includes(c));
  if (missing.length) throw new Error(`${file}: missing column(s) ${missing.join(", ")} (found: ${found.join(", ") || "none"})`);
  return table;
}
