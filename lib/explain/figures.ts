import * as fs from "node:fs";
import * as path from "node:path";
import sharp, { type OverlayOptions } from "sharp";
import { readJson } from "../util/atomic";
import { resolveProjectPath } from "../util/paths";
import { averagePrecision, lesionType, matchPredictions, type DetectionImage } from "./detection";
import type { ExplainSummary } from "./runExplain";

/** Read out/explain.json written by runExplain (project-relative or absolute folder). */
export function readExplainSummary(outDir: string): ExplainSummary {
  const file = path.join(resolveProjectPath(outDir), "explain.json");
  const s = readJson<ExplainSummary>(file);
  if (!Array.isArray(s.cases) || !Array.isArray(s.detection)) throw new Error(`${file}: not an explain summary (no cases/detection)`);
  return s;
}

/** The detection inputs (boxes and ground truth per image, working frame) stored in a summary. */
export function detectionImagesFromSummary(s: ExplainSummary): DetectionImage[] {
  return s.cases.flatMap((c) => c.images.map((i) => ({ imageId: i.imageId, predictions: i.boxes, groundTruth: i.lesionsWorking })));
}

export interface MontageOptions {
  /** Cases of this label only (default both). */
  label?: 0 | 1;
  /** At most this many cases (rows; default 3). */
  maxCases?: number;
  /** Which overlay (default "attention"). */
  map?: "attention" | "contribution";
  /** Width of each view in the montage (default 256). */
  cellWidthPx?: number;
}

/**
 * A PNG montage of case overlays: one row per case (bag), its views side by side, in the order
 * of the summary (positives first). The cases listed are returned for a caption.
 */
export async function caseMontage(outDir: string, s: ExplainSummary, opts: MontageOptions = {}): Promise<{ png: Buffer; cases: { breastId: string; label: number; probability: number }[] }> {
  const root = resolveProjectPath(outDir);
  const chosen = s.cases.filter((c) => opts.label === undefined || c.label === opts.label).slice(0, opts.maxCases ?? 3);
  if (chosen.length === 0) throw new Error(`caseMontage: no case${opts.label === undefined ? "" : ` with label ${opts.label}`} in ${root}`);
  const w = opts.cellWidthPx ?? 256;
  const gap = 4;
  const cols = Math.max(...chosen.map((c) => c.images.length));
  const layers: OverlayOptions[] = [];
  let y = 0;
  for (const c of chosen) {
    let rowH = 0;
    for (const [k, img] of c.images.entries()) {
      const file = path.join(root, opts.map === "contribution" ? img.contributionOverlay : img.attentionOverlay);
      if (!fs.existsSync(file)) throw new Error(`${file}: overlay missing (re-run milpf explain)`);
      const buf = await sharp(file).resize({ width: w }).png().toBuffer();
      const meta = await sharp(buf).metadata();
      rowH = Math.max(rowH, meta.height ?? w);
      layers.push({ input: buf, left: k * (w + gap), top: y });
    }
    y += rowH + gap;
  }
  const png = await sharp({ create: { width: cols * (w + gap) - gap, height: Math.max(1, y - gap), channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layers)
    .png()
    .toBuffer();
  return { png, cases: chosen.map((c) => ({ breastId: c.breastId, label: c.label, probability: c.probability })) };
}

/** The bytes of a file written by runExplain (path relative to the output folder). */
export function readExplainFile(outDir: string, relFile: string): Buffer {
  return fs.readFileSync(path.join(resolveProjectPath(outDir), relFile));
}

/** A Plotly figure of the precision-recall curves (all lesions and per type) behind the AP table. */
export function precisionRecallFigure(s: ExplainSummary): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const images = detectionImagesFromSummary(s);
  const iouThreshold = s.detection[0]?.iouThreshold ?? 0.25;
  const matched = matchPredictions(images, iouThreshold);
  const data: Record<string, unknown>[] = [];
  for (const type of ["all", "mass", "calcification"] as const) {
    const r = averagePrecision(images, matched, (g) => type === "all" || lesionType(g.kind) === type);
    if (r.gtCount === 0) continue;
    data.push({
      type: "scatter",
      mode: "lines",
      line: { shape: "hv" },
      name: `${type} (AP ${Number.isFinite(r.ap) ? r.ap.toFixed(3) : "-"}, ${r.gtCount} GT)`,
      x: [0, ...r.recall],
      y: [1, ...r.precision],
    });
  }
  return {
    data,
    layout: {
      title: { text: `Precision-recall of the attention boxes (IoU >= ${iouThreshold}, ${s.params.workingSizePx} px frame)` },
      xaxis: { title: { text: "recall" }, range: [0, 1.02] },
      yaxis: { title: { text: "precision" }, range: [0, 1.02] },
      width: 640,
      height: 420,
    },
  };
}

/** One row per explained case (breast): label, bag probability, tiles, predicted boxes. */
export function caseRows(s: ExplainSummary): { breast: string; label: number; probability: number; tiles: number; views: number; boxes: number; lesions: number }[] {
  return s.cases.map((c) => ({
    breast: c.breastId,
    label: c.label,
    probability: Number(c.probability.toFixed(4)),
    tiles: c.tileCount,
    views: c.images.length,
    boxes: c.images.reduce((n, i) => n + i.boxes.length, 0),
    lesions: c.images.reduce((n, i) => n + i.lesionsWorking.length, 0),
  }));
}

/** Caption of the detection table, stating the frame resolution and the scaled bucket edges. */
export function detectionCaption(s: ExplainSummary): string {
  const res = s.params.workingSizePx;
  const k = res / 4096;
  return (
    `Detection AP at IoU >= ${s.detection[0]?.iouThreshold ?? 0.25} (area method) of the attention boxes over ${s.cases.length} cases; ` +
    `boxes in the ${res} px working frame, size buckets small < ${128 * k}^2, medium < ${256 * k}^2, large >= ${256 * k}^2 px^2 ` +
    `(the protocol's 128^2 / 256^2 at 4096 px)`
  );
}

/** One line on what ran: cases, time, encoder and provider, frame, tiles and overlap. */
export function describeExplain(s: ExplainSummary): string {
  return (
    `${s.cases.length} cases explained (${s.skipped.length} skipped) in ${s.seconds.toFixed(1)} s; ` +
    `encoder ${String(s.provenance.encoder ?? "?")} on ${String(s.provenance.provider ?? "?")}; ` +
    `working frame ${s.params.workingSizePx} px, tiles ${s.params.tileSizePx} px at ${Math.round(s.params.overlap * 100)} % overlap` +
    (s.skipped.length ? `; skipped: ${s.skipped.map((k) => `${k.breastId} (${k.error})`).join("; ")}` : "")
  );
}
