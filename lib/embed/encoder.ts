import type { ResizeKernel } from "../preprocess/grey16";

/** What every encoder offers: a frozen image -> embedding map over fixed-size grey squares. */
export interface Encoder {
  /** Model name (from config.json, or the folder name). */
  readonly name: string;
  /** Embedding dimension D. */
  readonly dim: number;
  /** Side of the square input the model takes; embed() inputs must have this size. */
  readonly inputSizePx: number;
  /** Execution provider that actually ran: "cpu", "cuda" or "webgpu". */
  readonly provider: string;
  /** Resampling kernel the model's preprocessor asks for (sharp's kernel names), for callers that resize. */
  readonly resampleKernel: ResizeKernel;
  /** Parameters that describe the model and its preprocessing (stored in the embedding store). */
  readonly params: Record<string, unknown>;
  /**
   * Embed `count` grey images packed as count x inputSizePx x inputSizePx values in [0, 1]
   * (row-major). Returns count x dim, each row L2-normalised.
   */
  embed(batch: Float32Array, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export type ExecutionProviderName = "cpu" | "cuda" | "webgpu";

/** Which model output becomes the embedding. */
export type OutputChoice = "cls" | "pooler" | "auto";

/** L2-normalise each row of a rows x dim matrix in place (zero rows stay zero). */
export function l2NormalizeRows(x: Float32Array, rows: number, dim: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += x[r * dim + d] * x[r * dim + d];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) x[r * dim + d] *= inv;
  }
  return x;
}
