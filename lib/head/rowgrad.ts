import { hasGlobalStream, hasLocalStream, type Aggregator, type HeadConfig } from "./config";
import type { ChunkLayout } from "./chunks";
import type { GroupArrays, GroupGrads } from "./postH";
import { HIDDEN1, HIDDEN2 } from "./params";
import { ReusedArrays } from "../util/arrays";

/**
 * The head after H, forward and backward, written out by hand for R runs: the same maths and the
 * same padded [R, bags x L, 16] layout as the tfjs version in internal/tfjsHeadOracle.ts, which
 * stays as the autodiff oracle (the tests check both against float64 finite differences and each other).
 *
 * Why by hand: the per-row layers are 16 -> 8 and 8 -> 8 matrices. tfjs-wasm runs them as
 * batched matMuls with tiny inner dimensions at ~0.2 GMAC/s, and every elementwise op is another
 * pass over a [R, rows, 16] tensor: measured ~2 s per 8k-row chunk at R = 36, i.e. ~100 s per
 * epoch on the 10,000-bag benchmark, 3x the X passes themselves. Fused loops keep each row's
 * 16 + 8 values in registers and take ~10x less (see bench/train.ts and lib/head/README.md).
 */
const S8 = Math.sqrt(HIDDEN2);

/** One stream's arrays (parameters or their gradients), stacked over runs. */
interface StreamArrays {
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  /** Query projection of "selfattn" (Q = h qw + qb). */
  qw?: Float32Array;
  qb?: Float32Array;
  kw?: Float32Array;
  kb?: Float32Array;
  vw?: Float32Array;
  vb?: Float32Array;
  q?: Float32Array;
}

/** The gradient arrays of one stream (same offsets as StreamParams). */
type StreamGrads = StreamArrays;

interface StreamParams extends StreamArrays {
  o: { b1: number; w2: number; b2: number; k8: number; b8: number };
}

function streamArrays(a: Record<string, Float32Array>, prefix: "g" | "l"): StreamArrays {
  return { b1: a[`${prefix}1b`], w2: a[`${prefix}2w`], b2: a[`${prefix}2b`], qw: a[`${prefix}qw`], qb: a[`${prefix}qb`], kw: a[`${prefix}kw`], kb: a[`${prefix}kb`], vw: a[`${prefix}vw`], vb: a[`${prefix}vb`], q: a[`${prefix}q`] };
}

function streamParams(p: Record<string, Float32Array>, prefix: "g" | "l", r: number): StreamParams {
  return { ...streamArrays(p, prefix), o: { b1: r * HIDDEN1, w2: r * HIDDEN1 * HIDDEN2, b2: r * HIDDEN2, k8: r * HIDDEN2 * HIDDEN2, b8: r * HIDDEN2 } };
}

function streamGrads(g: Record<string, Float32Array>, prefix: "g" | "l"): StreamGrads {
  return streamArrays(g, prefix);
}

/** Scratch for one bag of one stream. */
class BagScratch {
  h1: Float32Array;
  h2: Float32Array;
  k: Float32Array;
  v: Float32Array;
  a: Float64Array;
  arg = new Int32Array(HIDDEN2);
  z = new Float64Array(HIDDEN2);
  dh2: Float64Array;
  da: Float64Array;
  acc = new Float64Array(HIDDEN2);
  vacc = new Float64Array(HIDDEN2);
  /** One row's query / key / value output gradients in the backward pass of the attention kinds. */
  dqRow = new Float64Array(HIDDEN2);
  dkRow = new Float64Array(HIDDEN2);
  dvRow = new Float64Array(HIDDEN2);
  /** "selfattn" only (allocated on first use): Q, K, V and dQ, dK [L, 8], the attention A [L, L]. */
  self: { q: Float64Array; k: Float64Array; v: Float64Array; dq: Float64Array; dk: Float64Array; A: Float64Array } | null = null;
  constructor(readonly L: number) {
    this.da = new Float64Array(L);
    this.h1 = new Float32Array(L * HIDDEN1);
    this.h2 = new Float32Array(L * HIDDEN2);
    this.k = new Float32Array(L * HIDDEN2);
    this.v = new Float32Array(L * HIDDEN2);
    this.a = new Float64Array(L);
    this.dh2 = new Float64Array(L * HIDDEN2);
  }

  selfScratch(): NonNullable<BagScratch["self"]> {
    if (this.self === null) {
      const n8 = this.L * HIDDEN2;
      this.self = { q: new Float64Array(n8), k: new Float64Array(n8), v: new Float64Array(n8), dq: new Float64Array(n8), dk: new Float64Array(n8), A: new Float64Array(this.L * this.L) };
    }
    return this.self;
  }
}

/**
 * One row through an affine layer with 8 outputs, weights stored [nIn, 8] (y = x W + b):
 * out[oo + c] = b[bo + c] + sum_j x[xo + j] w[wo + 8 j + c], summed in float64 in j order.
 * Zero inputs (ReLU zeros, about half) are skipped: they contribute nothing.
 */
function affine8(x: Float32Array, xo: number, nIn: number, w: Float32Array, wo: number, b: Float32Array, bo: number, out: Float64Array, oo: number): void {
  for (let c = 0; c < HIDDEN2; c++) out[oo + c] = b[bo + c];
  for (let j = 0; j < nIn; j++) {
    const h = x[xo + j];
    if (h === 0) continue;
    const wr = wo + j * HIDDEN2;
    for (let c = 0; c < HIDDEN2; c++) out[oo + c] += h * w[wr + c];
  }
}

/**
 * The key and value projections of one row of 8, shared by both attention kinds: k = x Wk + bk into
 * outK[oo, oo + 8) and v = x Wv + bv into outV[oo, oo + 8) (the stream's [8, 8] weights at o.k8,
 * biases at o.b8), each as affine8 computes it, in one pass over x.
 */
function keyValue8(x: Float32Array, xo: number, sp: StreamParams, outK: Float64Array, outV: Float64Array, oo: number): void {
  const { kw, kb, vw, vb } = sp as Required<StreamParams>;
  const { k8, b8 } = sp.o;
  for (let c = 0; c < HIDDEN2; c++) {
    outK[oo + c] = kb[b8 + c];
    outV[oo + c] = vb[b8 + c];
  }
  for (let j = 0; j < HIDDEN2; j++) {
    const h = x[xo + j];
    if (h === 0) continue;
    const wr = k8 + j * HIDDEN2;
    for (let c = 0; c < HIDDEN2; c++) {
      outK[oo + c] += h * kw[wr + c];
      outV[oo + c] += h * vw[wr + c];
    }
  }
}

/**
 * Backward of the attention projections (keyValue8, and with `query` the "selfattn" query affine8)
 * of the row s.h2[ho, ho + 8), given their output gradients in s.dkRow, s.dvRow (and s.dqRow): adds
 * the weight and bias gradients, and s.dh2[ho + j] += sum_c (dq_c Wq[j, c] + dk_c Wk[j, c] + dv_c Wv[j, c])
 * in c order (without the dq term when not `query`), in one pass over the weights.
 */
function projections8Backward(s: BagScratch, ho: number, sp: StreamParams, sg: StreamGrads, query: boolean): void {
  // qw, qb and their gradients exist only for "selfattn", and are read only when `query`
  const { qw, kw, vw } = sp as Required<StreamParams>;
  const { qw: gqw, qb: gqb, kw: gkw, kb: gkb, vw: gvw, vb: gvb } = sg as Required<StreamGrads>;
  const { k8, b8 } = sp.o;
  const { h2, dh2, dqRow, dkRow, dvRow } = s;
  for (let c = 0; c < HIDDEN2; c++) {
    const dq = dqRow[c];
    const dk = dkRow[c];
    const dv = dvRow[c];
    if (query) gqb[b8 + c] += dq;
    gkb[b8 + c] += dk;
    gvb[b8 + c] += dv;
    for (let j = 0; j < HIDDEN2; j++) {
      const h = h2[ho + j];
      const w = k8 + j * HIDDEN2 + c;
      gkw[w] += h * dk;
      gvw[w] += h * dv;
      if (query) {
        gqw[w] += h * dq;
        dh2[ho + j] += dq * qw[w] + dk * kw[w] + dv * vw[w];
      } else {
        dh2[ho + j] += dk * kw[w] + dv * vw[w];
      }
    }
  }
}

/** x[o, o + n) <- its softmax: shifted by the maximum, exponentiated, then divided by the sum (taken in order). */
function softmaxInPlace(x: Float64Array, o: number, n: number): void {
  let m = -Infinity;
  for (let j = 0; j < n; j++) if (x[o + j] > m) m = x[o + j];
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(x[o + j] - m);
    x[o + j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) x[o + j] /= sum;
}

/** z[c] += sum_i w_i rows[8 i + c] over rows i < n, in order: the pooled output of an attention-weighted bag. */
function addWeightedRows(z: Float64Array, w: Float64Array, rows: Float32Array | Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    const ro = i * HIDDEN2;
    for (let c = 0; c < HIDDEN2; c++) z[c] += wi * rows[ro + c];
  }
}

/**
 * "selfattn" pooling of the bag's rows s.h2[0, n): Q, K, V = h2 W + b, A = softmax(Q K^T / sqrt 8)
 * row-wise (A[i, j] at i n + j), z = mean_i (A V)_i = sum_j a_j V_j with a_j = mean_i A[i, j]
 * (kept in s.a for the backward pass). Float64 throughout.
 */
function selfAttnForward(n: number, sp: StreamParams, s: BagScratch): void {
  const { qw, qb } = sp as Required<StreamParams>;
  const { k8, b8 } = sp.o;
  const h2s = s.h2;
  const { q: Q, k: K, v: V, A } = s.selfScratch();
  for (let i = 0; i < n; i++) {
    const ho = i * HIDDEN2;
    affine8(h2s, ho, HIDDEN2, qw, k8, qb, b8, Q, ho);
    keyValue8(h2s, ho, sp, K, V, ho);
  }
  const a = s.a;
  a.fill(0, 0, n);
  for (let i = 0; i < n; i++) {
    const qo = i * HIDDEN2;
    const ro = i * n;
    for (let j = 0; j < n; j++) {
      const ko = j * HIDDEN2;
      let d = 0;
      for (let c = 0; c < HIDDEN2; c++) d += Q[qo + c] * K[ko + c];
      A[ro + j] = d / S8;
    }
    softmaxInPlace(A, ro, n);
    for (let j = 0; j < n; j++) a[j] += A[ro + j] / n;
  }
  addWeightedRows(s.z, a, V, n);
}

/** Backward of selfAttnForward given dz: adds the Q/K/V parameter gradients and sets s.dh2 (zeroed by the caller). */
function selfAttnBackward(n: number, sp: StreamParams, s: BagScratch, dz: Float64Array, sg: StreamGrads): void {
  const { q: Q, k: K, v: V, dq: dQ, dk: dK, A } = s.selfScratch();
  const { a, da, dqRow, dkRow, dvRow } = s;
  // z = sum_j a_j V_j: da_j = dz . V_j, dV_j = a_j dz; a_j = mean_i A[i, j]: dA[i, j] = da_j / n;
  // softmax rows: dS[i, j] = A[i, j] (dA[i, j] - sum_l A[i, l] dA[i, l]); S = Q K^T / sqrt 8.
  for (let j = 0; j < n; j++) {
    let d = 0;
    for (let c = 0; c < HIDDEN2; c++) d += dz[c] * V[j * HIDDEN2 + c];
    da[j] = d / n;
  }
  dQ.fill(0, 0, n * HIDDEN2);
  dK.fill(0, 0, n * HIDDEN2);
  for (let i = 0; i < n; i++) {
    const ro = i * n;
    let abar = 0;
    for (let j = 0; j < n; j++) abar += A[ro + j] * da[j];
    const qo = i * HIDDEN2;
    for (let j = 0; j < n; j++) {
      const ds = (A[ro + j] * (da[j] - abar)) / S8;
      const ko = j * HIDDEN2;
      for (let c = 0; c < HIDDEN2; c++) {
        dQ[qo + c] += ds * K[ko + c];
        dK[ko + c] += ds * Q[qo + c];
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const ho = i * HIDDEN2;
    const ai = a[i];
    for (let c = 0; c < HIDDEN2; c++) {
      dqRow[c] = dQ[ho + c];
      dkRow[c] = dK[ho + c];
      dvRow[c] = ai * dz[c];
    }
    projections8Backward(s, ho, sp, sg, true);
  }
}

/**
 * "attn" (latent-query) pooling of the bag's rows s.h2[0, n): k, v = h2 W + b (float64, kept in
 * s.k, s.v as float32), a = softmax(k q / sqrt 8) in s.a, z = sum_i a_i v_i.
 */
function attnForward(n: number, sp: StreamParams, s: BagScratch): void {
  const q = sp.q as Float32Array;
  const { kw, kb, vw, vb } = sp as Required<StreamParams>;
  const { k8, b8 } = sp.o;
  const { h2, k: ks, v: vs, a, z } = s;
  // keyValue8 and the score written out for the 8 columns (locals stay in registers; V8 neither
  // unrolls nor hoists these): the same operations in the same order, so the same bits
  const q0 = q[b8], q1 = q[b8 + 1], q2 = q[b8 + 2], q3 = q[b8 + 3], q4 = q[b8 + 4], q5 = q[b8 + 5], q6 = q[b8 + 6], q7 = q[b8 + 7];
  for (let i = 0; i < n; i++) {
    const ho = i * HIDDEN2;
    let k0 = kb[b8], k1 = kb[b8 + 1], k2 = kb[b8 + 2], k3 = kb[b8 + 3], k4 = kb[b8 + 4], k5 = kb[b8 + 5], k6 = kb[b8 + 6], k7 = kb[b8 + 7];
    let v0 = vb[b8], v1 = vb[b8 + 1], v2 = vb[b8 + 2], v3 = vb[b8 + 3], v4 = vb[b8 + 4], v5 = vb[b8 + 5], v6 = vb[b8 + 6], v7 = vb[b8 + 7];
    for (let j = 0; j < HIDDEN2; j++) {
      const h = h2[ho + j];
      if (h === 0) continue;
      const w = k8 + j * HIDDEN2;
      k0 += h * kw[w];
      v0 += h * vw[w];
      k1 += h * kw[w + 1];
      v1 += h * vw[w + 1];
      k2 += h * kw[w + 2];
      v2 += h * vw[w + 2];
      k3 += h * kw[w + 3];
      v3 += h * vw[w + 3];
      k4 += h * kw[w + 4];
      v4 += h * vw[w + 4];
      k5 += h * kw[w + 5];
      v5 += h * vw[w + 5];
      k6 += h * kw[w + 6];
      v6 += h * vw[w + 6];
      k7 += h * kw[w + 7];
      v7 += h * vw[w + 7];
    }
    ks[ho] = k0;
    ks[ho + 1] = k1;
    ks[ho + 2] = k2;
    ks[ho + 3] = k3;
    ks[ho + 4] = k4;
    ks[ho + 5] = k5;
    ks[ho + 6] = k6;
    ks[ho + 7] = k7;
    vs[ho] = v0;
    vs[ho + 1] = v1;
    vs[ho + 2] = v2;
    vs[ho + 3] = v3;
    vs[ho + 4] = v4;
    vs[ho + 5] = v5;
    vs[ho + 6] = v6;
    vs[ho + 7] = v7;
    let sc = 0;
    sc += k0 * q0;
    sc += k1 * q1;
    sc += k2 * q2;
    sc += k3 * q3;
    sc += k4 * q4;
    sc += k5 * q5;
    sc += k6 * q6;
    sc += k7 * q7;
    a[i] = sc / S8;
  }
  softmaxInPlace(a, 0, n);
  addWeightedRows(z, a, vs, n);
}

/** Backward of attnForward given dz: adds the key / value / query gradients and sets s.dh2 (zeroed by the caller). */
function attnBackward(n: number, sp: StreamParams, s: BagScratch, dz: Float64Array, sg: StreamGrads): void {
  const q = sp.q as Float32Array;
  const gq = sg.q as Float32Array;
  const { kw, vw } = sp as Required<StreamParams>;
  const { kw: gkw, kb: gkb, vw: gvw, vb: gvb } = sg as Required<StreamGrads>;
  const { k8, b8 } = sp.o;
  const { a, da, h2, dh2, k: ks, v: vs } = s;
  // da_i = dz . v_i ; ds_i = a_i (da_i - sum_j a_j da_j)
  let abar = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let c = 0; c < HIDDEN2; c++) d += dz[c] * vs[i * HIDDEN2 + c];
    da[i] = d;
    abar += a[i] * d;
  }
  const q0 = q[b8], q1 = q[b8 + 1], q2 = q[b8 + 2], q3 = q[b8 + 3], q4 = q[b8 + 4], q5 = q[b8 + 5], q6 = q[b8 + 6], q7 = q[b8 + 7];
  const z0 = dz[0], z1 = dz[1], z2 = dz[2], z3 = dz[3], z4 = dz[4], z5 = dz[5], z6 = dz[6], z7 = dz[7];
  for (let i = 0; i < n; i++) {
    const ho = i * HIDDEN2;
    const ds = (a[i] * (da[i] - abar)) / S8;
    const ai = a[i];
    // dk_c = ds q_c, dv_c = a_i dz_c, and the query gradient, as projections8Backward(query = false)
    // does it, written out: each gradient element gets the same additions in the same order
    const dk0 = ds * q0, dk1 = ds * q1, dk2 = ds * q2, dk3 = ds * q3, dk4 = ds * q4, dk5 = ds * q5, dk6 = ds * q6, dk7 = ds * q7;
    const dv0 = ai * z0, dv1 = ai * z1, dv2 = ai * z2, dv3 = ai * z3, dv4 = ai * z4, dv5 = ai * z5, dv6 = ai * z6, dv7 = ai * z7;
    gq[b8] += ds * ks[ho];
    gq[b8 + 1] += ds * ks[ho + 1];
    gq[b8 + 2] += ds * ks[ho + 2];
    gq[b8 + 3] += ds * ks[ho + 3];
    gq[b8 + 4] += ds * ks[ho + 4];
    gq[b8 + 5] += ds * ks[ho + 5];
    gq[b8 + 6] += ds * ks[ho + 6];
    gq[b8 + 7] += ds * ks[ho + 7];
    gkb[b8] += dk0;
    gvb[b8] += dv0;
    gkb[b8 + 1] += dk1;
    gvb[b8 + 1] += dv1;
    gkb[b8 + 2] += dk2;
    gvb[b8 + 2] += dv2;
    gkb[b8 + 3] += dk3;
    gvb[b8 + 3] += dv3;
    gkb[b8 + 4] += dk4;
    gvb[b8 + 4] += dv4;
    gkb[b8 + 5] += dk5;
    gvb[b8 + 5] += dv5;
    gkb[b8 + 6] += dk6;
    gvb[b8 + 6] += dv6;
    gkb[b8 + 7] += dk7;
    gvb[b8 + 7] += dv7;
    for (let j = 0; j < HIDDEN2; j++) {
      const h = h2[ho + j];
      const w = k8 + j * HIDDEN2;
      gkw[w] += h * dk0;
      gvw[w] += h * dv0;
      gkw[w + 1] += h * dk1;
      gvw[w + 1] += h * dv1;
      gkw[w + 2] += h * dk2;
      gvw[w + 2] += h * dv2;
      gkw[w + 3] += h * dk3;
      gvw[w + 3] += h * dv3;
      gkw[w + 4] += h * dk4;
      gvw[w + 4] += h * dv4;
      gkw[w + 5] += h * dk5;
      gvw[w + 5] += h * dv5;
      gkw[w + 6] += h * dk6;
      gvw[w + 6] += h * dv6;
      gkw[w + 7] += h * dk7;
      gvw[w + 7] += h * dv7;
      let d = dh2[ho + j];
      d += dk0 * kw[w] + dv0 * vw[w];
      d += dk1 * kw[w + 1] + dv1 * vw[w + 1];
      d += dk2 * kw[w + 2] + dv2 * vw[w + 2];
      d += dk3 * kw[w + 3] + dv3 * vw[w + 3];
      d += dk4 * kw[w + 4] + dv4 * vw[w + 4];
      d += dk5 * kw[w + 5] + dv5 * vw[w + 5];
      d += dk6 * kw[w + 6] + dv6 * vw[w + 6];
      d += dk7 * kw[w + 7] + dv7 * vw[w + 7];
      dh2[ho + j] = d;
    }
  }
}

/** Rows i < count of bag b of run r: h1, h2 (and k, v for attention); then pool into s.z. */
function forwardBag(H: Float32Array, rowBase: number, count: number, sp: StreamParams, agg: Aggregator | null, s: BagScratch): void {
  // Offsets and arrays hoisted into locals: V8 does not hoist property loads out of these loops.
  const { b1, w2, b2 } = sp;
  const { b1: ob1, w2: ow2, b2: ob2 } = sp.o;
  const { h1: h1s, h2: h2s } = s;
  // affine8 of the 16 -> 8 layer written out with its 8 outputs in locals (same operations, same
  // order, so the same bits as affine8; ~2x faster in V8, which neither unrolls nor keeps them in registers)
  for (let i = 0; i < count; i++) {
    const hr = (rowBase + i) * HIDDEN1;
    const h1o = i * HIDDEN1;
    let a0 = b2[ob2], a1 = b2[ob2 + 1], a2 = b2[ob2 + 2], a3 = b2[ob2 + 3], a4 = b2[ob2 + 4], a5 = b2[ob2 + 5], a6 = b2[ob2 + 6], a7 = b2[ob2 + 7];
    for (let j = 0; j < HIDDEN1; j++) {
      const x = H[hr + j] + b1[ob1 + j];
      if (!(x > 0)) {
        h1s[h1o + j] = 0;
        continue;
      }
      h1s[h1o + j] = x;
      const h = h1s[h1o + j]; // rounded to float32, as affine8 reads it back
      const w = ow2 + j * HIDDEN2;
      a0 += h * w2[w];
      a1 += h * w2[w + 1];
      a2 += h * w2[w + 2];
      a3 += h * w2[w + 3];
      a4 += h * w2[w + 4];
      a5 += h * w2[w + 5];
      a6 += h * w2[w + 6];
      a7 += h * w2[w + 7];
    }
    const h2o = i * HIDDEN2;
    h2s[h2o] = a0 > 0 ? a0 : 0;
    h2s[h2o + 1] = a1 > 0 ? a1 : 0;
    h2s[h2o + 2] = a2 > 0 ? a2 : 0;
    h2s[h2o + 3] = a3 > 0 ? a3 : 0;
    h2s[h2o + 4] = a4 > 0 ? a4 : 0;
    h2s[h2o + 5] = a5 > 0 ? a5 : 0;
    h2s[h2o + 6] = a6 > 0 ? a6 : 0;
    h2s[h2o + 7] = a7 > 0 ? a7 : 0;
  }
  const z = s.z;
  z.fill(0);
  if (agg === null || count === 0) return;
  if (agg === "mean") {
    for (let i = 0; i < count; i++) for (let k = 0; k < HIDDEN2; k++) z[k] += h2s[i * HIDDEN2 + k];
    for (let k = 0; k < HIDDEN2; k++) z[k] /= count;
  } else if (agg === "max") {
    for (let k = 0; k < HIDDEN2; k++) {
      let best = 0;
      for (let i = 1; i < count; i++) if (h2s[i * HIDDEN2 + k] > h2s[best * HIDDEN2 + k]) best = i;
      s.arg[k] = best;
      z[k] = h2s[best * HIDDEN2 + k];
    }
  } else if (agg === "selfattn") {
    selfAttnForward(count, sp, s);
  } else {
    attnForward(count, sp, s);
  }
}

/** Backward of one bag given dz (pool output gradient) or, for instance rows, s.dh2 preset. Accumulates into grads and dH. */
function backwardBag(
  H: Float32Array,
  rowBase: number,
  count: number,
  sp: StreamParams,
  agg: Aggregator | null,
  s: BagScratch,
  dz: Float64Array | null,
  sg: StreamGrads,
  dH: Float32Array,
): void {
  const { b1, w2, o } = sp;
  if (dz !== null) {
    s.dh2.fill(0, 0, count * HIDDEN2);
    if (count === 0) return;
    if (agg === "mean") {
      for (let i = 0; i < count; i++) for (let k = 0; k < HIDDEN2; k++) s.dh2[i * HIDDEN2 + k] = dz[k] / count;
    } else if (agg === "max") {
      for (let k = 0; k < HIDDEN2; k++) s.dh2[s.arg[k] * HIDDEN2 + k] += dz[k];
    } else if (agg === "selfattn") {
      selfAttnBackward(count, sp, s, dz, sg);
    } else {
      attnBackward(count, sp, s, dz, sg);
    }
  }
  const gw2 = sg.w2;
  const gb2 = sg.b2;
  const gb1 = sg.b1;
  const { h1: h1s, h2: h2s, dh2 } = s;
  const ob1 = o.b1;
  const ob2 = o.b2;
  const ow2 = o.w2;
  // written out over the 8 outputs of the 16 -> 8 layer (as forwardBag): the same additions in the same order
  for (let i = 0; i < count; i++) {
    const h1o = i * HIDDEN1;
    const h2o = i * HIDDEN2;
    const d0 = h2s[h2o] > 0 ? dh2[h2o] : 0;
    const d1 = h2s[h2o + 1] > 0 ? dh2[h2o + 1] : 0;
    const d2 = h2s[h2o + 2] > 0 ? dh2[h2o + 2] : 0;
    const d3 = h2s[h2o + 3] > 0 ? dh2[h2o + 3] : 0;
    const d4 = h2s[h2o + 4] > 0 ? dh2[h2o + 4] : 0;
    const d5 = h2s[h2o + 5] > 0 ? dh2[h2o + 5] : 0;
    const d6 = h2s[h2o + 6] > 0 ? dh2[h2o + 6] : 0;
    const d7 = h2s[h2o + 7] > 0 ? dh2[h2o + 7] : 0;
    gb2[ob2] += d0;
    gb2[ob2 + 1] += d1;
    gb2[ob2 + 2] += d2;
    gb2[ob2 + 3] += d3;
    gb2[ob2 + 4] += d4;
    gb2[ob2 + 5] += d5;
    gb2[ob2 + 6] += d6;
    gb2[ob2 + 7] += d7;
    const hr = (rowBase + i) * HIDDEN1;
    for (let j = 0; j < HIDDEN1; j++) {
      // ReLU'(H + b1) is 0 where h1 is 0: nothing flows back through those units, and their
      // contribution to dW2 (h1 x dpre2) is 0 as well
      if (!(H[hr + j] + b1[ob1 + j] > 0)) {
        dH[hr + j] = 0;
        continue;
      }
      const h1 = h1s[h1o + j];
      const wo = ow2 + j * HIDDEN2;
      gw2[wo] += h1 * d0;
      gw2[wo + 1] += h1 * d1;
      gw2[wo + 2] += h1 * d2;
      gw2[wo + 3] += h1 * d3;
      gw2[wo + 4] += h1 * d4;
      gw2[wo + 5] += h1 * d5;
      gw2[wo + 6] += h1 * d6;
      gw2[wo + 7] += h1 * d7;
      let g = 0;
      g += d0 * w2[wo];
      g += d1 * w2[wo + 1];
      g += d2 * w2[wo + 2];
      g += d3 * w2[wo + 3];
      g += d4 * w2[wo + 4];
      g += d5 * w2[wo + 5];
      g += d6 * w2[wo + 6];
      g += d7 * w2[wo + 7];
      gb1[ob1 + j] += g;
      dH[hr + j] = g;
    }
  }
}

function zerosLike(p: Record<string, Float32Array>): Record<string, Float32Array> {
  const o: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) o[k] = new Float32Array(v.length);
  return o;
}

function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Arrays a slice job reuses from job to job (its padded H and dH, zeroed on every use), one set
 * per thread: runSlice unpads dH into the shared packed array before it returns, so nothing
 * outlives the job. Without this every job left ~2 x runs x rows x 16 floats of garbage per
 * stream in its worker.
 */
const sliceScratch = new ReusedArrays();

function sliceArray(key: string, n: number): Float32Array {
  return sliceScratch.get(key, n).fill(0);
}

function run(layout: ChunkLayout, g: GroupArrays, withGrads: boolean, reuse = false): { logits: Float32Array; grads: GroupGrads } {
  const c: HeadConfig = g.config;
  const R = g.runs;
  const B = layout.bags;
  const Lg = layout.lGlobal;
  const Lt = layout.lTile;
  const p = g.params;
  const instance = c.instance !== null;
  const logits = new Float32Array(instance ? R * B * Lg : R * B);
  const grads: GroupGrads = {
    loss: new Float32Array(R),
    dGlobal: g.hGlobal && withGrads ? (reuse ? sliceArray("dGlobal", g.hGlobal.length) : new Float32Array(g.hGlobal.length)) : null,
    dTile: g.hTile && withGrads ? (reuse ? sliceArray("dTile", g.hTile.length) : new Float32Array(g.hTile.length)) : null,
    params: withGrads ? zerosLike(p) : {},
  };
  const sg = new BagScratch(Lg);
  const st = new BagScratch(Lt);
  const fw = p.fw;
  const fb = p.fb;
  const F = fw.length / R;
  const dzg = new Float64Array(HIDDEN2);
  const dzl = new Float64Array(HIDDEN2);
  const gg = withGrads ? streamGrads(grads.params, "g") : null;
  const lg = withGrads ? streamGrads(grads.params, "l") : null;
  for (let r = 0; r < R; r++) {
    const gp = instance || c.global !== null ? streamParams(p, "g", r) : null;
    const lp = c.local !== null ? streamParams(p, "l", r) : null;
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const y = layout.labels[b];
      if (instance) {
        const nG = layout.countGlobal[b];
        const base = r * B * Lg + b * Lg;
        forwardBag(g.hGlobal as Float32Array, base, nG, gp as StreamParams, null, sg);
        for (let i = 0; i < nG; i++) {
          let x = fb[r];
          for (let k = 0; k < HIDDEN2; k++) x += sg.h2[i * HIDDEN2 + k] * fw[r * F + k];
          logits[base + i] = x;
          const w = layout.rowWeights[b * Lg + i];
          loss += w * (softplus(x) - x * y);
          if (withGrads) {
            const dl = w * (sigmoid(x) - y);
            grads.params.fb[r] += dl;
            for (let k = 0; k < HIDDEN2; k++) {
              grads.params.fw[r * F + k] += dl * sg.h2[i * HIDDEN2 + k];
              sg.dh2[i * HIDDEN2 + k] = dl * fw[r * F + k];
            }
          }
        }
        if (withGrads) backwardBag(g.hGlobal as Float32Array, base, nG, gp as StreamParams, null, sg, null, gg as StreamGrads, grads.dGlobal as Float32Array);
        continue;
      }
      let x = fb[r];
      let off = 0;
      const gBase = r * B * Lg + b * Lg;
      const tBase = r * B * Lt + b * Lt;
      if (c.global !== null) {
        forwardBag(g.hGlobal as Float32Array, gBase, layout.countGlobal[b], gp as StreamParams, c.global, sg);
        for (let k = 0; k < HIDDEN2; k++) x += sg.z[k] * fw[r * F + k];
        off = HIDDEN2;
      }
      if (c.local !== null) {
        forwardBag(g.hTile as Float32Array, tBase, layout.countTile[b], lp as StreamParams, c.local, st);
        for (let k = 0; k < HIDDEN2; k++) x += st.z[k] * fw[r * F + off + k];
      }
      logits[r * B + b] = x;
      const w = layout.bagWeights[b];
      loss += w * (softplus(x) - x * y);
      if (!withGrads || w === 0) continue;
      const dl = w * (sigmoid(x) - y);
      grads.params.fb[r] += dl;
      if (c.global !== null) {
        for (let k = 0; k < HIDDEN2; k++) {
          grads.params.fw[r * F + k] += dl * sg.z[k];
          dzg[k] = dl * fw[r * F + k];
        }
        backwardBag(g.hGlobal as Float32Array, gBase, layout.countGlobal[b], gp as StreamParams, c.global, sg, dzg, gg as StreamGrads, grads.dGlobal as Float32Array);
      }
      if (c.local !== null) {
        for (let k = 0; k < HIDDEN2; k++) {
          grads.params.fw[r * F + off + k] += dl * st.z[k];
          dzl[k] = dl * fw[r * F + off + k];
        }
        backwardBag(g.hTile as Float32Array, tBase, layout.countTile[b], lp as StreamParams, c.local, st, dzl, lg as StreamGrads, grads.dTile as Float32Array);
      }
    }
    grads.loss[r] = loss;
  }
  return { logits, grads };
}

/** Hand-written counterpart of groupsLossAndGrads (same inputs and outputs). */
export function groupsLossAndGradsJs(layout: ChunkLayout, groups: GroupArrays[]): GroupGrads[] {
  return groups.map((g) => run(layout, g, true).grads);
}

/** Hand-written counterpart of groupsLogits. */
export function groupsLogitsJs(layout: ChunkLayout, groups: GroupArrays[]): Float32Array[] {
  return groups.map((g) => run(layout, g, false).logits);
}

/**
 * Copy the 16-column blocks of R runs between packed rows (columns [c0, c0 + 16 R) of n x C) and
 * the padded, run-major layout [R, bags x L, 16] (bag b at rows [b L, b L + count)): into `padded`
 * when `toPadded`, else back into `packed`.
 */
function copyPadded(packed: Float32Array, padded: Float32Array, toPadded: boolean, C: number, c0: number, runs: number, starts: Int32Array, L: number): void {
  const B = starts.length - 1;
  const rowsPadded = B * L;
  for (let b = 0; b < B; b++) {
    for (let r = starts[b], k = 0; r < starts[b + 1]; r++, k++) {
      const row = b * L + k;
      for (let q = 0; q < runs; q++) {
        const pk = r * C + c0 + q * HIDDEN1;
        const pd = (q * rowsPadded + row) * HIDDEN1;
        if (toPadded) for (let j = 0; j < HIDDEN1; j++) padded[pd + j] = packed[pk + j];
        else for (let j = 0; j < HIDDEN1; j++) packed[pk + j] = padded[pd + j];
      }
    }
  }
}

/**
 * Copy the 16-column blocks of R runs (columns [c0, c0 + 16 R) of packed rows, n x C) into the
 * padded, run-major layout the head after H takes: [R, bags x L, 16], bag b at rows [b L, b L + count).
 */
export function padColumns(h: Float32Array, C: number, c0: number, runs: number, starts: Int32Array, L: number, out = new Float32Array(runs * (starts.length - 1) * L * HIDDEN1)): Float32Array {
  copyPadded(h, out, true, C, c0, runs, starts, L);
  return out;
}

/** The inverse of padColumns: write [R, bags x L, 16] back into columns [c0, c0 + 16 R) of packed n x C. */
export function unpadColumns(p: Float32Array, into: Float32Array, C: number, c0: number, runs: number, starts: Int32Array, L: number): void {
  copyPadded(into, p, false, C, c0, runs, starts, L);
}

/**
 * One contiguous slice of runs of one config group on one chunk, as a worker thread takes it:
 * the PACKED H of the chunk (rows x C, every run's 16 columns side by side; a SharedArrayBuffer
 * when it crosses threads, so nothing is copied) and the slice's first column. The slice pads
 * its own columns, runs the fused forward/backward, and writes its columns of the packed dH in
 * place (slices own disjoint columns, so threads never write the same element).
 */
export interface SliceJob {
  withGrads: boolean;
  layout: ChunkLayout;
  config: HeadConfig;
  runs: number;
  /** The slice's stacked parameters (everything but the first-layer weights). */
  params: Record<string, Float32Array>;
  hg: Float32Array | null;
  cg: number;
  gCol: number;
  gStarts: Int32Array;
  ht: Float32Array | null;
  ct: number;
  tCol: number;
  tStarts: Int32Array;
  /** Packed dH outputs (same shapes as hg / ht), written at the slice's columns; null when scoring. */
  dHg: Float32Array | null;
  dHt: Float32Array | null;
}

export interface SliceResult {
  /** Per-run loss (withGrads), else null. */
  loss: Float32Array | null;
  params: Record<string, Float32Array> | null;
  /** Logits (scoring), [runs, bags] or [runs, bags x lGlobal] for instance heads; else null. */
  logits: Float32Array | null;
}

export function runSlice(job: SliceJob): SliceResult {
  const c = job.config;
  const L = job.layout;
  const group: GroupArrays = {
    config: c,
    runs: job.runs,
    hGlobal: hasGlobalStream(c) && job.hg ? padColumns(job.hg, job.cg, job.gCol, job.runs, job.gStarts, L.lGlobal, sliceArray("hGlobal", job.runs * L.bags * L.lGlobal * HIDDEN1)) : null,
    hTile: hasLocalStream(c) && job.ht ? padColumns(job.ht, job.ct, job.tCol, job.runs, job.tStarts, L.lTile, sliceArray("hTile", job.runs * L.bags * L.lTile * HIDDEN1)) : null,
    params: job.params,
  };
  const r = run(L, group, job.withGrads, true);
  if (!job.withGrads) return { loss: null, params: null, logits: r.logits };
  if (r.grads.dGlobal && job.dHg) unpadColumns(r.grads.dGlobal, job.dHg, job.cg, job.gCol, job.runs, job.gStarts, L.lGlobal);
  if (r.grads.dTile && job.dHt) unpadColumns(r.grads.dTile, job.dHt, job.ct, job.tCol, job.runs, job.tStarts, L.lTile);
  return { loss: r.grads.loss, params: r.grads.params, logits: null };
}
