import { hasGlobalStream, hasLocalStream, type Aggregator, type HeadConfig } from "./config";
import type { ChunkLayout } from "./chunks";
import { HIDDEN1, HIDDEN2 } from "./params";

/**
 * The head after H, forward and backward, written out by hand for R runs: the same maths as the
 * tfjs version in internal/tfjsHeadOracle.ts, which stays as the autodiff oracle (the tests check
 * both against float64 finite differences and each other). It reads H, and writes dH, in place in a
 * chunk's packed rows (no padded copy; the oracle takes the padded [R, bags x L, 16] layout that
 * padColumns makes).
 *
 * Why by hand: the per-row layers are 16 -> 8 and 8 -> 8 matrices. tfjs-wasm runs them as
 * batched matMuls with tiny inner dimensions at ~0.2 GMAC/s, and every elementwise op is another
 * pass over a [R, rows, 16] tensor: measured ~2 s per 8k-row chunk at R = 36, i.e. ~100 s per
 * epoch on the 10,000-bag benchmark, 3x the X passes themselves. Fused loops keep each row's
 * 16 + 8 values in registers and take ~10x less (see bench/train.ts and lib/head/README.md).
 * How the loops are made fast (each measured; lib/head/README.md): the latent-query attention is
 * computed from bag sums (no per-row keys and values), ReLU is a multiplication by a 0/1 mask (no
 * mispredicted branches), the parameters are read and the gradients summed in float64.
 */
const S8 = Math.sqrt(HIDDEN2);

/** One stream's arrays (parameters or their gradients), stacked over runs. */
interface StreamArrays {
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
  /** Query projection of "selfattn" (Q = h qw + qb). */
  qw?: Float64Array;
  qb?: Float64Array;
  kw?: Float64Array;
  kb?: Float64Array;
  vw?: Float64Array;
  vb?: Float64Array;
  q?: Float64Array;
}

/** The gradient arrays of one stream (same offsets as StreamParams). */
type StreamGrads = StreamArrays;

interface StreamParams extends StreamArrays {
  o: { b1: number; w2: number; b2: number; k8: number; b8: number };
}

function streamArrays(a: Record<string, Float64Array>, prefix: "g" | "l"): StreamArrays {
  return { b1: a[`${prefix}1b`], w2: a[`${prefix}2w`], b2: a[`${prefix}2b`], qw: a[`${prefix}qw`], qb: a[`${prefix}qb`], kw: a[`${prefix}kw`], kb: a[`${prefix}kb`], vw: a[`${prefix}vw`], vb: a[`${prefix}vb`], q: a[`${prefix}q`] };
}

function streamParams(p: Record<string, Float64Array>, prefix: "g" | "l", r: number): StreamParams {
  return { ...streamArrays(p, prefix), o: { b1: r * HIDDEN1, w2: r * HIDDEN1 * HIDDEN2, b2: r * HIDDEN2, k8: r * HIDDEN2 * HIDDEN2, b8: r * HIDDEN2 } };
}

function streamGrads(g: Record<string, Float64Array>, prefix: "g" | "l"): StreamGrads {
  return streamArrays(g, prefix);
}

/** Scratch for one bag of one stream. */
class BagScratch {
  h1: Float32Array;
  h2: Float32Array;
  a: Float64Array;
  /** "attn": u = Wk q, sa = sum_i a_i h2_i and its weight sum_i a_i (forward); t = Wv dz, sd = sum_i ds_i h2_i (backward). */
  u = new Float64Array(HIDDEN2);
  sa = new Float64Array(HIDDEN2);
  asum = 0;
  t = new Float64Array(HIDDEN2);
  sd = new Float64Array(HIDDEN2);
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
function affine8(x: Float32Array, xo: number, nIn: number, w: Float64Array, wo: number, b: Float64Array, bo: number, out: Float64Array, oo: number): void {
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

/** out[i] = bias + rows_i . v for the n rows of 8 (v's 8 values in locals). */
function rowDots8(rows: Float32Array, n: number, v: Float64Array, bias: number, out: Float64Array): void {
  const v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3], v4 = v[4], v5 = v[5], v6 = v[6], v7 = v[7];
  for (let i = 0; i < n; i++) {
    const o = i * HIDDEN2;
    out[i] = bias + rows[o] * v0 + rows[o + 1] * v1 + rows[o + 2] * v2 + rows[o + 3] * v3 + rows[o + 4] * v4 + rows[o + 5] * v5 + rows[o + 6] * v6 + rows[o + 7] * v7;
  }
}

/** out = sum_i w_i rows_i over the n rows of 8, in row order (sums in locals); returns sum_i w_i. */
function weightedRowSums8(w: Float64Array, rows: Float32Array, n: number, out: Float64Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, ws = 0;
  for (let i = 0; i < n; i++) {
    const o = i * HIDDEN2;
    const wi = w[i];
    ws += wi;
    s0 += wi * rows[o];
    s1 += wi * rows[o + 1];
    s2 += wi * rows[o + 2];
    s3 += wi * rows[o + 3];
    s4 += wi * rows[o + 4];
    s5 += wi * rows[o + 5];
    s6 += wi * rows[o + 6];
    s7 += wi * rows[o + 7];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
  out[4] = s4;
  out[5] = s5;
  out[6] = s6;
  out[7] = s7;
  return ws;
}

/**
 * "attn" (latent-query) pooling of the bag's rows s.h2[0, n), computed without the per-row keys
 * and values: with u = Wk q, the score k_i . q = h2_i . u + bk . q, and since z = sum_i a_i v_i is
 * linear in h2, z = (sum_i a_i h2_i) Wv + (sum_i a_i) bv. That is 16 multiply-adds per row instead
 * of 136 (the same maths as the float64 reference; the sums are taken in another order). Keeps
 * a in s.a, u in s.u, sa = sum_i a_i h2_i in s.sa and sum_i a_i in s.asum for the backward pass.
 */
function attnForward(n: number, sp: StreamParams, s: BagScratch): void {
  const q = sp.q as Float64Array;
  const { kw, kb, vw, vb } = sp as Required<StreamParams>;
  const { k8, b8 } = sp.o;
  const { h2, a, z, u, sa } = s;
  let bkq = 0;
  for (let c = 0; c < HIDDEN2; c++) bkq += kb[b8 + c] * q[b8 + c];
  for (let j = 0; j < HIDDEN2; j++) {
    let d = 0;
    for (let c = 0; c < HIDDEN2; c++) d += kw[k8 + j * HIDDEN2 + c] * q[b8 + c];
    u[j] = d;
  }
  rowDots8(h2, n, u, bkq, a);
  for (let i = 0; i < n; i++) a[i] /= S8;
  softmaxInPlace(a, 0, n);
  const asum = weightedRowSums8(a, h2, n, sa);
  s.asum = asum;
  for (let c = 0; c < HIDDEN2; c++) {
    let d = asum * vb[b8 + c];
    for (let j = 0; j < HIDDEN2; j++) d += sa[j] * vw[k8 + j * HIDDEN2 + c];
    z[c] = d;
  }
}

/**
 * Backward of attnForward given dz: adds the key / value / query gradients and sets s.dh2. With
 * t = Wv dz: da_i = dz . v_i = h2_i . t + bv . dz, ds_i = a_i (da_i - sum_j a_j da_j) / sqrt 8 (the
 * score gradient), and since dk_i = ds_i q and dv_i = a_i dz, the weight gradients are outer
 * products of bag sums: dWk = (sum_i ds_i h2_i) q^T, dWv = (sum_i a_i h2_i) dz^T,
 * dq = (sum_i ds_i h2_i) Wk + (sum_i ds_i) bk, and dh2_i = ds_i u + a_i t.
 */
function attnBackward(n: number, sp: StreamParams, s: BagScratch, dz: Float64Array, sg: StreamGrads): void {
  const q = sp.q as Float64Array;
  const gq = sg.q as Float64Array;
  const { kw, kb, vw, vb } = sp as Required<StreamParams>;
  const { kw: gkw, kb: gkb, vw: gvw, vb: gvb } = sg as Required<StreamGrads>;
  const { k8, b8 } = sp.o;
  const { a, da, h2, dh2, u, sa, t } = s;
  let beta = 0;
  for (let c = 0; c < HIDDEN2; c++) beta += vb[b8 + c] * dz[c];
  for (let j = 0; j < HIDDEN2; j++) {
    let d = 0;
    for (let c = 0; c < HIDDEN2; c++) d += vw[k8 + j * HIDDEN2 + c] * dz[c];
    t[j] = d;
  }
  rowDots8(h2, n, t, beta, da);
  let abar = 0;
  for (let i = 0; i < n; i++) abar += a[i] * da[i];
  const t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7];
  const u0 = u[0], u1 = u[1], u2 = u[2], u3 = u[3], u4 = u[4], u5 = u[5], u6 = u[6], u7 = u[7];
  // da_i <- ds_i (da is not read again), and the rows of dh2
  for (let i = 0; i < n; i++) {
    const ho = i * HIDDEN2;
    const ai = a[i];
    const ds = (ai * (da[i] - abar)) / S8;
    da[i] = ds;
    dh2[ho] = ds * u0 + ai * t0;
    dh2[ho + 1] = ds * u1 + ai * t1;
    dh2[ho + 2] = ds * u2 + ai * t2;
    dh2[ho + 3] = ds * u3 + ai * t3;
    dh2[ho + 4] = ds * u4 + ai * t4;
    dh2[ho + 5] = ds * u5 + ai * t5;
    dh2[ho + 6] = ds * u6 + ai * t6;
    dh2[ho + 7] = ds * u7 + ai * t7;
  }
  const sd = s.sd;
  const S = weightedRowSums8(da, h2, n, sd);
  const asum = s.asum;
  for (let c = 0; c < HIDDEN2; c++) {
    const qc = q[b8 + c];
    const dzc = dz[c];
    let g = S * kb[b8 + c];
    for (let j = 0; j < HIDDEN2; j++) {
      const w = k8 + j * HIDDEN2 + c;
      g += sd[j] * kw[w];
      gkw[w] += sd[j] * qc;
      gvw[w] += sa[j] * dzc;
    }
    gq[b8 + c] += g;
    gkb[b8 + c] += S * qc;
    gvb[b8 + c] += asum * dzc;
  }
}

/** 1 where x > 0, else 0 (also for NaN), without a branch: V8 turns the comparison into a 0/1 register value. */
function positive(x: number): number {
  return ((x > 0) as unknown as number) | 0;
}

/** max(x, 0) as x times its 0/1 mask (a negative x gives -0, which compares and adds as 0); no branch. */
function relu(x: number): number {
  return x * positive(x);
}

/**
 * Rows i < count of one bag of one run: h1, h2; then pool into s.z. Row i of the bag's H is
 * H[base + i stride, + 16) (see StreamIO).
 */
function forwardBag(H: Float32Array, base: number, stride: number, count: number, sp: StreamParams, agg: Aggregator | null, s: BagScratch): void {
  // Offsets and arrays hoisted into locals: V8 does not hoist property loads out of these loops.
  const { b1, w2, b2 } = sp;
  const { b1: ob1, w2: ow2, b2: ob2 } = sp.o;
  const { h1: h1s, h2: h2s } = s;
  // the 16 -> 8 layer written out with its 8 outputs in locals (~2x faster in V8, which neither
  // unrolls these loops nor keeps the outputs in registers)
  for (let i = 0; i < count; i++) {
    const hr = base + i * stride;
    const h1o = i * HIDDEN1;
    let a0 = b2[ob2], a1 = b2[ob2 + 1], a2 = b2[ob2 + 2], a3 = b2[ob2 + 3], a4 = b2[ob2 + 4], a5 = b2[ob2 + 5], a6 = b2[ob2 + 6], a7 = b2[ob2 + 7];
    for (let j = 0; j < HIDDEN1; j++) {
      // ReLU as a multiplication by the 0/1 mask, not a branch: the signs of H + b1 are random, so
      // a branch is mispredicted half the time (~1.8x slower measured). h is rounded to float32,
      // as h1 is stored and read back by the backward pass.
      const x = Math.fround(H[hr + j] + b1[ob1 + j]);
      const h = relu(x);
      h1s[h1o + j] = h;
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
    h2s[h2o] = relu(a0);
    h2s[h2o + 1] = relu(a1);
    h2s[h2o + 2] = relu(a2);
    h2s[h2o + 3] = relu(a3);
    h2s[h2o + 4] = relu(a4);
    h2s[h2o + 5] = relu(a5);
    h2s[h2o + 6] = relu(a6);
    h2s[h2o + 7] = relu(a7);
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

/**
 * Backward of one bag given dz (pool output gradient) or, for instance rows, s.dh2 preset.
 * Accumulates into grads and writes the bag's rows of dH (same indexing as H in forwardBag).
 */
function backwardBag(
  H: Float32Array,
  base: number,
  stride: number,
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
  // dpre2 = ReLU'(h2) dh2, in place; the bias gradient summed over the bag in locals
  let e0 = 0, e1 = 0, e2 = 0, e3 = 0, e4 = 0, e5 = 0, e6 = 0, e7 = 0;
  for (let i = 0; i < count; i++) {
    const h2o = i * HIDDEN2;
    const d0 = dh2[h2o] * positive(h2s[h2o]);
    const d1 = dh2[h2o + 1] * positive(h2s[h2o + 1]);
    const d2 = dh2[h2o + 2] * positive(h2s[h2o + 2]);
    const d3 = dh2[h2o + 3] * positive(h2s[h2o + 3]);
    const d4 = dh2[h2o + 4] * positive(h2s[h2o + 4]);
    const d5 = dh2[h2o + 5] * positive(h2s[h2o + 5]);
    const d6 = dh2[h2o + 6] * positive(h2s[h2o + 6]);
    const d7 = dh2[h2o + 7] * positive(h2s[h2o + 7]);
    dh2[h2o] = d0;
    dh2[h2o + 1] = d1;
    dh2[h2o + 2] = d2;
    dh2[h2o + 3] = d3;
    dh2[h2o + 4] = d4;
    dh2[h2o + 5] = d5;
    dh2[h2o + 6] = d6;
    dh2[h2o + 7] = d7;
    e0 += d0;
    e1 += d1;
    e2 += d2;
    e3 += d3;
    e4 += d4;
    e5 += d5;
    e6 += d6;
    e7 += d7;
  }
  gb2[ob2] += e0;
  gb2[ob2 + 1] += e1;
  gb2[ob2 + 2] += e2;
  gb2[ob2 + 3] += e3;
  gb2[ob2 + 4] += e4;
  gb2[ob2 + 5] += e5;
  gb2[ob2 + 6] += e6;
  gb2[ob2 + 7] += e7;
  // Per input unit j of the 16 -> 8 layer, over the bag's rows: dW2[j] = sum_i h1_ij dpre2_i and
  // dH_ij = dpre2_i . W2[j] (= the gradient of b1_j, summed over rows), with W2[j] and the
  // sums in locals. ReLU'(H + b1) is 0 where h1 is 0: nothing flows back through those units,
  // and they add nothing to dW2.
  for (let j = 0; j < HIDDEN1; j++) {
    const wo = ow2 + j * HIDDEN2;
    const w0 = w2[wo], w1 = w2[wo + 1], w2_ = w2[wo + 2], w3 = w2[wo + 3], w4 = w2[wo + 4], w5 = w2[wo + 5], w6 = w2[wo + 6], w7 = w2[wo + 7];
    const bj = b1[ob1 + j];
    let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0, gb = 0;
    for (let i = 0; i < count; i++) {
      const hr = base + i * stride + j;
      // branch-free (see forwardBag): an inactive unit has h1 = 0 and its dH is multiplied by 0
      const m = positive(H[hr] + bj);
      const h1 = h1s[i * HIDDEN1 + j];
      const h2o = i * HIDDEN2;
      const d0 = dh2[h2o], d1 = dh2[h2o + 1], d2 = dh2[h2o + 2], d3 = dh2[h2o + 3], d4 = dh2[h2o + 4], d5 = dh2[h2o + 5], d6 = dh2[h2o + 6], d7 = dh2[h2o + 7];
      g0 += h1 * d0;
      g1 += h1 * d1;
      g2 += h1 * d2;
      g3 += h1 * d3;
      g4 += h1 * d4;
      g5 += h1 * d5;
      g6 += h1 * d6;
      g7 += h1 * d7;
      const g = m * (d0 * w0 + d1 * w1 + d2 * w2_ + d3 * w3 + d4 * w4 + d5 * w5 + d6 * w6 + d7 * w7);
      gb += g;
      dH[hr] = g;
    }
    gw2[wo] += g0;
    gw2[wo + 1] += g1;
    gw2[wo + 2] += g2;
    gw2[wo + 3] += g3;
    gw2[wo + 4] += g4;
    gw2[wo + 5] += g5;
    gw2[wo + 6] += g6;
    gw2[wo + 7] += g7;
    gb1[ob1 + j] += gb;
  }
}

/**
 * The parameters widened to float64 (exact), and float64 gradient accumulators: the loops then read
 * and add without a float32 <-> float64 conversion per element, and the gradient sums are rounded
 * to float32 once, at the end of the job.
 */
function widened(p: Record<string, Float32Array>): Record<string, Float64Array> {
  const o: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(p)) o[k] = Float64Array.from(v);
  return o;
}

function zerosLike(p: Record<string, Float32Array>): Record<string, Float64Array> {
  const o: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(p)) o[k] = new Float64Array(v.length);
  return o;
}

function narrowed(p: Record<string, Float64Array>): Record<string, Float32Array> {
  const o: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) o[k] = Float32Array.from(v);
  return o;
}

function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Where one stream's H and dH live for `run`: row i of bag b of run r starts at at(r, b) + i stride.
 * A slice job reads a chunk's packed rows x C (each run's 16 columns side by side; stride C) and
 * writes dH there in place, without a padded copy.
 */
interface StreamIO {
  h: Float32Array;
  /** dH, same layout as h; null when scoring. Rows of bags with no loss weight are not written (the engine hands dH zeroed). */
  dh: Float32Array | null;
  stride: number;
  at(r: number, b: number): number;
}

function packedIO(h: Float32Array, dh: Float32Array | null, C: number, c0: number, starts: Int32Array): StreamIO {
  return { h, dh, stride: C, at: (r, b) => starts[b] * C + c0 + r * HIDDEN1 };
}

/** The head after H for a group's R runs on one chunk: logits, and with `withGrads` the loss, the small-parameter gradients and dH (into io.dh). */
function run(layout: ChunkLayout, c: HeadConfig, R: number, p32: Record<string, Float32Array>, gio: StreamIO | null, tio: StreamIO | null, withGrads: boolean): { logits: Float32Array; loss: Float32Array; params: Record<string, Float32Array> } {
  const B = layout.bags;
  const Lg = layout.lGlobal;
  const Lt = layout.lTile;
  const instance = c.instance !== null;
  const logits = new Float32Array(instance ? R * B * Lg : R * B);
  const lossAcc = new Float64Array(R);
  const p = widened(p32);
  const gparams = withGrads ? zerosLike(p32) : {};
  const sg = new BagScratch(Lg);
  const st = new BagScratch(Lt);
  const fw = p.fw;
  const fb = p.fb;
  const F = fw.length / R;
  const dzg = new Float64Array(HIDDEN2);
  const dzl = new Float64Array(HIDDEN2);
  const gg = withGrads ? streamGrads(gparams, "g") : null;
  const lg = withGrads ? streamGrads(gparams, "l") : null;
  // Bags outer, runs inner: a bag's rows of every run's columns are then read while in the cache
  // (packed H). Each run's sums still go over the bags in order, so the loop order changes no bit.
  const gps = Array.from({ length: R }, (_, r) => (instance || c.global !== null ? streamParams(p, "g", r) : null));
  const lps = Array.from({ length: R }, (_, r) => (c.local !== null ? streamParams(p, "l", r) : null));
  for (let b = 0; b < B; b++) {
    const y = layout.labels[b];
    for (let r = 0; r < R; r++) {
      const gp = gps[r];
      const lp = lps[r];
      if (instance) {
        const io = gio as StreamIO;
        const nG = layout.countGlobal[b];
        const base = io.at(r, b);
        const lo = r * B * Lg + b * Lg;
        forwardBag(io.h, base, io.stride, nG, gp as StreamParams, null, sg);
        for (let i = 0; i < nG; i++) {
          let x = fb[r];
          for (let k = 0; k < HIDDEN2; k++) x += sg.h2[i * HIDDEN2 + k] * fw[r * F + k];
          logits[lo + i] = x;
          const w = layout.rowWeights[b * Lg + i];
          lossAcc[r] += w * (softplus(x) - x * y);
          if (withGrads) {
            const dl = w * (sigmoid(x) - y);
            gparams.fb[r] += dl;
            for (let k = 0; k < HIDDEN2; k++) {
              gparams.fw[r * F + k] += dl * sg.h2[i * HIDDEN2 + k];
              sg.dh2[i * HIDDEN2 + k] = dl * fw[r * F + k];
            }
          }
        }
        if (withGrads) backwardBag(io.h, base, io.stride, nG, gp as StreamParams, null, sg, null, gg as StreamGrads, io.dh as Float32Array);
        continue;
      }
      let x = fb[r];
      let off = 0;
      const gBase = gio && c.global !== null ? gio.at(r, b) : 0;
      const tBase = tio && c.local !== null ? tio.at(r, b) : 0;
      if (c.global !== null) {
        forwardBag((gio as StreamIO).h, gBase, (gio as StreamIO).stride, layout.countGlobal[b], gp as StreamParams, c.global, sg);
        for (let k = 0; k < HIDDEN2; k++) x += sg.z[k] * fw[r * F + k];
        off = HIDDEN2;
      }
      if (c.local !== null) {
        forwardBag((tio as StreamIO).h, tBase, (tio as StreamIO).stride, layout.countTile[b], lp as StreamParams, c.local, st);
        for (let k = 0; k < HIDDEN2; k++) x += st.z[k] * fw[r * F + off + k];
      }
      logits[r * B + b] = x;
      const w = layout.bagWeights[b];
      lossAcc[r] += w * (softplus(x) - x * y);
      if (!withGrads || w === 0) continue;
      const dl = w * (sigmoid(x) - y);
      gparams.fb[r] += dl;
      if (c.global !== null) {
        const io = gio as StreamIO;
        for (let k = 0; k < HIDDEN2; k++) {
          gparams.fw[r * F + k] += dl * sg.z[k];
          dzg[k] = dl * fw[r * F + k];
        }
        backwardBag(io.h, gBase, io.stride, layout.countGlobal[b], gp as StreamParams, c.global, sg, dzg, gg as StreamGrads, io.dh as Float32Array);
      }
      if (c.local !== null) {
        const io = tio as StreamIO;
        for (let k = 0; k < HIDDEN2; k++) {
          gparams.fw[r * F + off + k] += dl * st.z[k];
          dzl[k] = dl * fw[r * F + off + k];
        }
        backwardBag(io.h, tBase, io.stride, layout.countTile[b], lp as StreamParams, c.local, st, dzl, lg as StreamGrads, io.dh as Float32Array);
      }
    }
  }
  return { logits, loss: Float32Array.from(lossAcc), params: narrowed(gparams) };
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
 * when it crosses threads, so nothing is copied) and the slice's first column. The slice reads
 * its own columns in place, runs the fused forward/backward, and writes its columns of the packed
 * dH (slices own disjoint columns, so threads never write the same element).
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
  const gio = hasGlobalStream(c) && job.hg ? packedIO(job.hg, job.withGrads ? job.dHg : null, job.cg, job.gCol, job.gStarts) : null;
  const tio = hasLocalStream(c) && job.ht ? packedIO(job.ht, job.withGrads ? job.dHt : null, job.ct, job.tCol, job.tStarts) : null;
  const r = run(job.layout, c, job.runs, job.params, gio, tio, job.withGrads);
  if (!job.withGrads) return { loss: null, params: null, logits: r.logits };
  return { loss: r.loss, params: r.params, logits: null };
}
