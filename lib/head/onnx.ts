import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import type { Aggregator, HeadConfig } from "./config";
import { OnnxGraphBuilder } from "../util/onnxGraph";
import { HIDDEN2, paramSpecs, type HeadParams } from "./params";

/**
 * The deployable head as an ONNX graph (opset 18, built with lib/util/onnxGraph.ts): inputs `globals`
 * [G, D] and `tiles` [T, D] of ONE bag (float32); outputs `logit` [1], `probability` [1] and
 * `tile_attention` [T] with the same definitions as scoreBagReference (internal/float64Head.ts) (attention weights; column
 * means of the attention matrix for "selfattn"; 1/T for mean; tie-shared argmax share for max; zeros
 * when the head has no local stream).
 */
const ONNX_OPSET = 18;

function paramInits(b: OnnxGraphBuilder, c: HeadConfig, dim: number, p: HeadParams): void {
  for (const s of paramSpecs(c, dim)) {
    // the latent query as a column [8, 1] so that scores = k q is a MatMul
    const dims = /^[gl]q$/.test(s.name) ? [HIDDEN2, 1] : s.shape;
    b.floatInit(s.name, dims, p[s.name]);
  }
}

/** An int64 vector initialiser under a fresh name (axes, shapes). */
function ints(b: OnnxGraphBuilder, values: number[]): string {
  return b.int64Init(b.fresh("const_i64"), [values.length], values);
}

/** A float scalar initialiser under a fresh name. */
function scalar(b: OnnxGraphBuilder, prefix: string, v: number): string {
  return b.floatInit(b.fresh(prefix), [], [v]);
}

const KEEP = { keepdims: { i: 1 } } as const;
const DROP = { keepdims: { i: 0 } } as const;

function stream(b: OnnxGraphBuilder, x: string, prefix: "g" | "l"): string {
  const h1 = b.op("Relu", [b.op("Add", [b.op("MatMul", [x, `${prefix}1w`]), `${prefix}1b`])]);
  return b.op("Relu", [b.op("Add", [b.op("MatMul", [h1, `${prefix}2w`]), `${prefix}2b`])]);
}

/** Pool [n, 8] -> [1, 8]; also returns the per-instance weights [n]. */
function pool(b: OnnxGraphBuilder, agg: Aggregator, h: string, prefix: "g" | "l"): { z: string; weights: string } {
  if (agg === "mean") {
    const z = b.op("ReduceMean", [h, ints(b, [0])], KEEP);
    const zeros = b.op("Mul", [b.op("ReduceSum", [h, ints(b, [1])], KEEP), scalar(b, "zero", 0)]);
    const w = b.op("Softmax", [zeros], { axis: { i: 0 } });
    return { z, weights: b.op("Reshape", [w, ints(b, [-1])]) };
  }
  if (agg === "max") {
    const axis0 = ints(b, [0]);
    const z = b.op("ReduceMax", [h, axis0], KEEP);
    const eq = b.op("Cast", [b.op("Equal", [h, z])], { to: { i: onnx.TensorProto.DataType.FLOAT } });
    const ties = b.op("ReduceSum", [eq, axis0], KEEP);
    const share = b.op("ReduceSum", [b.op("Div", [eq, ties]), ints(b, [1])], DROP);
    return { z, weights: b.op("Div", [share, scalar(b, "eight", HIDDEN2)]) };
  }
  if (agg === "selfattn") {
    // Q/K/V [n, 8]; A = softmax(Q K^T / sqrt 8) row-wise [n, n]; z = mean over rows of A V;
    // the per-instance weight is the column mean of A (z = sum_j weight_j v_j)
    const proj = (w: string): string => b.op("Add", [b.op("MatMul", [h, `${prefix}${w}w`]), `${prefix}${w}b`]);
    const [q, k, v] = [proj("q"), proj("k"), proj("v")];
    const kt = b.op("Transpose", [k], { perm: { ints: [1, 0] } });
    const a = b.op("Softmax", [b.op("Div", [b.op("MatMul", [q, kt]), scalar(b, "sqrt8", Math.sqrt(HIDDEN2))])], { axis: { i: 1 } });
    const z = b.op("ReduceMean", [b.op("MatMul", [a, v]), ints(b, [0])], KEEP);
    return { z, weights: b.op("ReduceMean", [a, ints(b, [0])], DROP) };
  }
  const k = b.op("Add", [b.op("MatMul", [h, `${prefix}kw`]), `${prefix}kb`]);
  const v = b.op("Add", [b.op("MatMul", [h, `${prefix}vw`]), `${prefix}vb`]);
  const s = b.op("Div", [b.op("MatMul", [k, `${prefix}q`]), scalar(b, "sqrt8", Math.sqrt(HIDDEN2))]);
  const a = b.op("Softmax", [s], { axis: { i: 0 } });
  const z = b.op("MatMul", [b.op("Transpose", [a], { perm: { ints: [1, 0] } }), v]);
  return { z, weights: b.op("Reshape", [a, ints(b, [-1])]) };
}

/** Build the ONNX model bytes of one head. */
export function buildHeadOnnx(c: HeadConfig, dim: number, p: HeadParams): Uint8Array {
  const b = new OnnxGraphBuilder(`milpf_head_${c.name}`, ONNX_OPSET);
  b.input("globals", ["G", dim]);
  b.input("tiles", ["T", dim]);
  paramInits(b, c, dim, p);
  let logit: string;
  let prob: string;
  let attention: string | null = null;
  if (c.instance !== null) {
    const hg = stream(b, "globals", "g");
    const probs = b.op("Sigmoid", [b.op("Add", [b.op("MatMul", [hg, "fw"]), "fb"])]);
    prob = b.op(c.instance === "mean" ? "ReduceMean" : "ReduceMax", [probs, ints(b, [0])], KEEP);
    logit = b.op("Log", [b.op("Div", [prob, b.op("Sub", [scalar(b, "one", 1), prob])])]);
  } else {
    const parts: string[] = [];
    if (c.global !== null) parts.push(pool(b, c.global, stream(b, "globals", "g"), "g").z);
    if (c.local !== null) {
      const l = pool(b, c.local, stream(b, "tiles", "l"), "l");
      parts.push(l.z);
      attention = l.weights;
    }
    const z = parts.length === 1 ? parts[0] : b.op("Concat", parts, { axis: { i: 1 } });
    logit = b.op("Add", [b.op("MatMul", [z, "fw"]), "fb"]);
    prob = b.op("Sigmoid", [logit]);
  }
  if (attention === null) attention = b.op("Mul", [b.op("ReduceSum", ["tiles", ints(b, [1])], DROP), scalar(b, "zero", 0)]);
  const flat = ints(b, [1]);
  b.op("Reshape", [logit, flat], {}, "logit");
  b.op("Reshape", [prob, flat], {}, "probability");
  b.op("Identity", [attention], {}, "tile_attention");
  b.output("logit", [1]);
  b.output("probability", [1]);
  b.output("tile_attention", ["T"]);
  return b.toBytes();
}

export interface OnnxBagScore {
  logit: number;
  probability: number;
  tileAttention: Float32Array;
}

/** An onnxruntime-node session over a head graph, scoring one bag per call. */
export class OnnxHead {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dim: number,
  ) {}

  static async create(model: Uint8Array | string, dim: number): Promise<OnnxHead> {
    const s = typeof model === "string" ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
    return new OnnxHead(s, dim);
  }

  async scoreBag(globals: Float32Array, nGlobal: number, tiles: Float32Array, nTiles: number): Promise<OnnxBagScore> {
    const out = await this.session.run({
      globals: new ort.Tensor("float32", globals.subarray(0, nGlobal * this.dim), [nGlobal, this.dim]),
      tiles: new ort.Tensor("float32", tiles.subarray(0, nTiles * this.dim), [nTiles, this.dim]),
    });
    return {
      logit: (out.logit.data as Float32Array)[0],
      probability: (out.probability.data as Float32Array)[0],
      tileAttention: out.tile_attention.data as Float32Array,
    };
  }
}
