import type { LesionBox } from "../types";
import { averagePrecision, lesionType, matchPredictions, type DetectionImage } from "./detection";
import { frocCurve, sensitivityAtFp } from "./froc";
import type { TileRect } from "./heatmap";
import { redistributedMap, sharpBoxesFromRegions, sharpRegions, sharpSource, describeSharp, PROTOCOL_LIKE, type SharpParams } from "./sharp";

/**
 * Choosing the `sharp` parameters on the validation split, automatically: every combination of a
 * grid of the four options is applied to the validation images (tile attention computed once per
 * overlap), and the combination with the best objective is returned, with the whole table so the
 * comparison can be reported. The objective is the mean of AP@IoU 0.25 over all lesions and the
 * lesion sensitivity at 1 false positive per image (IoU 0.25 hit): the two numbers the detection
 * tables lead with. Ties keep the earlier grid entry (the simpler option comes first in each axis).
 */
export interface SelectionImage {
  imageId: string;
  workingSizePx: number;
  tiles: readonly TileRect[];
  attention: ArrayLike<number>;
  contribution: ArrayLike<number>;
  /** The head's probability of the image's bag. */
  probability: number;
  groundTruth: LesionBox[];
}

export interface SharpGrid {
  source: SharpParams["source"][];
  overlap: number[];
  iterations: number[];
  peakFraction: (number | null)[];
  momentK: (number | null)[];
  /** Smallest box side at 4096 px (null = none); see SharpParams.minSideProtocolPx. */
  minSideProtocolPx: (number | null)[];
  scoreBy: SharpParams["scoreBy"][];
  probabilityWeighted: boolean[];
  mapScale: number;
}

/** The grid measured by default (first entry of each axis = the protocol's behaviour). */
export const DEFAULT_SHARP_GRID: SharpGrid = {
  source: ["attention", "contribution"],
  overlap: [0.75, 0.875],
  iterations: [1, 10, 30, 60],
  peakFraction: [null, 0.3, 0.5, 0.7],
  momentK: [null, Math.sqrt(3), 2.5],
  minSideProtocolPx: [null, 128],
  scoreBy: ["mass", "peak"],
  probabilityWeighted: [false, true],
  mapScale: 0.25,
};

export interface SelectionRow {
  params: SharpParams;
  description: string;
  ap: number;
  apMass: number;
  apCalcification: number;
  sensAt1: number;
  objective: number;
  boxes: number;
}

export interface SharpSelection {
  chosen: SharpParams;
  chosenRow: SelectionRow;
  objective: string;
  split: string;
  images: number;
  lesions: number;
  /** Every grid entry, in grid order. */
  rows: SelectionRow[];
  /** Protocol-like start and each option alone at its best value, then the chosen combination. */
  ablation: (SelectionRow & { step: string })[];
}

/** AP (all, mass, calcification) at IoU 0.25 and sensitivity at 1 FP/image of a set of images. */
export function detectionSummary(images: readonly DetectionImage[]): { ap: number; apMass: number; apCalcification: number; sensAt1: number; boxes: number } {
  const matched = matchPredictions(images, 0.25);
  const ap = averagePrecision(images, matched).ap;
  const apMass = averagePrecision(images, matched, (g) => lesionType(g.kind) === "mass").ap;
  const apCalcification = averagePrecision(images, matched, (g) => lesionType(g.kind) === "calcification").ap;
  const sensAt1 = sensitivityAtFp(frocCurve(images, { criterion: "iou", iouThreshold: 0.25 }), 1);
  return { ap, apMass, apCalcification, sensAt1, boxes: matched.length };
}

const objectiveOf = (ap: number, sens: number): number => ((Number.isFinite(ap) ? ap : 0) + (Number.isFinite(sens) ? sens : 0)) / 2;

/**
 * Evaluate the grid on the validation images (`byOverlap`: the same images scored at each overlap
 * of the grid) and choose the parameters. Throws when an overlap of the grid has no images or
 * the images have no lesion (nothing to choose on).
 */
export function selectSharpParams(
  byOverlap: ReadonlyMap<number, readonly SelectionImage[]>,
  grid: SharpGrid = DEFAULT_SHARP_GRID,
  opts: { split?: string; onProgress?: (done: number, total: number) => void } = {},
): SharpSelection {
  const rows: SelectionRow[] = [];
  let lesions = 0;
  let nImages = 0;
  const total = grid.source.length * grid.overlap.length * grid.iterations.length;
  let done = 0;
  for (const source of grid.source) for (const overlap of grid.overlap) {
    const images = byOverlap.get(overlap);
    if (!images || images.length === 0) throw new Error(`selectSharpParams: no validation images scored at overlap ${overlap}`);
    nImages = images.length;
    lesions = images.reduce((s, i) => s + i.groundTruth.length, 0);
    if (lesions === 0) throw new Error("selectSharpParams: the validation images have no annotated lesion; nothing to choose the sharp parameters on");
    for (const iterations of grid.iterations) {
      const maps = images.map((img) => {
        const n = Math.max(1, Math.round(img.workingSizePx * grid.mapScale));
        return img.tiles.length ? redistributedMap(img.workingSizePx, img.tiles, sharpSource({ source }, img.attention, img.contribution), { outSizePx: n, iterations }) : null;
      });
      for (const peakFraction of grid.peakFraction) {
        // the regions depend only on the map and the peak fraction: grown once, boxed many ways
        const regions = maps.map((m) => (m ? sharpRegions(m.values, m.sizePx, m.coverage, { peakFraction, quantile: PROTOCOL_LIKE.quantile }) : null));
        for (const momentK of grid.momentK) for (const minSideProtocolPx of grid.minSideProtocolPx) for (const scoreBy of grid.scoreBy) {
          const base: SharpParams = { ...PROTOCOL_LIKE, source, overlap, mapScale: grid.mapScale, iterations, peakFraction, momentK, minSideProtocolPx, scoreBy, probabilityWeighted: false };
          // boxes do not depend on the probability weighting, only their scores: extract once
          const unweighted = images.map((img, k) => {
            const m = maps[k];
            const r = regions[k];
            if (!m || !r) return [];
            const back = img.workingSizePx / m.sizePx;
            return sharpBoxesFromRegions(m.values, r, base).map((b) => ({ x0: b.x0 * back, y0: b.y0 * back, x1: b.x1 * back, y1: b.y1 * back, score: b.score }));
          });
          for (const probabilityWeighted of grid.probabilityWeighted) {
            const params: SharpParams = { ...base, probabilityWeighted };
            const det: DetectionImage[] = images.map((img, k) => ({
              imageId: img.imageId,
              groundTruth: img.groundTruth,
              predictions: unweighted[k].map((b) => ({ ...b, score: b.score * (probabilityWeighted ? img.probability : 1) })),
            }));
            const s = detectionSummary(det);
            rows.push({ params, description: describeSharp(params), ...s, objective: objectiveOf(s.ap, s.sensAt1) });
          }
        }
      }
      opts.onProgress?.(++done, total);
    }
  }
  let best = rows[0];
  for (const r of rows) if (r.objective > best.objective) best = r;
  return {
    chosen: best.params,
    chosenRow: best,
    objective: "mean of AP@IoU0.25 (all lesions) and sensitivity at 1 FP/image (IoU 0.25)",
    split: opts.split ?? "val",
    images: nImages,
    lesions,
    rows,
    ablation: ablationRows(rows, grid, best),
  };
}

/** Protocol-like start, each option alone (best value on the grid), the chosen combination. */
function ablationRows(rows: readonly SelectionRow[], grid: SharpGrid, best: SelectionRow): (SelectionRow & { step: string })[] {
  const start: SharpParams = { ...PROTOCOL_LIKE, source: grid.source[0], mapScale: grid.mapScale, overlap: grid.overlap[0], iterations: grid.iterations[0], peakFraction: grid.peakFraction[0], momentK: grid.momentK[0], minSideProtocolPx: grid.minSideProtocolPx[0], scoreBy: grid.scoreBy[0], probabilityWeighted: grid.probabilityWeighted[0] };
  const same = (a: SharpParams, b: SharpParams, except: keyof SharpParams | null): boolean =>
    (["source", "overlap", "iterations", "peakFraction", "momentK", "minSideProtocolPx", "scoreBy", "probabilityWeighted"] as const).every((k) => k === except || a[k] === b[k]);
  const out: (SelectionRow & { step: string })[] = [];
  const startRow = rows.find((r) => same(r.params, start, null));
  if (startRow) out.push({ ...startRow, step: "protocol-like (grid start)" });
  const names: [keyof SharpParams, string][] = [
    ["source", "contribution map only"],
    ["overlap", "finer stride only"],
    ["iterations", "per-tile normalisation only"],
    ["peakFraction", "peak-relative threshold only"],
    ["momentK", "moment boxes only"],
    ["minSideProtocolPx", "minimum box side only"],
    ["scoreBy", "peak score only"],
    ["probabilityWeighted", "score x probability only"],
  ];
  for (const [k, step] of names) {
    const cands = rows.filter((r) => same(r.params, start, k) && r.params[k] !== start[k]);
    if (cands.length === 0) continue;
    const b = cands.reduce((x, y) => (y.objective > x.objective ? y : x));
    out.push({ ...b, step });
  }
  out.push({ ...best, step: "chosen (all options)" });
  return out;
}
