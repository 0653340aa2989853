import type { Split, StoreBag } from "../types";
import type { EmbeddingSource } from "./source";

/**
 * How training and scoring walk the source: bags cut into chunks of at most `chunkRows` padded
 * tile rows (bags bucketed by tile count, so little is padded), each with its padded layout and
 * loss weights. Every pass over X (forward, backward, scoring) goes chunk by chunk.
 */
/**
 * A chunk's padded layout, shared by both implementations of the head after H (rowgrad.ts and the
 * tfjs oracle): bag b owns rows [b L, (b+1) L) of the chunk, the first count_b of them real, the
 * rest zero with mask 0. The padding is done on H (16 columns per run), never on X, and bags are
 * bucketed by size so little is padded.
 */
export interface ChunkLayout {
  /** Bags in the chunk. */
  bags: number;
  /** Padded rows per bag, global and tile streams. */
  lGlobal: number;
  lTile: number;
  /** bags x lGlobal / bags x lTile: 1 for a real row, 0 for padding. */
  maskGlobal: Float32Array;
  maskTile: Float32Array;
  /** Real rows per bag. */
  countGlobal: Float32Array;
  countTile: Float32Array;
  /** Bag labels (0/1). */
  labels: Float32Array;
  /** Per-bag loss weight (class weight / number of training bags); zeros when only scoring. */
  bagWeights: Float32Array;
  /** Per padded global row: loss weight for the instance baselines (class weight / number of training images; 0 on padding). */
  rowWeights: Float32Array;
}

export interface Chunk {
  bagIndices: number[];
  layout: ChunkLayout;
  /** Start of each bag's rows in the packed chunk (length bags + 1). */
  globalStarts: Int32Array;
  tileStarts: Int32Array;
}

/** Bags of one split cut into chunks; bags bucketed by tile count so little is padded. */
export function makeChunks(src: EmbeddingSource, bagIndices: number[], chunkRows: number, mode: "train" | "score"): Chunk[] {
  const tc = (b: number): number => src.bagTileOffsets[b + 1] - src.bagTileOffsets[b];
  const gc = (b: number): number => src.bagGlobalOffsets[b + 1] - src.bagGlobalOffsets[b];
  const sorted = [...bagIndices].sort((a, b) => tc(a) - tc(b) || a - b);
  // Class weights total / (2 x count of the class), over the training bags (MIL) or images (instance).
  let posB = 0;
  let posI = 0;
  let nI = 0;
  for (const b of bagIndices) {
    const y = src.bags[b].label;
    posB += y;
    posI += y * gc(b);
    nI += gc(b);
  }
  const nB = bagIndices.length;
  const wBag = (y: number): number => (mode === "train" ? 1 / (2 * Math.max(1, y ? posB : nB - posB)) : 0);
  const wImg = (y: number): number => (mode === "train" ? 1 / (2 * Math.max(1, y ? posI : nI - posI)) : 0);
  const chunks: Chunk[] = [];
  let cur: number[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const B = cur.length;
    const lG = Math.max(1, ...cur.map(gc));
    const lT = Math.max(1, ...cur.map(tc));
    const layout: ChunkLayout = {
      bags: B,
      lGlobal: lG,
      lTile: lT,
      maskGlobal: new Float32Array(B * lG),
      maskTile: new Float32Array(B * lT),
      countGlobal: new Float32Array(B),
      countTile: new Float32Array(B),
      labels: new Float32Array(B),
      bagWeights: new Float32Array(B),
      rowWeights: new Float32Array(B * lG),
    };
    const gs = new Int32Array(B + 1);
    const ts = new Int32Array(B + 1);
    cur.forEach((b, j) => {
      const y = src.bags[b].label;
      layout.labels[j] = y;
      layout.countGlobal[j] = gc(b);
      layout.countTile[j] = tc(b);
      layout.maskGlobal.fill(1, j * lG, j * lG + gc(b));
      layout.maskTile.fill(1, j * lT, j * lT + tc(b));
      layout.bagWeights[j] = wBag(y);
      layout.rowWeights.fill(wImg(y), j * lG, j * lG + gc(b));
      gs[j + 1] = gs[j] + gc(b);
      ts[j + 1] = ts[j] + tc(b);
    });
    chunks.push({ bagIndices: cur, layout, globalStarts: gs, tileStarts: ts });
    cur = [];
  };
  for (const b of sorted) {
    const lT = Math.max(tc(b), ...cur.map(tc), 1);
    if (cur.length > 0 && (cur.length + 1) * lT > chunkRows) flush();
    cur.push(b);
  }
  flush();
  return chunks;
}

/** Indices (store bag order) of the bags in `split`. */
export function splitBagIndices(bags: StoreBag[], split: Split): number[] {
  const out: number[] = [];
  bags.forEach((b, i) => {
    if (b.split === split) out.push(i);
  });
  return out;
}
