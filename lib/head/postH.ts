import type { HeadConfig } from "./config";
import { paramSpecs } from "./params";

/**
 * The head after the first linear layer (everything after H = X W1), as the engine hands it to
 * an implementation: the hand-written fused loops (rowgrad.ts, the default) or the tfjs autodiff
 * oracle (internal/tfjsHeadOracle.ts). Both take H padded per bag in a run-major
 * [R, bags x L, 16] layout (see ChunkLayout) and give the same numbers.
 */

/** Which implementation runs the head after the first layer (both give the same numbers; see rowgrad.ts). */
export type PostH = "js" | "tfjs";

/** Names of the parameters after the first layer (everything but the first-layer weights). */
export function postHParamNames(c: HeadConfig, dim: number): string[] {
  return paramSpecs(c, dim)
    .map((s) => s.name)
    .filter((n) => n !== "g1w" && n !== "l1w");
}

/** One config group's inputs on a chunk. */
export interface GroupArrays {
  config: HeadConfig;
  runs: number;
  /** H of the group's runs, [runs, bags * lGlobal, 16] (padded per bag), or null. */
  hGlobal: Float32Array | null;
  hTile: Float32Array | null;
  /** Stacked parameters after the first layer (runs blocks, each the run's own array). */
  params: Record<string, Float32Array>;
}

export interface GroupGrads {
  /** Per-run loss contributions of this chunk. */
  loss: Float32Array;
  /** Gradients w.r.t. hGlobal / hTile, same [runs, padded rows, 16] layout. */
  dGlobal: Float32Array | null;
  dTile: Float32Array | null;
  params: Record<string, Float32Array>;
}
