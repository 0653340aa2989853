import { Rng } from "../util/rng";
import { hasGlobalStream, hasLocalStream, type Aggregator, type HeadConfig } from "./config";

/** Width of the first hidden layer (Linear(D, 16)) and of the stream output (Linear(16, 8)). */
export const HIDDEN1 = 16;
export const HIDDEN2 = 8;

/**
 * The parameters of one head, as named row-major Float32Arrays. Linear layers are stored as
 * [in, out] (y = x W + b; PyTorch stores the transpose). Names:
 *   g1w [D,16] g1b [16] g2w [16,8] g2b [8]      global stream (MIL or instance baseline)
 *   gkw gvw [8,8] gkb gvb [8] gq [8]            global latent-query attention (global === "attn"):
 *                                               keys, values and the latent query
 *   gqw gkw gvw [8,8] gqb gkb gvb [8]           global Q/K/V self-attention (global === "selfattn"):
 *                                               query, key and value projections
 *   l1w l1b l2w l2b, lkw lkb lvw lvb lq         the same for the local stream (lqw lqb with
 *                                               local === "selfattn")
 *   fw [F,1] fb [1]                             fusion, F = 8 x number of streams
 */
export type HeadParams = Record<string, Float32Array>;

export interface ParamSpec {
  name: string;
  shape: number[];
  /** "linear": U(+-1/sqrt(fanIn)) like PyTorch nn.Linear; "normal": N(0, 1) (the latent query). */
  init: "linear" | "normal";
  fanIn: number;
}

function streamSpecs(prefix: "g" | "l", dim: number, agg: Aggregator | null): ParamSpec[] {
  const s: ParamSpec[] = [
    { name: `${prefix}1w`, shape: [dim, HIDDEN1], init: "linear", fanIn: dim },
    { name: `${prefix}1b`, shape: [HIDDEN1], init: "linear", fanIn: dim },
    { name: `${prefix}2w`, shape: [HIDDEN1, HIDDEN2], init: "linear", fanIn: HIDDEN1 },
    { name: `${prefix}2b`, shape: [HIDDEN2], init: "linear", fanIn: HIDDEN1 },
  ];
  const lin8 = (name: string, bias: boolean): ParamSpec => ({ name: `${prefix}${name}`, shape: bias ? [HIDDEN2] : [HIDDEN2, HIDDEN2], init: "linear", fanIn: HIDDEN2 });
  if (agg === "selfattn") s.push(lin8("qw", false), lin8("qb", true), lin8("kw", false), lin8("kb", true), lin8("vw", false), lin8("vb", true));
  if (agg === "attn") {
    s.push(
      { name: `${prefix}kw`, shape: [HIDDEN2, HIDDEN2], init: "linear", fanIn: HIDDEN2 },
      { name: `${prefix}kb`, shape: [HIDDEN2], init: "linear", fanIn: HIDDEN2 },
      { name: `${prefix}vw`, shape: [HIDDEN2, HIDDEN2], init: "linear", fanIn: HIDDEN2 },
      { name: `${prefix}vb`, shape: [HIDDEN2], init: "linear", fanIn: HIDDEN2 },
      { name: `${prefix}q`, shape: [HIDDEN2], init: "normal", fanIn: HIDDEN2 },
    );
  }
  return s;
}

/** Number of 8-wide stream outputs the fusion layer sees. */
export function fusionWidth(c: HeadConfig): number {
  return HIDDEN2 * ((hasGlobalStream(c) ? 1 : 0) + (hasLocalStream(c) ? 1 : 0));
}

/** The parameter list of a head (order = initialisation and serialisation order). */
export function paramSpecs(c: HeadConfig, dim: number): ParamSpec[] {
  const specs: ParamSpec[] = [];
  if (hasGlobalStream(c)) specs.push(...streamSpecs("g", dim, c.global));
  if (hasLocalStream(c)) specs.push(...streamSpecs("l", dim, c.local));
  const f = fusionWidth(c);
  specs.push({ name: "fw", shape: [f, 1], init: "linear", fanIn: f }, { name: "fb", shape: [1], init: "linear", fanIn: f });
  return specs;
}

/** Parameter names of a config in serialisation order. */
export function paramNames(c: HeadConfig, dim: number): string[] {
  return paramSpecs(c, dim).map((s) => s.name);
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Trainable parameter count (49,625 for the full head at D = 1536; 37,337 at D = 1152; the global
 * attention heads at D = 1536: 24,889 latent-query `global-attn`, 24,953 Q/K/V `global-selfattn`).
 */
export function countParams(c: HeadConfig, dim: number): number {
  return paramSpecs(c, dim).reduce((n, s) => n + sizeOf(s.shape), 0);
}

/**
 * Initial parameters for one run, reproducible from `seed`. Each tensor draws from its own stream
 * Rng.derive(seed, name), so a given seed gives the same first-layer weights in every config.
 * Linear weights and biases ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (PyTorch's kaiming_uniform with
 * a = sqrt(5) reduces to exactly this bound); the latent query ~ N(0, 1).
 */
export function initParams(c: HeadConfig, dim: number, seed: number): HeadParams {
  const out: HeadParams = {};
  for (const s of paramSpecs(c, dim)) {
    const rng = Rng.derive(seed, "head-init", s.name);
    const a = new Float32Array(sizeOf(s.shape));
    if (s.init === "normal") for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    else {
      const bound = 1 / Math.sqrt(s.fanIn);
      for (let i = 0; i < a.length; i++) a[i] = rng.range(-bound, bound);
    }
    out[s.name] = a;
  }
  return out;
}

export function cloneParams(p: HeadParams): HeadParams {
  const out: HeadParams = {};
  for (const [k, v] of Object.entries(p)) out[k] = new Float32Array(v);
  return out;
}
