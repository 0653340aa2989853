import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic, writeFileAtomicAsync } from "../util/atomic";
import { displayInline } from "./inline";
import { figuresDir, safeName } from "./output-dir";
import { plotlyBundlePath, renderStatic, staticExportAvailable, warnNoChromium, type FigureSpec } from "./static-export";
import { htmlEscape, toCsv, toHtml, toLatex, toMarkdown, toTableData, type TableInput } from "./table-format";

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
  /** PNG scale factor (default 2). */
  scale?: number;
  /** Show inline in the notebook (default true). */
  inline?: boolean;
}

const PLOTLY_FILE = "plotly.min.js";

/** Copy plotly.js beside the HTML figures once (no CDN: these machines have no internet). */
function ensurePlotlyBeside(dir: string): void {
  const dest = path.join(dir, PLOTLY_FILE);
  const src = plotlyBundlePath();
  if (fs.existsSync(dest) && fs.statSync(dest).size === fs.statSync(src).size) return;
  writeFileAtomic(dest, fs.readFileSync(src));
}

/** The interactive HTML page of a figure (loads plotly.min.js from the same folder). */
export function figureHtml(name: string, spec: FigureSpec): string {
  // "<" escaped so that the JSON cannot close the script element.
  const json = JSON.stringify(spec).replace(/</g, "\\u003c");
  return [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${htmlEscape(name)}</title><script src="${PLOTLY_FILE}"></script></head>`,
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

/**
 * Export a Plotly figure as <name>.json (the spec, to re-render), <name>.html (interactive),
 * <name>.png and <name>.svg (static, rendered by plotly.js in headless Chromium; skipped with one
 * warning when Chromium is missing), and show it inline in the notebook.
 */
export async function show(name: string, figure: FigureSpec, opts: ShowOptions = {}): Promise<FigureFiles> {
  checkSpec(name, figure);
  const dir = opts.dir ?? figuresDir();
  const base = path.join(dir, safeName(name));
  const files: FigureFiles = { json: `${base}.json`, html: `${base}.html` };
  await writeFileAtomicAsync(files.json, JSON.stringify(figure, null, 1) + "\n");
  ensurePlotlyBeside(dir);
  await writeFileAtomicAsync(files.html, figureHtml(name, figure));
  let png: Uint8Array | undefined;
  if (staticExportAvailable()) {
    const img = await renderStatic(figure, { scale: opts.scale });
    png = img.png;
    files.png = `${base}.png`;
    files.svg = `${base}.svg`;
    await writeFileAtomicAsync(files.png, img.png);
    await writeFileAtomicAsync(files.svg, img.svg);
  } else {
    warnNoChromium();
  }
  if (opts.inline !== false) {
    displayInline((d) => {
      if (png) d.png(png);
      else d.html(`<p>Figure <b>${htmlEscape(name)}</b>: interactive HTML at <code>${htmlEscape(files.html)}</code> (static PNG needs Chromium)</p>`);
    });
  }
  return files;
}

export interface TableFiles {
  csv: string;
  md: string;
  tex: string;
}

export interface TableOptions {
  caption?: string;
  /** Decimals of non-integer numbers in Markdown, LaTeX and HTML (CSV keeps full precision). Default 4. */
  digits?: number;
  /** LaTeX \label (default tab:<name>). */
  label?: string;
  dir?: string;
  inline?: boolean;
}

/** Export a table (row objects or a danfo DataFrame) as <name>.csv, .md and .tex, and show it inline as HTML. */
export async function table(name: string, rows: TableInput, opts: TableOptions = {}): Promise<TableFiles> {
  const t = toTableData(rows, `table ${name}`);
  const dir = opts.dir ?? figuresDir();
  const base = path.join(dir, safeName(name));
  const files: TableFiles = { csv: `${base}.csv`, md: `${base}.md`, tex: `${base}.tex` };
  await writeFileAtomicAsync(files.csv, toCsv(t));
  await writeFileAtomicAsync(files.md, toMarkdown(t, opts));
  await writeFileAtomicAsync(files.tex, toLatex(t, { ...opts, label: opts.label ?? `tab:${safeName(name)}` }));
  if (opts.inline !== false) displayInline((d) => d.html(toHtml(t, opts)));
  return files;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Export PNG bytes as <name>.png and show them inline. */
export async function image(name: string, png: Uint8Array, opts: { dir?: string; inline?: boolean } = {}): Promise<string> {
  if (!(png instanceof Uint8Array) || png.length < 8 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) {
    throw new Error(`image ${name}: the bytes are not a PNG (no PNG signature)`);
  }
  const file = path.join(opts.dir ?? figuresDir(), `${safeName(name)}.png`);
  await writeFileAtomicAsync(file, png);
  if (opts.inline !== false) displayInline((d) => d.png(png));
  return file;
}
