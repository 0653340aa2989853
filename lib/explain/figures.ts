import * as fs from "node:fs";
import * as path from "node:path";
import sharp, { type OverlayOptions } from "sharp";
import { readJson } from "../util/atomic";
import { resolveProjectPath } from "../util/paths";
import { averagePrecision, lesionType, matchPredictions, type DetectionImage } from "./detection";
import { frocCurve, sensitivityAtFp } from "./froc";
import type { ExplainSummary } from "./runExplain";

/** Read out/explain.json written by runExplain (project-relative or absolute folder). */
export function readExplainSummary(outDir: string): ExplainSummary {
  const file = path.join(resolveProjectPath(outDir), "explain.json");
  const s = readJson<ExplainSummary>(file);
  if (!Array.isArray(s.cases) || !Array.isArray(s.detection)) throw new Error(`${file}: not an explain summary (no cases/detection)`);
  return s;
}

/** The detection inputs (boxes and ground truth per image, working frame) of one method stored in a summary. */
export function detectionImagesFromSummary(s: ExplainSummary, method: "protocol" | "sharp" = "protocol"): DetectionImage[] {
  return s.cases.flatMap((c) => c.images.map((i) => ({ imageId: i.imageId, predictions: method === "sharp" ? i.sharpBoxes : i.boxes, groundTruth: i.lesionsWorking })));
}

const METHOD_COLOURS = { protocol: "#d62728", sharp: "#1f77b4" } as const;

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

/**
 * A Plotly figure of the precision-recall curves behind the AP table, both methods (protocol red,
 * sharp blue): all lesions solid, masses dashed, calcifications dotted.
 */
export function precisionRecallFigure(s: ExplainSummary): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const iouThreshold = s.detection[0]?.iouThreshold ?? 0.25;
  const data: Record<string, unknown>[] = [];
  for (const method of ["protocol", "sharp"] as const) {
    const images = detectionImagesFromSummary(s, method);
    const matched = matchPredictions(images, iouThreshold);
    for (const type of ["all", "mass", "calcification"] as const) {
      const r = averagePrecision(images, matched, (g) => type === "all" || lesionType(g.kind) === type);
      if (r.gtCount === 0) continue;
      data.push({
        type: "scatter",
        mode: "lines",
        legendgroup: method,
        legendgrouptitle: { text: method },
        line: { shape: "hv", color: METHOD_COLOURS[method], dash: type === "all" ? "solid" : type === "mass" ? "dash" : "dot" },
        name: `${method}, ${type} (AP ${Number.isFinite(r.ap) ? r.ap.toFixed(3) : "-"}, ${r.gtCount} lesions)`,
        x: [0, ...r.recall],
        y: [1, ...r.precision],
      });
    }
  }
  return {
    data,
    layout: {
      title: { text: `Precision-recall, protocol vs sharp (IoU >= ${iouThreshold}, ${s.params.workingSizePx} px frame, ${detectionImagesFromSummary(s).length} images)` },
      xaxis: { title: { text: "recall" }, range: [0, 1.02] },
      yaxis: { title: { text: "precision" }, range: [0, 1.02] },
      width: 720,
      height: 460,
    },
  };
}

/**
 * The FROC figure: lesion sensitivity against mean false positives per image, both methods
 * (protocol red, sharp blue), IoU >= 0.25 hits solid and centre-in-lesion hits dashed; the x axis
 * is cut at `maxFp` (default 4) with the 0.5 / 1 / 2 FP marks as grid lines.
 */
export function frocFigure(s: ExplainSummary, opts: { maxFp?: number } = {}): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const data: Record<string, unknown>[] = [];
  for (const method of ["protocol", "sharp"] as const) {
    const images = detectionImagesFromSummary(s, method);
    for (const criterion of ["iou", "centre"] as const) {
      const c = frocCurve(images, { criterion, iouThreshold: 0.25 });
      const at1 = sensitivityAtFp(c, 1);
      data.push({
        type: "scatter",
        mode: "lines",
        legendgroup: method,
        legendgrouptitle: { text: method },
        line: { shape: "hv", color: METHOD_COLOURS[method], dash: criterion === "iou" ? "solid" : "dash" },
        name: `${method}, ${criterion === "iou" ? "IoU >= 0.25" : "centre in lesion"} (sens@1FP ${Number.isFinite(at1) ? at1.toFixed(2) : "-"})`,
        x: c.fpPerImage,
        y: c.sensitivity,
      });
    }
  }
  const n = detectionImagesFromSummary(s).length;
  return {
    data,
    layout: {
      title: { text: `FROC over ${n} images (${s.params.split} split), protocol vs sharp` },
      xaxis: { title: { text: "mean false positives per image" }, range: [0, opts.maxFp ?? 4], tickvals: [0, 0.5, 1, 2, 3, 4] },
      yaxis: { title: { text: "lesion sensitivity" }, range: [0, 1.02] },
      width: 720,
      height: 460,
    },
  };
}

/** One row per explained case (breast): label, bag probability, tiles, predicted boxes. */
export function caseRows(s: ExplainSummary): { breast: string; label: number; probability: number; tiles: number; views: number; boxes: number; sharpBoxes: number; lesions: number }[] {
  return s.cases.map((c) => ({
    breast: c.breastId,
    label: c.label,
    probability: Number(c.probability.toFixed(4)),
    tiles: c.tileCount,
    views: c.images.length,
    boxes: c.images.reduce((n, i) => n + i.boxes.length, 0),
    sharpBoxes: c.images.reduce((n, i) => n + (i.sharpBoxes?.length ?? 0), 0),
    lesions: c.images.reduce((n, i) => n + i.lesionsWorking.length, 0),
  }));
}

/** Caption of the detection table, stating the frame resolution and the scaled bucket edges. */
export function detectionCaption(s: ExplainSummary): string {
  const res = s.params.workingSizePx;
  const k = res / 4096;
  return (
    `Detection AP at IoU >= ${s.detection[0]?.iouThreshold ?? 0.25} (area method) of the attention boxes, the paper's protocol and the sharp method (${s.sharp?.description ?? "?"}; ${s.sharp?.source ?? "?"}), over ${s.cases.length} breasts of the ${s.params.split} split; ` +
    `boxes in the ${res} px working frame, size buckets small < ${128 * k}^2, medium < ${256 * k}^2, large >= ${256 * k}^2 px^2 ` +
    `(the protocol's 128^2 / 256^2 at 4096 px)`
  );
}

/** One line on what ran: cases, time, encoder and provider, frame, tiles and overlap. */
export function describeExplain(s: ExplainSummary): string {
  return (
    `${s.cases.length} cases explained (${s.skipped.length} skipped) in ${s.seconds.toFixed(1)} s; ` +
    `encoder ${String(s.provenance.encoder ?? "?")} on ${String(s.provenance.provider ?? "?")}; ` +
    `working frame ${s.params.workingSizePx} px, tiles ${s.params.tileSizePx} px at ${Math.round(s.params.overlap * 100)} % overlap; ` +
    (s.work ? `work: ${s.work.casesExplained} case(s) explained${s.work.reasons ? ` (${s.work.reasons})` : ""}, ${s.work.casesReused} reused, sharp selection ${s.work.selection}` : "") +
    (s.skipped.length ? `; skipped: ${s.skipped.map((k) => `${k.breastId} (${k.error})`).join("; ")}` : "")
  );
}
