import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { writeFileAtomic } from "../lib/util/atomic";

/** nbformat 4.5 notebooks (the subset this project reads and writes). */

export type MultilineString = string | string[];
export type MimeBundle = Record<string, unknown>;

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: MultilineString;
}
export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** papermill's per-cell record (cell.metadata.papermill). */
export interface PapermillCellMetadata {
  start_time: string | null;
  end_time: string | null;
  duration: number | null;
  status: "pending" | "running" | "completed" | "failed";
  exception: boolean | null;
}

export interface CellMetadata {
  tags?: string[];
  papermill?: PapermillCellMetadata;
  [key: string]: unknown;
}

export interface CodeCell {
  cell_type: "code";
  id: string;
  metadata: CellMetadata;
  source: MultilineString;
  execution_count: number | null;
  outputs: Output[];
}
export interface MarkdownCell {
  cell_type: "markdown";
  id: string;
  metadata: CellMetadata;
  source: MultilineString;
  attachments?: Record<string, MimeBundle>;
}
export interface RawCell {
  cell_type: "raw";
  id: string;
  metadata: CellMetadata;
  source: MultilineString;
}
export type Cell = CodeCell | MarkdownCell | RawCell;

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

/** The kernelspec and language_info every notebook of this project carries. */
export const TSLAB_KERNELSPEC = { name: "tslab", display_name: "TypeScript", language: "typescript" } as const;
export const TSLAB_LANGUAGE_INFO = {
  name: "typescript",
  file_extension: ".ts",
  mimetype: "text/typescript",
  version: "5.0.4",
  codemirror_mode: { name: "javascript", typescript: true },
} as const;

/** A fresh cell id (nbformat 4.5: 1-64 chars of [a-zA-Z0-9-_]). */
export function newCellId(): string {
  return crypto.randomBytes(4).toString("hex");
}

export function sourceText(source: MultilineString): string {
  return Array.isArray(source) ? source.join("") : source;
}

/** Split text into nbformat's list-of-lines form (each line keeps its "\n"). */
export function toLines(text: string): string[] {
  return text.length === 0 ? [] : text.split(/(?<=\n)/);
}

export function codeCell(source: string, tags: string[] = []): CodeCell {
  return {
    cell_type: "code",
    id: newCellId(),
    metadata: tags.length ? { tags: [...tags] } : {},
    source: toLines(source),
    execution_count: null,
    outputs: [],
  };
}

export function markdownCell(source: string, tags: string[] = []): MarkdownCell {
  return { cell_type: "markdown", id: newCellId(), metadata: tags.length ? { tags: [...tags] } : {}, source: toLines(source) };
}

export function hasTag(cell: Cell, tag: string): boolean {
  return Array.isArray(cell.metadata.tags) && cell.metadata.tags.includes(tag);
}

/**
 * Parse notebook JSON, checking the parts the runner relies on, and upgrade it to 4.5 (cell ids,
 * code cells with outputs and execution_count). `file` names the source in error messages.
 */
export function parseNotebook(text: string, file = "<notebook>"): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not a notebook (invalid JSON: ${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${file}: not a notebook (top level is not an object)`);
  const obj = raw as Record<string, unknown>;
  if (obj.nbformat !== 4) throw new Error(`${file}: unsupported nbformat ${String(obj.nbformat)} (only nbformat 4 notebooks are read)`);
  if (!Array.isArray(obj.cells)) throw new Error(`${file}: not a notebook ("cells" is missing or not a list)`);
  const seen = new Set<string>();
  const cells: Cell[] = obj.cells.map((c: unknown, i: number) => {
    if (typeof c !== "object" || c === null) throw new Error(`${file}: cell ${i + 1} is not an object`);
    const cell = c as Record<string, unknown>;
    const type = cell.cell_type;
    if (type !== "code" && type !== "markdown" && type !== "raw") throw new Error(`${file}: cell ${i + 1} has unknown cell_type ${String(type)}`);
    const source = cell.source;
    if (typeof source !== "string" && !(Array.isArray(source) && source.every((s) => typeof s === "string"))) {
      throw new Error(`${file}: cell ${i + 1} has no valid "source"`);
    }
    let id = typeof cell.id === "string" && /^[a-zA-Z0-9-_]{1,64}$/.test(cell.id) ? cell.id : newCellId();
    while (seen.has(id)) id = newCellId();
    seen.add(id);
    const metadata = (typeof cell.metadata === "object" && cell.metadata !== null ? cell.metadata : {}) as CellMetadata;
    if (type === "code") {
      return {
        ...(cell as object),
        cell_type: "code",
        id,
        metadata,
        source: source as MultilineString,
        execution_count: typeof cell.execution_count === "number" ? cell.execution_count : null,
        outputs: Array.isArray(cell.outputs) ? (cell.outputs as Output[]) : [],
      } as CodeCell;
    }
    return { ...(cell as object), cell_type: type, id, metadata, source: source as MultilineString } as MarkdownCell | RawCell;
  });
  const metadata = (typeof obj.metadata === "object" && obj.metadata !== null ? obj.metadata : {}) as Record<string, unknown>;
  return { nbformat: 4, nbformat_minor: Math.max(5, typeof obj.nbformat_minor === "number" ? obj.nbformat_minor : 5), metadata, cells };
}

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read notebook (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseNotebook(text, file);
}

/** Set the tslab kernelspec and TypeScript language_info (kept when already present). */
export function withTslabMetadata(nb: Notebook): Notebook {
  return {
    ...nb,
    metadata: {
      ...nb.metadata,
      kernelspec: { ...TSLAB_KERNELSPEC },
      language_info: { ...TSLAB_LANGUAGE_INFO, ...((nb.metadata.language_info as object | undefined) ?? {}), name: "typescript" },
    },
  };
}

/** Serialise as Jupyter does (1-space indent, trailing newline). */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(nb, null, 1) + "\n";
}

/** Write atomically. */
export function writeNotebook(file: string, nb: Notebook): void {
  writeFileAtomic(file, serializeNotebook(nb));
}
