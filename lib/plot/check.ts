import * as fs from "node:fs";
import * as path from "node:path";
import type { FigureSpec } from "./static-export";

/**
 * A figure check: what a reader needs from every exported figure. Returns the problems found
 * (empty = fine):
 * - an empty figure (no trace, or no trace with a point);
 * - a title missing (figure) or an axis that shows tick labels without a title;
 * - an unlabelled trace: no name, or hidden from the legend with nothing else naming it (a legend
 *   group with a shown trace, a panel title annotation on its axes, or a box at its own category);
 * - one colour used by different series (series = legendgroup, else name), counting the colours
 *   Plotly assigns by default (layout.colorway or Plotly's own, by trace index);
 * - a heat map without a titled colour bar.
 */

/** Plotly's default colorway (plotly.js src/components/color/attributes.js). */
export const PLOTLY_DEFAULT_COLORWAY = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
const text = (t: unknown): string => (typeof t === "string" ? t : isObj(t) && typeof t.text === "string" ? t.text : "").trim();

/** Trace types drawn without x/y axes. */
const NO_AXES = new Set(["pie", "sunburst", "treemap", "sankey", "table", "indicator", "parcoords", "parcats", "funnelarea"]);
/** Trace types coloured by a colour scale rather than one series colour. */
const SCALE_TYPES = new Set(["heatmap", "contour", "histogram2d", "histogram2dcontour", "surface", "image"]);

function points(tr: Obj): number {
  let n = 0;
  for (const k of ["x", "y", "z", "values", "r", "lat", "source"]) {
    const v = tr[k];
    if (Array.isArray(v)) n = Math.max(n, v.length);
    else if (v && typeof v === "object" && "length" in (v as object)) n = Math.max(n, Number((v as { length: number }).length));
  }
  return n;
}

/** The colour Plotly draws a trace in (explicit, else the colorway's by trace index); null for colour-scale traces. */
export function traceColour(tr: Obj, index: number, layout: Obj): string | null {
  const type = typeof tr.type === "string" ? tr.type : "scatter";
  if (SCALE_TYPES.has(type)) return null;
  const line = isObj(tr.line) ? tr.line : {};
  const marker = isObj(tr.marker) ? tr.marker : {};
  const explicit = [marker.color, line.color, tr.fillcolor].find((c) => typeof c === "string");
  if (typeof explicit === "string") return explicit.toLowerCase().replace(/\s+/g, "");
  if (Array.isArray(marker.color)) return null; // per-point colours: a colour scale, not a series colour
  const way = Array.isArray(layout.colorway) && layout.colorway.length ? (layout.colorway as string[]) : PLOTLY_DEFAULT_COLORWAY;
  return String(way[index % way.length]).toLowerCase();
}

const axisKey = (ref: unknown, letter: "x" | "y"): string => {
  const r = typeof ref === "string" && ref ? ref : letter;
  return `${letter}axis${r.slice(1)}`;
};

export function checkFigure(spec: FigureSpec, name = "figure"): string[] {
  const problems: string[] = [];
  if (!isObj(spec) || !Array.isArray(spec.data)) return [`${name}: not a figure spec (no data array)`];
  const layout: Obj = isObj(spec.layout) ? spec.layout : {};
  const data = spec.data.filter(isObj);
  if (data.length === 0 || data.every((t) => points(t) === 0)) problems.push(`${name}: empty figure (no trace with data)`);
  if (!text(layout.title)) problems.push(`${name}: no figure title`);

  // Axes that show tick labels need a title.
  const usedAxes = new Set<string>();
  for (const tr of data) {
    if (NO_AXES.has(String(tr.type))) continue;
    usedAxes.add(axisKey(tr.xaxis, "x"));
    usedAxes.add(axisKey(tr.yaxis, "y"));
  }
  for (const ax of usedAxes) {
    const a = isObj(layout[ax]) ? (layout[ax] as Obj) : {};
    if (a.visible === false || a.showticklabels === false) continue;
    if (!text(a.title)) problems.push(`${name}: axis ${ax} shows tick labels but has no title`);
  }

  // Panel titles: annotations positioned in an axis pair's domain. A title names the traces of
  // every panel whose x axis is the same (linked through `matches`: a panel stacked under it).
  const canonicalX = (ref: string): string => {
    let r = ref || "x";
    for (let hops = 0; hops < 50; hops++) {
      const a = layout[axisKey(r, "x")];
      if (!isObj(a) || typeof a.matches !== "string") break;
      r = a.matches;
    }
    return r;
  };
  const annotated = new Set<string>();
  for (const an of Array.isArray(layout.annotations) ? layout.annotations.filter(isObj) : []) {
    const xr = String(an.xref ?? "");
    const yr = String(an.yref ?? "");
    if (xr.endsWith(" domain") && yr.endsWith(" domain") && text(an.text)) annotated.add(canonicalX(xr.split(" ")[0]));
  }
  const legendShown = layout.showlegend !== false;
  const shownGroups = new Set(data.filter((t) => legendShown && t.showlegend !== false && typeof t.legendgroup === "string").map((t) => t.legendgroup as string));
  data.forEach((tr, i) => {
    const label = typeof tr.name === "string" ? tr.name.trim() : "";
    if (!label) {
      problems.push(`${name}: trace ${i} (${String(tr.type ?? "scatter")}) has no name`);
      return;
    }
    if (data.length < 2 || (legendShown && tr.showlegend !== false)) return;
    const inGroup = typeof tr.legendgroup === "string" && shownGroups.has(tr.legendgroup);
    const inPanel = annotated.has(canonicalX(String(tr.xaxis ?? "x")));
    // A box/violin drawn at its own category (x = its name) is named by the category axis.
    const xs = tr.x;
    const inCategory = (tr.type === "box" || tr.type === "violin") && (!Array.isArray(xs) || xs.every((v) => v === label));
    if (!inGroup && !inPanel && !inCategory) problems.push(`${name}: trace ${i} "${label}" is not in the legend and no legend entry or panel title names it`);
  });

  // One colour, one series.
  const bySeries = new Map<string, string>();
  data.forEach((tr, i) => {
    const c = traceColour(tr, i, layout);
    if (c === null) return;
    const series = typeof tr.legendgroup === "string" && tr.legendgroup ? `group ${tr.legendgroup}` : `name ${String(tr.name ?? i)}`;
    const other = bySeries.get(c);
    if (other === undefined) bySeries.set(c, series);
    else if (other !== series) problems.push(`${name}: colour ${c} is used by two series (${other}; ${series})`);
  });

  // Heat maps need a titled colour bar.
  data.forEach((tr, i) => {
    if (!SCALE_TYPES.has(String(tr.type)) || tr.type === "image") return;
    if (tr.showscale === false) problems.push(`${name}: heat map trace ${i} hides its colour bar`);
    else if (!isObj(tr.colorbar) || !text(tr.colorbar.title)) problems.push(`${name}: heat map trace ${i} has no colour bar title`);
  });
  return problems;
}

/** The figure specs (<name>.json with a data array) under a folder, recursively. */
export function findFigureSpecs(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findFigureSpecs(p));
    else if (e.isFile() && e.name.endsWith(".json")) {
      try {
        const j = JSON.parse(fs.readFileSync(p, "utf8")) as unknown;
        if (isObj(j) && Array.isArray(j.data)) out.push(p);
      } catch {
        // not JSON: not a figure spec
      }
    }
  }
  return out.sort();
}

/** Check every exported figure spec under a folder; returns the problems, each prefixed by its file. */
export function checkFigureTree(dir: string): { files: string[]; problems: string[] } {
  const files = findFigureSpecs(dir);
  const problems = files.flatMap((f) => checkFigure(JSON.parse(fs.readFileSync(f, "utf8")) as FigureSpec, path.relative(dir, f)));
  return { files, problems };
}
