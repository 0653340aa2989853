import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic, writeFileAtomicAsync } from "../util/atomic";
import { displayInline } from "./inline";
import { figuresDir, safeName } from "./output-dir";
import { PNG_SCALE } from "./style";
import { resolveProjectPath } from "../util/paths";
import { plotlyBundlePath, renderStatic, staticExportAvailable, warnNoChromium, type FigureSpec } from "./static-export";
import { htmlEscape, toCsv, toHtml, toLatex, toMarkdown, toTableData, type Digits, type TableInput } from "../util/table";

/** Files written for one figure (absolute paths); png/svg absent when static export is unavailable. */
export interface FigureFiles {
  json: string;
  html: string;
  png?: string;
  svg?: string;
}

export interface ShowOptions {
  /** Output folder (default: figuresDir()). */
  dir?: string;
  /** PNG scale factor (default PNG_SCALE = 4: ~290 dpi at the layout size in points). */
  scale?: number;
  /** Show inline in the notebook (default true). */
  inline?: boolean;
}

const PLOTLY_FILE = "plotly.min.js";

/**
 * The folder that holds the one plotly.js bundle of a figures tree: the tree's root for any folder
 * under it (figures/01_tile/, figures/02_embed/, ... share figures/plotly.min.js). The root is
 * env MILPF_FIGURES_ROOT (set by milpf pipeline, also for --figures-root) or the project's
 * figures/; a folder under neither (e.g. milpf run --figures /tmp/explain) holds its own copy.
 */
export function plotlyTreeRoot(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const abs = path.resolve(dir);
  for (const root of [env.MILPF_FIGURES_ROOT ? path.resolve(env.MILPF_FIGURES_ROOT) : null, resolveProjectPath("figures")]) {
    if (!root) continue;
    const rel = path.relative(root, abs);
    if (rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel)) return root;
  }
  return abs;
}

/**
 * Write plotly.js once per figures tree (no CDN: these machines have no internet) and return the
 * script src relative to `dir`. A copy left in `dir` by an older version is removed.
 */
function ensurePlotlyBundle(dir: string): string {
  const src = plotlyBundlePath();
  const root = plotlyTreeRoot(dir);
  const dest = path.join(root, PLOTLY_FILE);
  if (!fs.existsSync(dest) || fs.statSync(dest).size !== fs.statSync(src).size) writeFileAtomic(dest, fs.readFileSync(src));
  const stale = path.join(dir, PLOTLY_FILE);
  if (path.resolve(root) !== path.resolve(dir) && fs.existsSync(stale)) fs.rmSync(stale, { force: true });
  return path.relative(path.resolve(dir), dest).split(path.sep).join("/");
}

/** The interactive HTML page of a figure (loads plotly.js from `plotlySrc`, by default beside it). */
export function figureHtml(name: string, spec: FigureSpec, plotlySrc: string = PLOTLY_FILE): string {
  // "<" escaped so that the JSON cannot close the script element.
  const json = JSON.stringify(spec).replace(/</g, "\\u003c");
  return [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${htmlEscape(name)}</title><script src="${htmlEscape(plotlySrc)}"></script></head>`,
    `<body style="margin:0"><div id="figure" style="width:100vw;height:100vh"></div>`,
    `<script>const spec = ${json};`,
    `Plotly.newPlot("figure", spec.data, Object.assign({}, spec.layout, {autosize: true, width: undefined, height: undefined}), Object.assign({responsive: true}, spec.config));</script>`,
    "</body></html>",
  ].join("\n");
}

function checkSpec(name: string, figure: FigureSpec): void {
  if (typeof figure !== "object" || figure === null || !Array.isArray(figure.data)) {
    throw new Error(`figure ${name}: expected {data: object[], layout?: object}`);
  }
}

/** The files a figure of this name is exported to (png/svg only where static export runs). */
export function figureFiles(name: string, dir: string = figuresDir()): FigureFiles {
  const base = path.join(dir, safeName(name));
  const files: FigureFiles = { json: `${base}.json`, html: `${base}.html` };
  if (staticExportAvailable()) Object.assign(files, { png: `${base}.png`, svg: `${base}.svg` });
  return files;
}

/**
 * Export a Plotly figure as <name>.json (the spec, to re-render), <name>.html (interactive),
 * <name>.png and <name>.svg (static, rendered by plotly.js in headless Chromium; skipped with one
 * warning when Chromium is missing). Returns the files written; `show` is this plus the inline
 * display.
 */
export async function exportFigure(name: string, figure: FigureSpec, opts: ShowOptions = {}): Promise<FigureFiles & { pngBytes?: Uint8Array }> {
  checkSpec(name, figure);
  const dir = opts.dir ?? figuresDir();
  const files = figureFiles(name, dir);
  delete files.png;
  delete files.svg;
  await writeFileAtomicAsync(files.json, JSON.stringify(figure, null, 1) + "\n");
  await writeFileAtomicAsync(files.html, figureHtml(name, figure, ensurePlotlyBundle(dir)));
  if (!staticExportAvailable()) {
    warnNoChromium();
    return files;
  }
  const img = await renderStatic(figure, { scale: opts.scale ?? PNG_SCALE });
  files.png = files.json.replace(/\.json$/, ".png");
  files.svg = files.json.replace(/\.json$/, ".svg");
  await writeFileAtomicAsync(files.png, img.png);
  await writeFileAtomicAsync(files.svg, img.svg);
  return { ...files, pngBytes: img.png };
}

/**
 * Export a figure (exportFigure) and show it inline in the notebook. Returns nothing, so a
 * notebook cell ending with it echoes nothing; the files are figureFiles(name).
 */
export async function show(name: string, figure: FigureSpec, opts: ShowOptions = {}): Promise<void> {
  const files = await exportFigure(name, figure, opts);
  if (opts.inline === false) return;
  displayInline((d) => {
    if (files.pngBytes) d.png(files.pngBytes);
    else d.html(`<p>Figure <b>${htmlEscape(name)}</b>: interactive HTML at <code>${htmlEscape(files.html)}</code> (static PNG needs Chromium)</p>`);
  });
}

export interface TableFiles {
  csv: string;
  md: string;
  tex: string;
}

export interface TableOptions {
  caption?: string;
  /**
   * Decimals of non-integer numeric columns in Markdown, LaTeX and HTML (CSV keeps full
   * precision): one number, or per column name. Default 3 (lib/util/table.ts: the rule).
   */
  digits?: Digits;
  /** LaTeX \label (default tab:<name>). */
  label?: string;
  dir?: string;
  inline?: boolean;
}

/** The files a table of this name is exported to. */
export function tableFiles(name: string, dir: string = figuresDir()): TableFiles {
  const base = path.join(dir, safeName(name));
  return { csv: `${base}.csv`, md: `${base}.md`, tex: `${base}.tex` };
}

/** Export a table (row objects or a danfo DataFrame) as <name>.csv, .md and .tex; returns the files. */
export async function exportTable(name: string, rows: TableInput, opts: TableOptions = {}): Promise<TableFiles> {
  const t = toTableData(rows, `table ${name}`);
  const files = tableFiles(name, opts.dir ?? figuresDir());
  await writeFileAtomicAsync(files.csv, toCsv(t));
  await writeFileAtomicAsync(files.md, toMarkdown(t, opts));
  await writeFileAtomicAsync(files.tex, toLatex(t, { ...opts, label: opts.label ?? `tab:${safeName(name)}` }));
  return files;
}

/**
 * Export a table (exportTable) and show it in the notebook as an HTML table (tslab display).
 * Returns nothing, so the cell echoes nothing; the files are tableFiles(name).
 */
export async function table(name: string, rows: TableInput, opts: TableOptions = {}): Promise<void> {
  await exportTable(name, rows, opts);
  if (opts.inline !== false) displayInline((d) => d.html(toHtml(toTableData(rows, `table ${name}`), opts)));
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Export PNG bytes as <name>.png and show them inline. Returns nothing (the file is <dir>/<name>.png). */
export async function image(name: string, png: Uint8Array, opts: { dir?: string; inline?: boolean } = {}): Promise<void> {
  if (!(png instanceof Uint8Array) || png.length < 8 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) {
    throw new Error(`image ${name}: the bytes are not a PNG (no PNG signature)`);
  }
  const file = path.join(opts.dir ?? figuresDir(), `${safeName(name)}.png`);
  await writeFileAtomicAsync(file, png);
  if (opts.inline !== false) displayInline((d) => d.png(png));
}

/**
 * Show Markdown text in the notebook (a "what you saw" paragraph made from a run's numbers).
 * Outside a kernel it prints the text. Returns nothing.
 */
export function markdown(text: string): void {
  if (!displayInline((d) => d.markdown(text))) process.stdout.write(`${text}\n`);
}
