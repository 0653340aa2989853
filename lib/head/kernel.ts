import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder } from "../util/onnxGraph";
import { JsKernel, TfjsKernel } from "./internal/xKernelOracles";
import type { XChunk, XDtype } from "./source";

/**
 * The passes over the embeddings X (rows x dim): H = X W forward and dW = X^T dH backward.
 * They are the only place X is touched in head training, and nearly all of its FLOPs.
 *
 * Three kernels, measured in bench/train.ts on this machine (2 cores): onnxruntime-node's MLAS
 * sgemm (multi-threaded, AVX) is by far the fastest (~100-200 GFLOP/s for W 1536 x 576 and wider),
 * tfjs-wasm matMul (one thread, SIMD) and a blocked JS loop are 10-50x slower. ORT also reads
 * float16 X directly (a Cast node inside the graph), so a float16 store is never widened in JS.
 * "ort" is the default; the others (internal/xKernelOracles.ts) exist for the comparison, as
 * fallbacks and as oracles for the ORT graphs.
 */

export interface XKernel {
  readonly name: string;
  /** H = X W; W is dim x cols row-major; returns rows x cols (written into `out` when given: reused buffers, no garbage per chunk). */
  project(x: XChunk, w: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array>;
  /** X^T dH; dH is rows x cols; returns dim x cols (into `out` when given). */
  gradient(x: XChunk, dH: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array>;
}

export type KernelName = "ort" | "tfjs" | "js";

/** Rows per onnxruntime call of the forward X pass (see OrtKernel.project). */
export const PROJECT_PIECE_ROWS = 2048;

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
  /**
   * Let onnxruntime's idle intra-op threads spin (busy-wait) for the next work item (its default).
   * Off by default here: between two X passes the head after H runs on worker threads on the same
   * cores, and spinning threads take their time (MILPF_ORT_SPIN=1 turns it back on for a comparison).
   */
  spinning?: boolean;
}

class OrtKernel implements XKernel {
  readonly name = "ort";
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly spinning: boolean;
  constructor(private readonly opts: OrtKernelOptions) {
    this.spinning = opts.spinning ?? process.env.MILPF_ORT_SPIN === "1";
  }

  private session(kind: "project" | "gradient", dtype: XDtype, dim: number): Promise<ort.InferenceSession> {
    const key = `${kind}:${dtype}:${dim}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(xPassModel(kind, dtype, dim), {
        intraOpNumThreads: this.opts.threads ?? 0,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        executionProviders: ["cpu"],
        // session config entries (onnxruntime_session_options_config_keys.h)
        extra: { session: { intra_op: { allow_spinning: this.spinning ? "1" : "0" } } },
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

  /**
   * H = X W in pieces of at most PROJECT_PIECE_ROWS rows, each written by onnxruntime straight into
   * its rows of one output array (a pre-allocated output tensor). Why pieces: the Cast of float16 X
   * writes a float32 copy of the piece that MatMul then reads; at 2,048 rows x 1,536 (12 MiB) it is
   * still in the cache when MatMul reads it, at 8,192 rows (48 MiB) it goes to memory and back
   * (measured per 150k rows, W 1536 x 16: 0.095 s in 2,048-row pieces vs 0.142 s in 8,192; x 576:
   * 2.08 s vs 2.52 s). Each row of H depends on its row of X alone, and MLAS sums every element in
   * the same order whatever the number of rows: the result is bitwise the same.
   */
  async project(x: XChunk, w: Float32Array, cols: number, given?: Float32Array): Promise<Float32Array> {
    const out = given ?? new Float32Array(x.rows * cols);
    if (out.length !== x.rows * cols) throw new Error(`X kernel: output of ${out.length} floats given for ${x.rows * cols}`);
    if (x.rows === 0 || cols === 0) return out;
    const s = await this.session("project", x.dtype, x.dim);
    const wt = new ort.Tensor("float32", w, [x.dim, cols]);
    for (let r0 = 0; r0 < x.rows; r0 += PROJECT_PIECE_ROWS) {
      const n = Math.min(PROJECT_PIECE_ROWS, x.rows - r0);
      const piece = x.dtype === "float16" ? new ort.Tensor("float16", (x.data as Uint16Array).subarray(r0 * x.dim, (r0 + n) * x.dim), [n, x.dim]) : new ort.Tensor("float32", (x.data as Float32Array).subarray(r0 * x.dim, (r0 + n) * x.dim), [n, x.dim]);
      await s.run({ x: piece, w: wt }, { y: new ort.Tensor("float32", out.subarray(r0 * cols, (r0 + n) * cols), [n, cols]) });
    }
    return out;
  }

  async gradient(x: XChunk, dH: Float32Array, cols: number, given?: Float32Array): Promise<Float32Array> {
    const out = given ?? new Float32Array(x.dim * cols);
    if (out.length !== x.dim * cols) throw new Error(`X kernel: output of ${out.length} floats given for ${x.dim * cols}`);
    if (x.rows === 0 || cols === 0) return out.fill(0);
    const s = await this.session("gradient", x.dtype, x.dim);
    await s.run({ x: this.xTensor(x), w: new ort.Tensor("float32", dH, [x.rows, cols]) }, { y: new ort.Tensor("float32", out, [x.dim, cols]) });
    return out;
  }
}



export function createKernel(name: KernelName = "ort", opts: OrtKernelOptions = {}): XKernel {
  if (name === "ort") return new OrtKernel(opts);
  if (name === "tfjs") return new TfjsKernel();
  if (name === "js") return new JsKernel();
  throw new Error(`unknown X kernel "${String(name)}" (ort, tfjs, js)`);
}
