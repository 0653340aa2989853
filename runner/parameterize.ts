import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { renderParameter, typedConst, type ConfigSpec } from "../lib/util/config";
import { codeCell, hasTag, sourceText, type Notebook } from "./nbformat";

/** A notebook parameter value: anything JSON can hold. */
export type ParamValue = number | boolean | string | null | ParamValue[] | { [key: string]: ParamValue };
export type Params = Record<string, ParamValue>;

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Type a `-p NAME VALUE` value given on the command line: "true"/"false" -> boolean, a decimal
 * number -> number, text starting with [ { or " (or exactly null) -> JSON, anything else -> string.
 * Quote a value as JSON to force a string: -p id '"007"'.
 */
export function parseParamValue(name: string, text: string): ParamValue {
  const t = text.trim();
  if (t === "true") return true;
  if (t === "false") return false;
  if (NUMBER.test(t)) return Number(t);
  if (t === "null" || t.startsWith("[") || t.startsWith("{") || t.startsWith('"')) {
    try {
      return JSON.parse(t) as ParamValue;
    } catch (e) {
      throw new Error(`parameter ${name}: value ${JSON.stringify(text)} looks like JSON but does not parse (${(e as Error).message})`);
    }
  }
  return text;
}

/** Read a parameters file: a JSON or YAML mapping of name -> value. */
export function readParamsFile(file: string): Params {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read parameters file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = path.extname(file).toLowerCase() === ".json" ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new Error(`${file}: parameters file does not parse (${(e as Error).message.split("\n")[0]})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${file}: parameters file must hold a mapping of name -> value`);
  }
  for (const name of Object.keys(value)) checkName(name, file);
  return value as Params;
}

function checkName(name: string, where: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`${where}: parameter name ${JSON.stringify(name)} is not a valid identifier`);
}

/**
 * TypeScript source of the injected cell: one `const` per parameter (tslab allows redeclaring),
 * typed wide so any allowed value compiles: as the stage config declares it, else as the
 * parameters cell annotates it, else by the value's JSON type (`const adapter: string = "vindr"`,
 * not the literal type "vindr", which a comparison with "synthetic" would refuse).
 */
export function renderParameters(params: Params, spec?: ConfigSpec, declaredTypes: Record<string, string> = {}): string {
  const lines = ["// Parameters injected by the milpf runner"];
  for (const [name, value] of Object.entries(params)) {
    checkName(name, "parameters");
    const f = spec?.[name];
    lines.push(!f && declaredTypes[name] ? typedConst(name, declaredTypes[name], value) : renderParameter(name, value, f));
  }
  return lines.join("\n") + "\n";
}

/** Declared types in a parameters cell (`const adapter: AdapterName = ...`, `const x = "a" as A | B;`), by name. */
export function declaredTypes(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*:\s*([^=\n]+?)\s*=/gm)) out[m[1]] = m[2];
  for (const m of source.matchAll(/^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*=\s*("(?:[^"\\\n]|\\.)*"|[-+\d.eE]+|true|false)\s+as\s+([^;\n]+?)\s*;?\s*$/gm)) out[m[1]] = m[3];
  return out;
}

/** Names declared (const/let/var at line start) in a cell's source: the notebook's parameters. */
export function declaredNames(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)/gm)) names.push(m[1]);
  return names;
}

/** String literal defaults of a parameters cell (`const out: string = "data/work/tiles";`), by name. */
export function declaredStringDefaults(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*(?::[^=\n]+)?=\s*("(?:[^"\\\n]|\\.)*")\s*;?/gm)) {
    out[m[1]] = JSON.parse(m[2]) as string;
  }
  return out;
}

export interface ParameterizeResult {
  notebook: Notebook;
  /** Index of the injected cell, or -1 when no parameters were given. */
  injectedIndex: number;
  /** Defaults declared in the `parameters` cell (names only). */
  defaultNames: string[];
  /** Parameters given that the `parameters` cell does not declare (they are injected anyway). */
  unknown: string[];
}

/**
 * Inject parameters as papermill does (typed by `spec`, the notebook's stage config, when known): a cell tagged `injected-parameters` replaces a previous
 * injected cell, or goes right after the cell tagged `parameters`, or (without one) first.
 * The input notebook is not modified.
 */
export function parameterize(nb: Notebook, params: Params, spec?: ConfigSpec): ParameterizeResult {
  const cells = [...nb.cells];
  const paramsIdx = cells.findIndex((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
  const paramsSource = paramsIdx >= 0 ? sourceText(cells[paramsIdx].source) : "";
  const defaultNames = declaredNames(paramsSource);
  const unknown = Object.keys(params).filter((n) => !defaultNames.includes(n));
  const metadata = { ...nb.metadata, papermill: { ...((nb.metadata.papermill as object | undefined) ?? {}), parameters: params } };
  if (Object.keys(params).length === 0) return { notebook: { ...nb, cells, metadata }, injectedIndex: -1, defaultNames, unknown };
  const injected = codeCell(renderParameters(params, spec, declaredTypes(paramsSource)), [INJECTED_TAG]);
  const oldIdx = cells.findIndex((c) => hasTag(c, INJECTED_TAG));
  let at: number;
  if (oldIdx >= 0) {
    cells.splice(oldIdx, 1, injected);
    at = oldIdx;
  } else {
    at = paramsIdx + 1; // 0 when there is no parameters cell
    cells.splice(at, 0, injected);
  }
  return { notebook: { ...nb, cells, metadata }, injectedIndex: at, defaultNames, unknown };
}
