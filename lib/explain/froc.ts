import type { BoxPx } from "../types";
import { iou } from "./boxes";
import type { DetectionImage } from "./detection";

/**
 * FROC, as mammography CAD reports detection: lesion sensitivity against the mean number of
 * false-positive boxes per image, sweeping a threshold down the box scores.
 *
 * Definitions (documented in docs/EXPLAIN.md):
 * - A box **hits** a lesion of its own image under the chosen criterion:
 *   - `"iou"`: IoU(box, lesion) >= `iouThreshold` (default 0.25, the AP threshold);
 *   - `"centre"`: the box's centre lies inside the lesion box (x0 <= cx < x1, y0 <= cy < y1),
 *     the usual CAD "hit" (mil-pf.md section 12).
 * - At a threshold t, the boxes with score >= t are kept. A lesion is detected when at least one
 *   kept box hits it (each lesion counts once). A kept box that hits no lesion is a false
 *   positive; a second box on an already detected lesion is neither a hit nor a false positive
 *   (CAD convention: FROC counts lesions and false marks, not duplicates).
 * - Mean FPs per image = false positives / number of images (all images given, negatives
 *   included: every box of a negative image is a false positive).
 * - The curve has one point per distinct score (ties enter together), starting at (0, 0).
 */
export type HitCriterion = "iou" | "centre";

export interface FrocCurve {
  criterion: HitCriterion;
  iouThreshold: number;
  images: number;
  lesions: number;
  boxes: number;
  /** Mean false positives per image at each operating point (non-decreasing). */
  fpPerImage: number[];
  /** Lesion sensitivity at each operating point (non-decreasing). */
  sensitivity: number[];
  /** Score threshold of each operating point (+Infinity for the first point). */
  thresholds: number[];
}

/** True when `box` hits `lesion` under the criterion. */
export function boxHits(box: BoxPx, lesion: BoxPx, criterion: HitCriterion, iouThreshold = 0.25): boolean {
  if (criterion === "iou") return iou(box, lesion) >= iouThreshold;
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  return cx >= lesion.x0 && cx < lesion.x1 && cy >= lesion.y0 && cy < lesion.y1;
}

export function frocCurve(images: readonly DetectionImage[], opts: { criterion?: HitCriterion; iouThreshold?: number } = {}): FrocCurve {
  const criterion = opts.criterion ?? "iou";
  const t = opts.iouThreshold ?? 0.25;
  const all: { score: number; hits: number[]; imageIndex: number }[] = [];
  let lesions = 0;
  const offset: number[] = [];
  images.forEach((img, imageIndex) => {
    offset.push(lesions);
    lesions += img.groundTruth.length;
    for (const b of img.predictions) {
      const hits: number[] = [];
      img.groundTruth.forEach((g, k) => {
        if (boxHits(b, g, criterion, t)) hits.push(k);
      });
      all.push({ score: b.score, hits, imageIndex });
    }
  });
  all.sort((a, b) => b.score - a.score);
  const detected = new Uint8Array(lesions);
  let found = 0;
  let fp = 0;
  const nImg = Math.max(1, images.length);
  const curve: FrocCurve = { criterion, iouThreshold: t, images: images.length, lesions, boxes: all.length, fpPerImage: [0], sensitivity: [0], thresholds: [Infinity] };
  for (let i = 0; i < all.length; i++) {
    const p = all[i];
    if (p.hits.length === 0) fp++;
    for (const k of p.hits) {
      const g = offset[p.imageIndex] + k;
      if (!detected[g]) {
        detected[g] = 1;
        found++;
      }
    }
    // one operating point per distinct score: emit after the last box of a tie group
    if (i + 1 < all.length && all[i + 1].score === p.score) continue;
    curve.fpPerImage.push(fp / nImg);
    curve.sensitivity.push(lesions > 0 ? found / lesions : NaN);
    curve.thresholds.push(p.score);
  }
  return curve;
}

/**
 * Sensitivity at a false-positive rate: the highest sensitivity among the operating points with
 * mean FPs per image <= `fpPerImage`. When the curve ends below that rate (every box used) this
 * is the final sensitivity; NaN when there are no lesions.
 */
export function sensitivityAtFp(c: FrocCurve, fpPerImage: number): number {
  if (c.lesions === 0) return NaN;
  let best = 0;
  for (let i = 0; i < c.fpPerImage.length; i++) if (c.fpPerImage[i] <= fpPerImage + 1e-12 && c.sensitivity[i] > best) best = c.sensitivity[i];
  return best;
}

/** The FP rates the tables report. */
export const FROC_FP_RATES = [0.5, 1, 2] as const;

export interface FrocRow {
  method: string;
  criterion: HitCriterion;
  iouThreshold: number;
  images: number;
  lesions: number;
  boxes: number;
  /** Sensitivity at 0.5, 1 and 2 FP per image. */
  sensAt: Record<string, number>;
  /** Largest mean FP per image reached (all boxes used). */
  maxFpPerImage: number;
  /** Sensitivity with every box used. */
  maxSensitivity: number;
}

export function frocRow(method: string, images: readonly DetectionImage[], criterion: HitCriterion, iouThreshold = 0.25): FrocRow {
  const c = frocCurve(images, { criterion, iouThreshold });
  const sensAt: Record<string, number> = {};
  for (const f of FROC_FP_RATES) sensAt[String(f)] = sensitivityAtFp(c, f);
  return {
    method,
    criterion,
    iouThreshold,
    images: c.images,
    lesions: c.lesions,
    boxes: c.boxes,
    sensAt,
    maxFpPerImage: c.fpPerImage[c.fpPerImage.length - 1],
    maxSensitivity: c.lesions ? c.sensitivity[c.sensitivity.length - 1] : NaN,
  };
}
