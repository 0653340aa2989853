import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import type { Aggregator, HeadConfig } from "./config";
import { encodeModel } from "./kernel";
import { HIDDEN2, paramSpecs, type HeadParams } from "./params";

/**
 * The deployable head as an ONNX graph (opset 18, built with onnx-proto): inputs `globals`
 * [G, D] and `tiles` [T, D] of ONE bag (float32); outputs `logit` [1], `probability` [1] and
 * `tile_attention` [T] with the same definitions as scoreBagReference (attention weights; 1/T for
 * mean; tie-shared argmax share for max; zeros when the head has no local stream).
 */
const INT = onnx.AttributeProto.AttributeType.INT;

class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly inits: onnx.ITensorProto[] = [];
  private n = 0;
  name(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }
  op(opType: string, inputs: string[], attrs: onnx.IAttributeProto[] = []): string {
    const out = this.name(opType.toLowerCase());
    this.nodes.push({ opType, input: inputs, output: [out], attribute: attrs, name: out });
    return out;
  }
  floatInit(name: string, dims: number[], values: ArrayLike<number>): string {
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(values) });
    return name;
  }
  int64Init(values: number[]): string {
    const name = this.name("const_i64");
    const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    this.inits.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw });
    return name;
  }
}

function paramInits(b: GraphBuilder, c: HeadConfig, dim: number, p: HeadParams): void {
  for (const s of paramSpecs(c, dim)) {
    // the latent query as a column [8, 1] so that scores = k q is a MatMul
    const dims = s.name.endsWith("q") ? [HIDDEN2, 1] : s.shape;
    b.floatInit(s.name, dims, p[s.name]);
  }
}

function stream(b: GraphBuilder, x: string, prefix: "g" | "l"): string {
  const h1 = b.op("Relu", [b.op("Add", [b.op("MatMul", [x, `${prefix}1w`]), `${prefix}1b`])]);
  return b.op("Relu", [b.op("Add", [b.op("MatMul", [h1, `${prefix}2w`]), `${prefix}2b`])]);
}

/** Pool [n, 8] -> [1, 8]; also returns the per-instance weights [n]. */
function pool(b: GraphBuilder, agg: Aggregator, h: string, prefix: "g" | "l"): { z: string; weights: string } {
  if (agg === "mean") {
    const axis0 = b.int64Init([0]);
    const axis1 = b.int64Init([1]);
    const z = b.op("ReduceMean", [h, axis0], [{ name: "keepdims", type: INT, i: 1 }]);
    const zeros = b.op("Mul", [b.op("ReduceSum", [h, axis1], [{ name: "keepdims", type: INT, i: 1 }]), b.floatInit(b.name("zero"), [], [0])]);
    const w = b.op("Softmax", [zeros], [{ name: "axis", type: INT, i: 0 }]);
    return { z, weights: b.op("Reshape", [w, b.int64Init([-1])]) };
  }
  if (agg === "max") {
    const axis0 = b.int64Init([0]);
    const axis1 = b.int64Init([1]);
    const z = b.op("ReduceMax", [h, axis0], [{ name: "keepdims", type: INT, i: 1 }]);
    const eq = b.op("Cast", [b.op("Equal", [h, z])], [{ name: "to", type: INT, i: onnx.TensorProto.DataType.FLOAT }]);
    const ties = b.op("ReduceSum", [eq, axis0], [{ name: "keepdims", type: INT, i: 1 }]);
    const share = b.op("ReduceSum", [b.op("Div", [eq, ties]), axis1], [{ name: "keepdims", type: INT, i: 0 }]);
    return { z, weights: b.op("Div", [share, b.floatInit(b.name("eight"), [], [HIDDEN2])]) };
  }
  const k = b.op("Add", [b.op("MatMul", [h, `${prefix}kw`]), `${prefix}kb`]);
  const v = b.op("Add", [b.op("MatMul", [h, `${prefix}vw`]), `${prefix}vb`]);
  const s = b.op("Div", [b.op("MatMul", [k, `${prefix}q`]), b.floatInit(b.name("sqrt8"), [], [Math.sqrt(HIDDEN2)])]);
  const a = b.op("Softmax", [s], [{ name: "axis", type: INT, i: 0 }]);
  const z = b.op("MatMul", [b.op("Transpose", [a], [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }]), v]);
  return { z, weights: b.op("Reshape", [a, b.int64Init([-1])]) };
}

function valueInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/** Build the ONNX model bytes of one head. */
export function buildHeadOnnx(c: HeadConfig, dim: number, p: HeadParams): Uint8Array {
  const b = new GraphBuilder();
  paramInits(b, c, dim, p);
  let logit: string;
  let prob: string;
  let attention: string | null = null;
  if (c.instance !== null) {
    const hg = stream(b, "globals", "g");
    const probs = b.op("Sigmoid", [b.op("Add", [b.op("MatMul", [hg, "fw"]), "fb"])]);
    prob = b.op(c.instance === "mean" ? "ReduceMean" : "ReduceMax", [probs, b.int64Init([0])], [{ name: "keepdims", type: INT, i: 1 }]);
    const one = b.floatInit(b.name("one"), [], [1]);
    logit = b.op("Log", [b.op("Div", [prob, b.op("Sub", [one, prob])])]);
  } else {
    const parts: string[] = [];
    if (c.global !== null) parts.push(pool(b, c.global, stream(b, "globals", "g"), "g").z);
    if (c.local !== null) {
      const l = pool(b, c.local, stream(b, "tiles", "l"), "l");
      parts.push(l.z);
      attention = l.weights;
    }
    const z = parts.length === 1 ? parts[0] : b.op("Concat", parts, [{ name: "axis", type: INT, i: 1 }]);
    logit = b.op("Add", [b.op("MatMul", [z, "fw"]), "fb"]);
    prob = b.op("Sigmoid", [logit]);
  }
  if (attention === null) {
    const axis1 = b.int64Init([1]);
    attention = b.op("Mul", [b.op("ReduceSum", ["tiles", axis1], [{ name: "keepdims", type: INT, i: 0 }]), b.floatInit(b.name("zero"), [], [0])]);
  }
  const flat = b.int64Init([1]);
  b.nodes.push({ opType: "Reshape", input: [logit, flat], output: ["logit"], name: "out_logit" });
  b.nodes.push({ opType: "Reshape", input: [prob, flat], output: ["probability"], name: "out_probability" });
  b.nodes.push({ opType: "Identity", input: [attention], output: ["tile_attention"], name: "out_attention" });
  const graph: onnx.IGraphProto = {
    name: `milpf_head_${c.name}`,
    node: b.nodes,
    initializer: b.inits,
    input: [valueInfo("globals", ["G", dim]), valueInfo("tiles", ["T", dim])],
    output: [valueInfo("logit", [1]), valueInfo("probability", [1]), valueInfo("tile_attention", ["T"])],
  };
  return encodeModel(graph);
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
