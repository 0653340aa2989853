/**
 * oracle: the X-pass kernels other than ORT, kept for checking and comparison.
 *
 * "tfjs" (tfjs matMul) and "js" (a blocked loop) compute the same H = X W and dW = X^T dH as the
 * default ORT kernel (../kernel.ts), 10-100x slower (bench/train.ts, "train-kernels"). They stay as
 * independent implementations the ORT graphs are checked against (test/head/kernel.test.ts) and as
 * fallbacks: `milpf train --kernel tfjs|js` and createKernel("tfjs" | "js") still select them,
 * which is why they live in lib. Internal: reach them through createKernel.
 */
import * as tf from "@tensorflow/tfjs";
import type { XKernel } from "../kernel";
import { asFloat32, type XChunk } from "../source";

/** `r` in `out` when one is given (these kernels compute into new arrays, then copy). */
function into(out: Float32Array | undefined, r: Float32Array): Float32Array {
  if (!out) return r;
  if (out.length !== r.length) throw new Error(`X kernel: output of ${out.length} floats given for ${r.length}`);
  out.set(r);
  return out;
}

export class TfjsKernel implements XKernel {
  readonly name = "tfjs";
  async project(x: XChunk, w: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array> {
    return into(out, await tfjsMatMul(x, w, [x.dim, cols], false));
  }
  async gradient(x: XChunk, dH: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array> {
    return into(out, await tfjsMatMul(x, dH, [x.rows, cols], true));
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
export class JsKernel implements XKernel {
  readonly name = "js";
  async project(x: XChunk, w: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array> {
    return into(out, accumulateRows(x, w, cols, false));
  }
  async gradient(x: XChunk, dH: Float32Array, cols: number, out?: Float32Array): Promise<Float32Array> {
    return into(out, accumulateRows(x, dH, cols, true));
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
