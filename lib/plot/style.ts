/**
 * One figure style for every figure of the project: a fixed colour-blind-safe palette, one fixed
 * colour per ablation configuration, line styles, fonts, sizes and margins for a paper column,
 * and colour bars for heat maps (Plotly traces and raster PNGs).
 *
 * Sizes are in points: 1 layout px = 1 pt, so a figure of width COLUMN_WIDTH placed at 100 % in
 * a single journal column (3.5 in) keeps its font sizes as typeset sizes (8 pt body, 7 pt ticks).
 * Static PNGs are rendered at PNG_SCALE (4 x, ~290 dpi at column width); SVGs are vectors.
 */
import sharp from "sharp";

/**
 * Paul Tol's "muted" qualitative scheme (9 colours, distinguishable under the common colour-vision
 * deficiencies; https://personal.sron.nl/~pault/), plus two extras (Okabe-Ito orange, near-black) for a
 * tenth and eleventh series. Order is fixed: series i takes PALETTE[i].
 */
export const PALETTE: readonly string[] = [
  "#332288", // indigo
  "#88CCEE", // cyan
  "#44AA99", // teal
  "#117733", // green
  "#999933", // olive
  "#DDCC77", // sand
  "#CC6677", // rose
  "#882255", // wine
  "#AA4499", // purple
  "#E69F00", // Okabe-Ito orange (extra)
  "#222222", // near-black (extra)
];

/** Neutral colour for reference lines (chance diagonal, thresholds): never a series colour. */
export const NEUTRAL = "#8C8C8C";
/** Background grid lines. */
export const GRID = "#E5E5E5";

/**
 * The fixed colour of each ablation configuration (names of lib/head/config.ts ABLATION_CONFIGS),
 * the same in every figure and notebook. Related configurations get related hues: the global
 * single-image baselines the light cyan/teal and sand/olive pairs, the fusion models the dark ones,
 * the full model indigo.
 */
export const CONFIG_COLOURS: Readonly<Record<string, string>> = {
  "global-mean-inf": "#88CCEE",
  "global-mean": "#44AA99",
  "global-max-inf": "#DDCC77",
  "global-max": "#999933",
  "global-attn": "#117733",
  "local-attn": "#CC6677",
  "max+mean": "#AA4499",
  "max+max": "#882255",
  "max+attn": "#332288",
};

/** Plotly dash styles, in the order series take them. */
export const DASHES: readonly string[] = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "5px,2px,1px,2px", "1px,3px", "8px,3px,2px,3px"];

/**
 * The colour of a configuration by name. Names outside CONFIG_COLOURS (e.g. `global-selfattn`,
 * lib/head/config.ts EXTRA_CONFIGS) take the palette's extra colours in the order they come among
 * the unknown names of `others` (so several unknown names still differ, and the known names of a
 * figure do not use up the extras): `global-selfattn` beside any Table 4 rows is orange.
 */
export function configColour(name: string, others: readonly string[] = []): string {
  const c = CONFIG_COLOURS[name];
  if (c) return c;
  const extra = PALETTE.filter((p) => !Object.values(CONFIG_COLOURS).includes(p));
  const i = Math.max(0, others.filter((n) => !(n in CONFIG_COLOURS)).indexOf(name));
  if (i >= extra.length) throw new Error(`configColour: no colour left for configuration "${name}" (add it to CONFIG_COLOURS in lib/plot/style.ts)`);
  return extra[i];
}

/** The colour of the i-th series of a figure whose series are not configurations. */
export function seriesColour(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= PALETTE.length) throw new Error(`seriesColour: index ${i} outside the ${PALETTE.length}-colour palette`);
  return PALETTE[i];
}

/** Colours of the two classes (label 0 / label 1), as used by every figure coloured by label. */
export const LABEL_COLOURS: Readonly<Record<0 | 1, string>> = { 0: "#88CCEE", 1: "#CC6677" };

// ---- sizes, fonts, margins ----

/** One journal column (3.5 in) in points = layout px. */
export const COLUMN_WIDTH = 252;
/** Full page width (two columns, 7.16 in). */
export const PAGE_WIDTH = 516;
/** Static PNG scale (4 x: ~290 dpi when placed at its size). */
export const PNG_SCALE = 4;
export const FONT_FAMILY = "Arial, Helvetica, sans-serif";
export const FONT_SIZE = 8;
export const TICK_FONT_SIZE = 7;
export const TITLE_FONT_SIZE = 9;

export type FigureWidth = "column" | "page";

/** An axis in the house style: titled, light grid, outside ticks, no zero line. */
export function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (!title) throw new Error("axis: every axis needs a title");
  return {
    title: { text: title, font: { size: FONT_SIZE }, standoff: 4 },
    tickfont: { size: TICK_FONT_SIZE },
    showgrid: true,
    gridcolor: GRID,
    gridwidth: 0.5,
    zeroline: false,
    showline: true,
    linecolor: "#444444",
    linewidth: 0.75,
    ticks: "outside",
    ticklen: 3,
    tickwidth: 0.75,
    automargin: true,
    ...extra,
  };
}

/**
 * The base layout of a figure: width of a column or a page, the given height, house fonts and
 * tight margins, white background, a horizontal legend under the plot.
 */
export function baseLayout(opts: { title: string; width?: FigureWidth; height: number; legend?: boolean }): Record<string, unknown> {
  return {
    title: { text: opts.title, font: { size: TITLE_FONT_SIZE }, x: 0, xanchor: "left", xref: "paper", y: 0.995, yanchor: "top", yref: "container" },
    width: opts.width === "page" ? PAGE_WIDTH : COLUMN_WIDTH,
    height: opts.height,
    font: { family: FONT_FAMILY, size: FONT_SIZE, color: "#222222" },
    margin: { l: 40, r: 8, t: 28, b: 34, pad: 0 },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    showlegend: opts.legend ?? true,
    legend: { orientation: "h", x: 0, xanchor: "left", y: -0.18, yanchor: "top", font: { size: TICK_FONT_SIZE }, tracegroupgap: 2, itemwidth: 30 },
  };
}

// ---- colour bars ----

/** A Plotly `colorbar` attribute for a heatmap/contour/scatter-marker trace, in the house style. */
export function plotlyColourBar(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (!title) throw new Error("plotlyColourBar: a colour bar needs a title");
  return {
    title: { text: title, side: "right", font: { size: FONT_SIZE } },
    tickfont: { size: TICK_FONT_SIZE },
    thickness: 8,
    len: 0.9,
    outlinewidth: 0.5,
    ticks: "outside",
    ticklen: 2,
    ...extra,
  };
}

/** A colour map: value in [0, 1] -> [r, g, b] in 0..255. */
export type ColourMap = (v: number) => readonly [number, number, number] | number[];

export interface ColourBarOptions {
  /** The colour map the picture used. */
  colourMap: ColourMap;
  /** Title written along the bar (e.g. "attention (relative to the breast's maximum)"). */
  title: string;
  /** Height of the bar picture in px (the height of the picture it goes beside). */
  heightPx: number;
  /** Value at the bottom and top of the bar (default 0 and 1). */
  min?: number;
  max?: number;
  /** Tick values (default: min, middle, max). */
  ticks?: number[];
  /** Tick label text (default: the value with `digits` decimals). */
  tickText?: (v: number) => string;
  digits?: number;
  /** Width of the coloured strip (default 14 px); the whole picture is wider (ticks and title). */
  barWidthPx?: number;
  /** Font size of ticks and title in px (default 12). */
  fontPx?: number;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A vertical colour bar as SVG text (strip, tick marks and labels, title rotated along the
 * right edge), for raster heat maps drawn without Plotly. Width: colourBarWidth(opts).
 */
export function colourBarSvg(opts: ColourBarOptions): string {
  const { heightPx } = opts;
  const min = opts.min ?? 0;
  const max = opts.max ?? 1;
  if (!(heightPx >= 20)) throw new Error(`colourBarSvg: heightPx must be >= 20 (got ${heightPx})`);
  if (!(max > min)) throw new Error(`colourBarSvg: max (${max}) must exceed min (${min})`);
  if (!opts.title) throw new Error("colourBarSvg: a colour bar needs a title");
  const font = opts.fontPx ?? 12;
  const bw = opts.barWidthPx ?? 14;
  const pad = Math.ceil(font * 0.7); // room for the first/last tick label
  const barH = heightPx - 2 * pad;
  const steps = Math.min(256, Math.max(2, Math.round(barH)));
  const stops: string[] = [];
  for (let i = 0; i < steps; i++) {
    const t = i / (steps - 1);
    const [r, g, b] = opts.colourMap(t);
    stops.push(`<stop offset="${(t * 100).toFixed(2)}%" stop-color="rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})"/>`);
  }
  const ticks = opts.ticks ?? [min, (min + max) / 2, max];
  const label = opts.tickText ?? ((v: number) => v.toFixed(opts.digits ?? 2));
  const x0 = 4;
  const tickParts = ticks.map((v) => {
    if (v < min || v > max) throw new Error(`colourBarSvg: tick ${v} outside [${min}, ${max}]`);
    const y = pad + barH * (1 - (v - min) / (max - min));
    return (
      `<line x1="${x0 + bw}" y1="${y.toFixed(1)}" x2="${x0 + bw + 4}" y2="${y.toFixed(1)}" stroke="#222" stroke-width="1"/>` +
      `<text x="${x0 + bw + 6}" y="${(y + font * 0.35).toFixed(1)}" font-family="${FONT_FAMILY}" font-size="${font}" fill="#222">${xmlEscape(label(v))}</text>`
    );
  });
  const width = colourBarWidth(opts);
  // rotate(90): the glyphs stand to the right of the baseline, so the baseline sits one line in from the edge.
  const tx = width - font * 1.2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${heightPx}">` +
    `<rect width="${width}" height="${heightPx}" fill="white"/>` +
    // SVG gradients run top->bottom with y2=100%; the bar's top is the map's max, so the stops are reversed.
    `<defs><linearGradient id="cb" x1="0" y1="1" x2="0" y2="0">${stops.join("")}</linearGradient></defs>` +
    `<rect x="${x0}" y="${pad}" width="${bw}" height="${barH}" fill="url(#cb)" stroke="#222" stroke-width="0.75"/>` +
    tickParts.join("") +
    `<text transform="translate(${tx.toFixed(1)},${(heightPx / 2).toFixed(1)}) rotate(90)" text-anchor="middle" font-family="${FONT_FAMILY}" font-size="${font}" fill="#222">${xmlEscape(opts.title)}</text>` +
    `</svg>`
  );
}

/** Width in px of the picture colourBarSvg draws. */
export function colourBarWidth(opts: Pick<ColourBarOptions, "barWidthPx" | "fontPx" | "ticks" | "tickText" | "digits" | "min" | "max">): number {
  const font = opts.fontPx ?? 12;
  const min = opts.min ?? 0;
  const max = opts.max ?? 1;
  const ticks = opts.ticks ?? [min, (min + max) / 2, max];
  const label = opts.tickText ?? ((v: number) => v.toFixed(opts.digits ?? 2));
  const longest = Math.max(...ticks.map((v) => label(v).length));
  return Math.ceil(4 + (opts.barWidthPx ?? 14) + 6 + longest * font * 0.6 + 4 + font * 1.4);
}

/**
 * Put a colour bar to the right of a PNG picture (same height, white gap). Returns PNG bytes.
 * Use it for every raster heat map, so a reader can tell low from high.
 */
export async function withColourBar(png: Uint8Array, opts: Omit<ColourBarOptions, "heightPx"> & { gapPx?: number }): Promise<Buffer> {
  const meta = await sharp(png).metadata();
  if (!meta.width || !meta.height) throw new Error("withColourBar: the picture has no size (not an image?)");
  const svg = colourBarSvg({ ...opts, heightPx: meta.height });
  const barW = colourBarWidth(opts);
  const gap = opts.gapPx ?? 6;
  return sharp({ create: { width: meta.width + gap + barW, height: meta.height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      { input: Buffer.from(png), left: 0, top: 0 },
      { input: Buffer.from(svg), left: meta.width + gap, top: 0 },
    ])
    .png()
    .toBuffer();
}

/**
 * A title band above a PNG picture (left-aligned text on white). Returns PNG bytes. For raster
 * figures (montages, overlays) that Plotly does not draw.
 */
export async function withTitle(png: Uint8Array, title: string, opts: { fontPx?: number; subtitle?: string } = {}): Promise<Buffer> {
  if (!title) throw new Error("withTitle: empty title");
  const meta = await sharp(png).metadata();
  if (!meta.width || !meta.height) throw new Error("withTitle: the picture has no size (not an image?)");
  const font = opts.fontPx ?? 14;
  const lines = [{ text: title, size: font, weight: "bold" }, ...(opts.subtitle ? [{ text: opts.subtitle, size: Math.round(font * 0.85), weight: "normal" }] : [])];
  const bandH = Math.ceil(lines.reduce((h, l) => h + l.size * 1.35, 0) + font * 0.5);
  let y = font * 0.3;
  const texts = lines.map((l) => {
    y += l.size * 1.1;
    const t = `<text x="4" y="${y.toFixed(1)}" font-family="${FONT_FAMILY}" font-size="${l.size}" font-weight="${l.weight}" fill="#222">${xmlEscape(l.text)}</text>`;
    y += l.size * 0.25;
    return t;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${meta.width}" height="${bandH}"><rect width="${meta.width}" height="${bandH}" fill="white"/>${texts.join("")}</svg>`;
  return sharp({ create: { width: meta.width, height: meta.height + bandH, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      { input: Buffer.from(svg), left: 0, top: 0 },
      { input: Buffer.from(png), left: 0, top: bandH },
    ])
    .png()
    .toBuffer();
}

/**
 * A legend strip for raster figures: coloured swatches (box outline, line or filled square) with
 * their meaning, laid out left to right at the given width. Returns PNG bytes.
 */
export async function legendStrip(widthPx: number, items: { colour: string; label: string; kind: "box" | "line" | "fill" }[], opts: { fontPx?: number } = {}): Promise<Buffer> {
  if (items.length === 0) throw new Error("legendStrip: no items");
  const font = opts.fontPx ?? 13;
  const h = Math.ceil(font * 2);
  const sw = font * 1.4;
  let x = 6;
  const cy = h / 2;
  const parts: string[] = [];
  for (const it of items) {
    if (!it.label) throw new Error("legendStrip: an item without a label");
    if (it.kind === "box") parts.push(`<rect x="${x}" y="${(cy - sw / 2.6).toFixed(1)}" width="${sw.toFixed(1)}" height="${(sw / 1.3).toFixed(1)}" fill="none" stroke="${it.colour}" stroke-width="2"/>`);
    else if (it.kind === "line") parts.push(`<line x1="${x}" y1="${cy}" x2="${(x + sw).toFixed(1)}" y2="${cy}" stroke="${it.colour}" stroke-width="3"/>`);
    else parts.push(`<rect x="${x}" y="${(cy - sw / 2.6).toFixed(1)}" width="${sw.toFixed(1)}" height="${(sw / 1.3).toFixed(1)}" fill="${it.colour}"/>`);
    x += sw + 5;
    parts.push(`<text x="${x.toFixed(1)}" y="${(cy + font * 0.35).toFixed(1)}" font-family="${FONT_FAMILY}" font-size="${font}" fill="#222">${xmlEscape(it.label)}</text>`);
    x += it.label.length * font * 0.55 + 18;
  }
  const w = Math.max(widthPx, Math.ceil(x));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="white"/>${parts.join("")}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
