import type { ImageTransform, LesionBox, TileRecord, TilingParams } from "../types";
import { selectTiles } from "../tiling/grid";
import { writeTileEncoderInput, type EncoderInputSpec } from "../embed/input";
import { gaussianBlur } from "../preprocess/morphology";
import { boxesFromHeatmap, type ScoredBox } from "./boxes";
import { PROTOCOL_RESOLUTION_PX } from "./detection";
import { workingBoxToOriginal } from "./frames";
import { attentionHeatmapWithCoverage } from "./heatmap";
import { concatTyped } from "../util/arrays";

/**
 * The explanation of one bag (breast): every view tiled at the explanation overlap (75 % by
 * default) with the tiling stage's tissue rule, all tiles embedded with the run's encoder, the bag
 * scored once by the trained head (attention = softmax over ALL tiles of the bag, all views, as in
 * training), then per image: heat maps of attention and of contribution, and boxes.
 */

/** What the explain stage needs from an encoder (lib/embed's Encoder satisfies it). */
export interface TileEmbedder extends EncoderInputSpec {
  /** `count` grey images of inputSizePx^2 in [0, 1], row-major -> count x dim embeddings. */
  embed(batch: Float32Array, count: number): Promise<Float32Array>;
}

/** What the explain stage needs from a trained head (lib/head's TrainedHead satisfies it). */
export interface BagScorer {
  scoreBag(
    globals: Float32Array,
    nGlobal: number,
    tiles: Float32Array,
    nTiles: number,
  ): { logit: number; probability: number; tileAttention: Float32Array; tileContribution: Float32Array };
}

/** One view of the bag, decoded. */
export interface ExplainImageInput {
  imageId: string;
  /** 16-bit working image, square of side workingSizePx ([0, 1] = value / 65535). */
  working: Uint16Array;
  workingSizePx: number;
  /** Breast mask of the working image (1 = tissue) for the tissue rule. */
  mask: Uint8Array;
  /** The global view at the encoder input size, [0, 1]. */
  globalView: Float32Array;
  lesionsWorking: LesionBox[];
  transform: ImageTransform;
}

export interface ExplainParams {
  /** Tile overlap for the maps (default 0.75). */
  overlap: number;
  /** Tiling rule and tile size (from the manifest's TilingParams). */
  tiling: Pick<TilingParams, "tileSizePx" | "tissueRule" | "minTissueFraction" | "meanIntensityFactor">;
  /** Tiles per encoder call (default 32). */
  batchSize?: number;
  /** Side of the maps (default workingSizePx). */
  mapSizePx?: number;
  /** Box quantile (default 0.95), NMS IoU (default 0.5), max boxes (default 100). */
  quantile?: number;
  nmsIou?: number;
  maxBoxes?: number;
  /**
   * Minimum component area at the protocol resolution (default 1024 px^2 at 4096 px); scaled to
   * the map by (mapSizePx / 4096)^2, e.g. 64 px^2 for a 1024 px map.
   */
  minAreaProtocolPx?: number;
  /**
   * Gaussian sigma (working-frame pixels) applied to the attention map before box extraction
   * (default 0 = none). The public reference code smooths its maps; the protocol text does not
   * mention it. `attentionMap` itself is always the unsmoothed per-pixel mean.
   */
  smoothSigmaPx?: number;
  /** Called after each encoder batch with the number of tiles done. */
  onTiles?: (n: number) => void;
}

export interface ImageExplanation {
  imageId: string;
  tiles: TileRecord[];
  /** Bag-level attention of this image's tiles (not renormalised per image). */
  attention: Float32Array;
  contribution: Float32Array;
  mapSizePx: number;
  /** Per-pixel mean attention of the covering tiles (0 where no tile). */
  attentionMap: Float32Array;
  contributionMap: Float32Array;
  coverage: Uint16Array;
  /** Predicted boxes in the working frame (pixels of workingSizePx). */
  boxes: ScoredBox[];
  /** The same boxes in the original DICOM frame. */
  boxesOriginal: ScoredBox[];
  lesionsWorking: LesionBox[];
  transform: ImageTransform;
}

export interface BagExplanation {
  logit: number;
  probability: number;
  tileCount: number;
  images: ImageExplanation[];
}

/** Embed tiles of one image in batches. */
async function embedTiles(
  img: ExplainImageInput,
  tiles: readonly TileRecord[],
  encoder: TileEmbedder,
  batchSize: number,
  onTiles?: (n: number) => void,
): Promise<Float32Array[]> {
  const S = encoder.inputSizePx;
  const out: Float32Array[] = [];
  for (let start = 0; start < tiles.length; start += batchSize) {
    const count = Math.min(batchSize, tiles.length - start);
    const batch = new Float32Array(count * S * S);
    // Same crop and resize as the embed stage (lib/embed/input.ts), so the explained tiles are
    // the tiles the head was trained on.
    for (let b = 0; b < count; b++) await writeTileEncoderInput(img.working, img.workingSizePx, tiles[start + b], encoder, batch, b * S * S);
    out.push(await encoder.embed(batch, count));
    onTiles?.(count);
  }
  return out;
}

/** The tiles of every view of a bag with the head's attention and contribution (no maps yet). */
export interface ScoredBagTiles {
  logit: number;
  probability: number;
  tileCount: number;
  images: { imageId: string; workingSizePx: number; tiles: TileRecord[]; attention: Float32Array; contribution: Float32Array }[];
}

/**
 * Tile every view of the bag at `params.overlap` with the tiling stage's tissue rule, embed all
 * tiles and the global views with the encoder, and score the bag once with the head. The costly
 * part of an explanation; maps and boxes are cheap functions of its result.
 */
export async function scoreBagTiles(
  images: readonly ExplainImageInput[],
  encoder: TileEmbedder,
  head: BagScorer,
  params: Pick<ExplainParams, "overlap" | "tiling" | "batchSize" | "onTiles">,
): Promise<ScoredBagTiles> {
  return (await scoreBagTilesAt(images, encoder, head, { ...params, overlaps: [params.overlap] })).get(params.overlap)!;
}

/**
 * `scoreBagTiles` at several overlaps with one encoder pass: the union of the tiles of all
 * overlaps is embedded once (a tile at the same position is the same crop), then the head scores
 * the bag once per overlap on that overlap's tiles (attention is a softmax over the bag's tiles,
 * so each overlap is its own bag). When the finer stride divides the coarser one (0.875 and
 * 0.75 with 128 px tiles), the union is the finer grid: the coarser overlap costs no embedding.
 */
export async function scoreBagTilesAt(
  images: readonly ExplainImageInput[],
  encoder: TileEmbedder,
  head: BagScorer,
  params: Pick<ExplainParams, "tiling" | "batchSize" | "onTiles"> & { overlaps: readonly number[] },
): Promise<Map<number, ScoredBagTiles>> {
  if (images.length === 0) throw new Error("explainBag: a bag needs at least one image");
  const batchSize = params.batchSize ?? 32;
  const S = encoder.inputSizePx;
  const overlaps = [...new Set(params.overlaps)];
  // Tiles of every view at each overlap, with the tiling stage's tissue rule; their union per view.
  const perOverlap = overlaps.map((o) => images.map((img) => selectTiles(img.working, img.mask, { ...params.tiling, overlap: o })));
  const key = (t: TileRecord): string => `${t.xPx},${t.yPx},${t.sizePx}`;
  const unionTiles: TileRecord[][] = images.map(() => []);
  const unionIndex: Map<string, number>[] = images.map(() => new Map());
  for (const tilesPerImage of perOverlap)
    tilesPerImage.forEach((tiles, i) => {
      for (const t of tiles)
        if (!unionIndex[i].has(key(t))) {
          unionIndex[i].set(key(t), unionTiles[i].length);
          unionTiles[i].push(t);
        }
    });
  const emb: Float32Array[] = [];
  let dim = 0;
  for (let i = 0; i < images.length; i++) {
    const e = concatTyped(await embedTiles(images[i], unionTiles[i], encoder, batchSize, params.onTiles), Float32Array);
    if (unionTiles[i].length) dim = e.length / unionTiles[i].length;
    emb.push(e);
  }
  const globalBatch = new Float32Array(images.length * S * S);
  images.forEach((img, i) => {
    if (img.globalView.length !== S * S) throw new Error(`explainBag: global view of ${img.imageId} has ${img.globalView.length} pixels, encoder wants ${S} x ${S}`);
    globalBatch.set(img.globalView, i * S * S);
  });
  const globalEmb = await encoder.embed(globalBatch, images.length);
  if (!dim) dim = globalEmb.length / images.length;
  const out = new Map<number, ScoredBagTiles>();
  overlaps.forEach((o, k) => {
    const tilesPerImage = perOverlap[k];
    const nTiles = tilesPerImage.reduce((s, t) => s + t.length, 0);
    const tileEmb = new Float32Array(nTiles * dim);
    let row = 0;
    tilesPerImage.forEach((tiles, i) => {
      for (const t of tiles) {
        const u = unionIndex[i].get(key(t))!;
        tileEmb.set(emb[i].subarray(u * dim, (u + 1) * dim), row * dim);
        row++;
      }
    });
    const score = head.scoreBag(globalEmb, images.length, tileEmb, nTiles);
    if (score.tileAttention.length !== nTiles) throw new Error(`explainBag: head returned ${score.tileAttention.length} attention values for ${nTiles} tiles`);
    let offset = 0;
    const imgs: ScoredBagTiles["images"] = images.map((img, i) => {
      const tiles = tilesPerImage[i];
      const r = {
        imageId: img.imageId,
        workingSizePx: img.workingSizePx,
        tiles,
        attention: score.tileAttention.slice(offset, offset + tiles.length),
        contribution: score.tileContribution.slice(offset, offset + tiles.length),
      };
      offset += tiles.length;
      return r;
    });
    out.set(o, { logit: score.logit, probability: score.probability, tileCount: nTiles, images: imgs });
  });
  return out;
}

export async function explainBag(
  images: readonly ExplainImageInput[],
  encoder: TileEmbedder,
  head: BagScorer,
  params: ExplainParams,
  scored?: ScoredBagTiles,
): Promise<BagExplanation> {
  const score = scored ?? (await scoreBagTiles(images, encoder, head, params));
  return explainScoredBag(images, score, params);
}

/** Maps and protocol boxes of a scored bag (see explainBag). */
export function explainScoredBag(images: readonly ExplainImageInput[], score: ScoredBagTiles, params: ExplainParams): BagExplanation {
  const out: ImageExplanation[] = [];
  for (let i = 0; i < images.length; i++) {
    const img = images[i];
    const { tiles, attention, contribution } = score.images[i];
    const mapSizePx = params.mapSizePx ?? img.workingSizePx;
    const att = attentionHeatmapWithCoverage(img.workingSizePx, tiles, attention, { outSizePx: mapSizePx });
    const con = attentionHeatmapWithCoverage(img.workingSizePx, tiles, contribution, { outSizePx: mapSizePx });
    const k = mapSizePx / PROTOCOL_RESOLUTION_PX;
    const sigma = ((params.smoothSigmaPx ?? 0) * mapSizePx) / img.workingSizePx;
    const forBoxes = sigma > 0 ? gaussianBlur(att.values, mapSizePx, mapSizePx, sigma) : att.values;
    const mapBoxes = tiles.length
      ? boxesFromHeatmap(forBoxes, mapSizePx, {
          quantile: params.quantile,
          nmsIou: params.nmsIou,
          maxBoxes: params.maxBoxes,
          minAreaPx: (params.minAreaProtocolPx ?? 1024) * k * k,
          mask: att.coverage,
        })
      : [];
    const toWorking = img.workingSizePx / mapSizePx;
    const boxes = mapBoxes.map((b) => ({ x0: b.x0 * toWorking, y0: b.y0 * toWorking, x1: b.x1 * toWorking, y1: b.y1 * toWorking, score: b.score }));
    out.push({
      imageId: img.imageId,
      tiles,
      attention,
      contribution,
      mapSizePx,
      attentionMap: att.values,
      contributionMap: con.values,
      coverage: att.coverage,
      boxes,
      boxesOriginal: boxes.map((b) => workingBoxToOriginal(b, img.transform)),
      lesionsWorking: img.lesionsWorking,
      transform: img.transform,
    });
  }
  return { logit: score.logit, probability: score.probability, tileCount: score.tileCount, images: out };
}

/** `explainBag` for the bag of one image, returning that image's explanation. */
export async function explainImage(
  imageId: string,
  bag: readonly ExplainImageInput[],
  encoder: TileEmbedder,
  head: BagScorer,
  params: ExplainParams,
): Promise<ImageExplanation & { bagProbability: number }> {
  if (!bag.some((b) => b.imageId === imageId)) throw new Error(`explainImage: image ${imageId} is not in the bag given`);
  const r = await explainBag(bag, encoder, head, params);
  const img = r.images.find((x) => x.imageId === imageId)!;
  return { ...img, bagProbability: r.probability };
}
