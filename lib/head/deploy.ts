import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic, writeJsonAtomic, readJson } from "../util/atomic";
import { validateConfig, type HeadConfig } from "./config";
import { buildHeadOnnx } from "./onnx";
import { paramSpecs, sizeOf, type HeadParams } from "./params";
import { scoreBagReference } from "./internal/float64Head";

/**
 * A deployable head folder:
 *   head.json     HeadFile: config, dim, seed, parameter layout, training/selection facts
 *   weights.bin   all parameters as little-endian float32, concatenated in `params` order
 *   head.onnx     the same head as an ONNX graph (see onnx.ts), for onnxruntime anywhere
 */
export const HEAD_FILES = { meta: "head.json", weights: "weights.bin", onnx: "head.onnx" } as const;

export interface HeadFile {
  version: 1;
  kind: "milpf-head";
  config: HeadConfig;
  dim: number;
  seed: number;
  /** Parameter names and shapes in weights.bin order ([in, out] for linear layers: y = x W + b). */
  params: { name: string; shape: number[] }[];
  /** Free-form facts: selection (val AUC, epoch), store, settings. */
  info: Record<string, unknown>;
}

/** What scoring one bag gives (TrainedHead.scoreBag; the float64 forward pass in internal/float64Head.ts). */
export interface BagScore {
  logit: number;
  probability: number;
  /**
   * Per tile: attention weight a_i (attn); the column mean a_j = mean_i A[i, j] of the attention
   * matrix (selfattn); 1/T (mean); share of the 8 features whose max tile is i, ties shared (max). Sums to 1.
   */
  tileAttention: Float32Array;
  /**
   * Per tile: its additive share of the local stream's contribution to the logit, so that
   * logit = fb + (global part) + sum_i tileContribution[i]. attn and selfattn: a_i (v_i . wf_local);
   * mean: (h_i . wf_local) / T; max: sum over features f whose max is at tile i of h_if wf_local_f
   * (a feature whose max is tied between tiles is shared equally).
   */
  tileContribution: Float32Array;
  /**
   * Per global row (image): its image probability (instance baselines), or its pooling weight as
   * tileAttention defines it for tiles (share of the max for global max, attention for attn / selfattn).
   */
  globalScores: Float32Array;
}

/** A loaded head: scores one bag at a time with the float64 reference forward pass (no tfjs needed). */
export interface TrainedHead {
  readonly config: HeadConfig;
  readonly dim: number;
  readonly seed: number;
  readonly params: HeadParams;
  readonly info: Record<string, unknown>;
  /**
   * Score one bag: `globals` nGlobal x dim and `tiles` nTiles x dim (row-major float32).
   * tileContribution_i is tile i's additive share of the logit from the local stream
   * (attn: a_i (v_i . wf_local); see BagScore), so the tiles' contributions sum to the local part.
   */
  scoreBag(globals: Float32Array, nGlobal: number, tiles: Float32Array, nTiles: number): BagScore;
}

export function saveHead(dir: string, head: { config: HeadConfig; dim: number; seed: number; params: HeadParams; info?: Record<string, unknown> }): void {
  const specs = paramSpecs(head.config, head.dim);
  const total = specs.reduce((n, s) => n + sizeOf(s.shape), 0);
  const w = new Float32Array(total);
  let at = 0;
  for (const s of specs) {
    const a = head.params[s.name];
    if (!a || a.length !== sizeOf(s.shape)) throw new Error(`saveHead ${dir}: parameter ${s.name} missing or of wrong size`);
    w.set(a, at);
    at += a.length;
  }
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, HEAD_FILES.weights), new Uint8Array(w.buffer));
  writeFileAtomic(path.join(dir, HEAD_FILES.onnx), buildHeadOnnx(head.config, head.dim, head.params));
  const meta: HeadFile = {
    version: 1,
    kind: "milpf-head",
    config: head.config,
    dim: head.dim,
    seed: head.seed,
    params: specs.map((s) => ({ name: s.name, shape: s.shape })),
    info: head.info ?? {},
  };
  writeJsonAtomic(path.join(dir, HEAD_FILES.meta), meta);
}

export function loadHead(dir: string): TrainedHead {
  const metaFile = path.join(dir, HEAD_FILES.meta);
  const meta = readJson<HeadFile>(metaFile);
  if (meta.kind !== "milpf-head" || meta.version !== 1) throw new Error(`${metaFile}: not a milpf head (kind ${String(meta.kind)}, version ${String(meta.version)})`);
  const config = validateConfig(meta.config);
  const wFile = path.join(dir, HEAD_FILES.weights);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(wFile);
  } catch (e) {
    throw new Error(`${wFile}: cannot read (${(e as Error).message})`);
  }
  const expected = paramSpecs(config, meta.dim);
  const total = expected.reduce((n, s) => n + sizeOf(s.shape), 0);
  if (buf.length !== total * 4) throw new Error(`${wFile}: ${buf.length} bytes, expected ${total} float32 values for config ${config.name} at dim ${meta.dim}`);
  const all = new Float32Array(total);
  new Uint8Array(all.buffer).set(buf);
  const params: HeadParams = {};
  let at = 0;
  for (const s of expected) {
    const n = sizeOf(s.shape);
    params[s.name] = all.slice(at, at + n);
    at += n;
  }
  return {
    config,
    dim: meta.dim,
    seed: meta.seed,
    params,
    info: meta.info,
    scoreBag: (globals, nGlobal, tiles, nTiles) => scoreBagReference(config, params, meta.dim, globals, nGlobal, tiles, nTiles),
  };
}
