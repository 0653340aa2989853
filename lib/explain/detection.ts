import type { BoxPx, LesionBox } from "../types";
import { boxArea, iou, type ScoredBox } from "./boxes";

/**
 * Detection metric of the paper's Table 3: average precision at IoU >= 0.25 by the area method,
 * overall, by size bucket and by lesion type.
 *
 * Matching (as in the public reference code, VOC style): all predictions of all images in
 * decreasing score order (ties keep input order); each is compared with the ground-truth boxes of
 * ITS image; its best-IoU box is taken if IoU >= threshold and that box is still unmatched (TP),
 * otherwise it is a false positive (a second hit on a matched box is a duplicate = FP).
 *
 * Subsets (size bucket, lesion type) follow COCO's area-range rule: ground truths outside the
 * subset become "ignored": a prediction whose best-IoU box (>= threshold) is an ignored one is
 * neither TP nor FP in that subset; predictions that overlap no ground truth count as FP in every
 * subset; the recall denominator is the number of ground truths in the subset.
 *
 * AP (area method): precision made monotone from the right (the envelope), then summed over the
 * recall steps, with sentinels (recall 0, precision 0) and (recall 1, precision 0). NaN when the
 * subset has no ground truth; 0 when it has some but no prediction hits.
 */

export interface DetectionImage {
  imageId: string;
  predictions: ScoredBox[];
  groundTruth: LesionBox[];
}

export type SizeBucket = "small" | "medium" | "large";
export type LesionType = "mass" | "calcification" | "other";

/** Bucket edges of the protocol: 128 px and 256 px box sides at 4096 px. */
export const PROTOCOL_RESOLUTION_PX = 4096;
export const BUCKET_SIDES_PX = { small: 128, large: 256 } as const;

/**
 * Size bucket of a box area at frame resolution `resolutionPx`: the protocol edges 128^2 and
 * 256^2 px^2 (stated at 4096 px) scaled by (resolutionPx / 4096)^2, i.e. the same fraction of
 * the image. small: area < e1; medium: e1 <= area < e2; large: area >= e2.
 */
export function sizeBucket(areaPx: number, resolutionPx: number = PROTOCOL_RESOLUTION_PX): SizeBucket {
  const k = resolutionPx / PROTOCOL_RESOLUTION_PX;
  const e1 = (BUCKET_SIDES_PX.small * k) ** 2;
  const e2 = (BUCKET_SIDES_PX.large * k) ** 2;
  return areaPx < e1 ? "small" : areaPx < e2 ? "medium" : "large";
}

/** Lesion type from a dataset's category text ("Mass", "Suspicious Calcification", ...). */
export function lesionType(kind: string): LesionType {
  const k = kind.toLowerCase();
  if (k.includes("calc")) return "calcification";
  if (k.includes("mass")) return "mass";
  return "other";
}

/** AP by the area method from recall/precision points in decreasing-score order. */
export function averagePrecisionArea(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec[n + 1] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i];
    mpre[i + 1] = precision[i];
  }
  for (let i = n; i >= 1; i--) mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]);
  let ap = 0;
  for (let i = 0; i < n + 1; i++) {
    if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  }
  return ap;
}

/** One prediction after matching: which ground truth (image index, box index) it hit, if any. */
export interface MatchedPrediction {
  score: number;
  imageIndex: number;
  /** Index of the best-IoU ground truth of its image when IoU >= threshold, else -1. */
  gtIndex: number;
  /** True when it was the first to claim that ground truth (a true positive overall). */
  first: boolean;
}

/** Greedy matching of all predictions (see the module comment). */
export function matchPredictions(images: readonly DetectionImage[], iouThreshold = 0.25): MatchedPrediction[] {
  const all: { score: number; imageIndex: number; box: BoxPx; order: number }[] = [];
  images.forEach((img, imageIndex) =>
    img.predictions.forEach((box) => all.push({ score: box.score, imageIndex, box, order: all.length })),
  );
  all.sort((a, b) => b.score - a.score || a.order - b.order);
  const taken = images.map((img) => new Uint8Array(img.groundTruth.length));
  return all.map((p) => {
    const gts = images[p.imageIndex].groundTruth;
    let best = -1;
    let bestIou = -1;
    for (let g = 0; g < gts.length; g++) {
      const v = iou(p.box, gts[g]);
      if (v > bestIou) {
        bestIou = v;
        best = g;
      }
    }
    if (best < 0 || bestIou < iouThreshold) return { score: p.score, imageIndex: p.imageIndex, gtIndex: -1, first: false };
    const first = taken[p.imageIndex][best] === 0;
    taken[p.imageIndex][best] = 1;
    return { score: p.score, imageIndex: p.imageIndex, gtIndex: best, first };
  });
}

export interface ApResult {
  ap: number;
  gtCount: number;
  truePositives: number;
  falsePositives: number;
  recall: number[];
  precision: number[];
}

/**
 * AP over a subset of ground truths (`inSubset(gt)`; all by default) from matched predictions.
 */
export function averagePrecision(
  images: readonly DetectionImage[],
  matched: readonly MatchedPrediction[],
  inSubset: (gt: LesionBox) => boolean = () => true,
): ApResult {
  let gtCount = 0;
  for (const img of images) for (const g of img.groundTruth) if (inSubset(g)) gtCount++;
  let tp = 0;
  let fp = 0;
  const recall: number[] = [];
  const precision: number[] = [];
  for (const m of matched) {
    if (m.gtIndex >= 0) {
      const gt = images[m.imageIndex].groundTruth[m.gtIndex];
      if (!inSubset(gt)) continue; // matched to an ignored ground truth
      if (m.first) tp++;
      else fp++;
    } else {
      fp++;
    }
    recall.push(gtCount > 0 ? tp / gtCount : 0);
    precision.push(tp / (tp + fp));
  }
  const ap = gtCount === 0 ? NaN : averagePrecisionArea(recall, precision);
  return { ap, gtCount, truePositives: tp, falsePositives: fp, recall, precision };
}

/** One row of the Table 3-style detection table. */
export interface DetectionRow {
  /** Which box method produced the predictions ("protocol", "sharp"). */
  method: string;
  lesionType: "all" | LesionType;
  resolutionPx: number;
  iouThreshold: number;
  ap: number;
  apSmall: number;
  apMedium: number;
  apLarge: number;
  gtCount: number;
  gtSmall: number;
  gtMedium: number;
  gtLarge: number;
  predictionCount: number;
  /** Number of images evaluated (negatives included). */
  imageCount: number;
}

/**
 * The detection table: one row for all lesions and one per lesion type present (mass,
 * calcification, other), with AP overall and by size bucket. Boxes are in a frame of side
 * `resolutionPx` (the bucket edges are scaled to it, see `sizeBucket`).
 */
export function detectionTable(
  images: readonly DetectionImage[],
  opts: { resolutionPx: number; iouThreshold?: number; lesionTypes?: LesionType[]; method?: string },
): DetectionRow[] {
  const t = opts.iouThreshold ?? 0.25;
  const matched = matchPredictions(images, t);
  const present = new Set<LesionType>();
  for (const img of images) for (const g of img.groundTruth) present.add(lesionType(g.kind));
  const types = opts.lesionTypes ?? (["mass", "calcification", "other"] as LesionType[]).filter((k) => present.has(k));
  const rows: DetectionRow[] = [];
  for (const type of ["all" as const, ...types]) {
    const ofType = (g: LesionBox): boolean => type === "all" || lesionType(g.kind) === type;
    const inBucket = (b: SizeBucket) => (g: LesionBox) => ofType(g) && sizeBucket(boxArea(g), opts.resolutionPx) === b;
    const all = averagePrecision(images, matched, ofType);
    const s = averagePrecision(images, matched, inBucket("small"));
    const m = averagePrecision(images, matched, inBucket("medium"));
    const l = averagePrecision(images, matched, inBucket("large"));
    rows.push({
      method: opts.method ?? "protocol",
      lesionType: type,
      resolutionPx: opts.resolutionPx,
      iouThreshold: t,
      ap: all.ap,
      apSmall: s.ap,
      apMedium: m.ap,
      apLarge: l.ap,
      gtCount: all.gtCount,
      gtSmall: s.gtCount,
      gtMedium: m.gtCount,
      gtLarge: l.gtCount,
      predictionCount: matched.length,
      imageCount: images.length,
    });
  }
  return rows;
}
