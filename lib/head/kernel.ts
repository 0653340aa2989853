import * as ort from "onnxruntime-node";
import * as tf from "@tensorflow/tfjs";
import { OnnxGraphBuilder } from "../util/onnxGraph";
import { float16ArrayToFloat32 } from "../store/float16";

/**
 * The passes over the embeddings X (rows x dim): H = X W forward and dW = X^T dH backward.
 * They are the only place X is touched in head training, and nearly all of its FLOPs.
 *
 * Three kernels, measured in bench/train.ts on this machine (2 cores): onnxruntime-node's MLAS
 * sgemm (multi-threaded, AVX) is by far the fastest (~100-200 GFLOP/s for W 1536 x 576 and wider),
 * tfjs-wasm matMul (one thread, SIMD) and a blocked JS loop are 10-50x slower. ORT also reads
 * float16 X directly (a Cast node inside the graph), so a float16 store is never widened in JS.
 * "ort" is the default; the others exist for the comparison and as fallbacks.
 */
export type XDtype = "float32" | "float16";

export interface XChunk {
  /** rows x dim, row-major: float32 values, or float16 bit patterns. */
  data: Float32Array | Uint16Array;
  dtype: XDtype;
  rows: number;
  dim: number;
}

export interface XKernel {
  readonly name: string;
  /** H = X W; W is dim x cols row-major; returns rows x cols. */
  project(x: XChunk, w: Float32Array, cols: number): Promise<Float32Array>;
  /** X^T dH; dH is rows x cols; returns dim x cols. */
  gradient(x: XChunk, dH: Float32Array, cols: number): Promise<Float32Array>;
}

export type KernelName = "ort" | "tfjs" | "js";

/** The X-pass graph: y = x w ("project") or y = x^T w ("gradient"); float16 x is cast inside the graph. */
function xPassModel(kind: "project" | "gradient", dtype: XDtype, dim: number): Uint8Array {
  const b = new OnnxGraphBuilder(`x_${kind}`, 18);
  let x = b.input("x", ["n", dim], dtype);
  const w = b.input("w", kind === "project" ? [dim, "c"] : ["n", "c"]);
  if (dtype === "float16") x = b.op("Cast", [x], { to: { i: 1 } });
  if (kind === "project") b.op("MatMul", [x, w], {}, "y");
  else b.op("Gemm", [x, w], { transA: { i: 1 } }, "y");
  b.output("y", kind === "project" ? ["n", "c"] : [dim, "c"]);
  return b.toBytes();
}

export interface OrtKernelOptions {
  /** onnxruntime intra-op threads (0 = one per core). */
  threads?: number;
}

class OrtKernel implements XKernel {
  readonly name = "ort";
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  constructor(private readonly opts: OrtKernelOptions) {}

  private session(kind: "project" | "gradient", dtype: XDtype, dim: number): Promise<ort.InferenceSession> {
    const key = `${kind}:${dtype}:${dim}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(xPassModel(kind, dtype, dim), {
        intraOpNumThreads: this.opts.threads ?? 0,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        executionProviders: ["cpu"],
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  private xTensor(x: XChunk): ort.Tensor {
    return x.dtype === "float16"
      ? new ort.Tensor("float16", x.data as Uint16Array, [x.rows, x.dim])
      : new ort.Tensor("float32", x.data as Float32Array, [x.rows, x.dim]);
  }

  async project(x: XChunk, w: Float32Array, cols: number): Promise<Float32Array> {
    if (x.rows === 0 || cols === 0) return new Float32Array(x.rows * cols);
    const s = await this.session("project", x.dtype, x.dim);
    const out = await s.run({ x: this.xTensor(x), w: new ort.Tensor("float32", w, [x.dim, cols]) });
    return out.y.data as Float32Array;
  }

  async gradient(x: XChunk, dH: Float32Array, cols: number): Promise<Float32Array> {
    if (x.rows === 0 || cols === 0) return new Float32Array(x.dim * cols);
    const s = await this.session("gradient", x.dtype, x.dim);
    const out = await s.run({ x: this.xTensor(x), w: new ort.Tensor("float32", dH, [x.rows, cols]) });
    return out.y.data as Float32Array;
  }
}

/** The values of a chunk as float32 (float16 widened). */
export function asFloat32(x: Pick<XChunk, "data" | "dtype">): Float32Array {
  return x.dtype === "float16" ? float16ArrayToFloat32(x.data as Uint16Array) : (x.data as Float32Array);
}

class TfjsKernel implements XKernel {
  readonly name = "tfjs";
  async project(x: XChunk, w: Float32Array, cols: number): Promise<Float32Array> {
    return tfjsMatMul(x, w, [x.dim, cols], false);
  }
  async gradient(x: XChunk, dH: Float32Array, cols: number): Promise<Float32Array> {
    return tfjsMatMul(x, dH, [x.rows, cols], true);
  }
}

/** X b (or X^T b) with tfjs. */
async function tfjsMatMul(x: XChunk, b: Float32Array, bShape: [number, number], transposeX: boolean): Promise<Float32Array> {
  const y = tf.tidy(() => tf.matMul(tf.tensor2d(asFloat32(x), [x.rows, x.dim]), tf.tensor2d(b, bShape), transposeX, false));
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

/**
 * Hand-written blocked loops (i-k-j order, row blocks of X kept hot): the portable baseline the
 * benchmark compares against. Single-threaded plain JS; float64 accumulation is not needed here.
 */
class JsKernel implements XKernel {
  readonly name = "js";
  async project(x: XChunk, w: Float32Array, cols: number): Promise<Float32Array> {
    return accumulateRows(x, w, cols, false);
  }
  async gradient(x: XChunk, dH: Float32Array, cols: number): Promise<Float32Array> {
    return accumulateRows(x, dH, cols, true);
  }
}

/**
 * The loop of both JS passes: for every non-zero x[i][k], out row o += x[i][k] * b row s, with
 * (o, s) = (i, k) for X W (rows x cols) and (k, i) for X^T dH (dim x cols).
 */
function accumulateRows(x: XChunk, b: Float32Array, cols: number, transposeX: boolean): Float32Array {
  const a = asFloat32(x);
  const { rows, dim } = x;
  const out = new Float32Array((transposeX ? dim : rows) * cols);
  for (let i = 0; i < rows; i++) {
    const xo = i * dim;
    for (let k = 0; k < dim; k++) {
      const xv = a[xo + k];
      if (xv === 0) continue;
      const oo = (transposeX ? k : i) * cols;
      const bo = (transposeX ? i : k) * cols;
      for (let j = 0; j < cols; j++) out[oo + j] += xv * b[bo + j];
    }
  }
  return out;
}

export function createKernel(name: KernelName = "ort", opts: OrtKernelOptions = {}): XKernel {
  if (name === "ort") return new OrtKernel(opts);
  if (name === "tfjs") return new TfjsKernel();
  if (name === "js") return new JsKernel();
  throw new Error(`unknown X kernel "${String(name)}" (ort, tfjs, js)`);
}
