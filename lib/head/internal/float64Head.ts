/**
 * reference: a plain float64 forward pass of ONE head on ONE bag, hand-written loops (the sizes are
 * tiny, 16 / 8 wide, and float64 is needed for finite-difference checks).
 *
 * It is the oracle the tests check the batched training path (ORT X passes + either head after H)
 * and the ONNX export against (test/head/head.test.ts, test/head/deploy.test.ts), and it is kept
 * independent of them for that. It is also the deployable scorer behind loadHead().scoreBag (no
 * tfjs, no wasm heap: `milpf predict --engine js` and the explain stage call it per bag), which is
 * why it lives in lib. Internal: not exported from lib/head/index.ts; reach it through loadHead.
 */
import type { HeadConfig, Aggregator } from "../config";
import type { BagScore } from "../deploy";
import { HIDDEN1, HIDDEN2, type HeadParams } from "../params";

function streamHidden(p: HeadParams, prefix: "g" | "l", x: Float32Array, n: number, dim: number): Float64Array[] {
  const w1 = p[`${prefix}1w`];
  const b1 = p[`${prefix}1b`];
  const w2 = p[`${prefix}2w`];
  const b2 = p[`${prefix}2b`];
  const out: Float64Array[] = [];
  const h1 = new Float64Array(HIDDEN1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < HIDDEN1; j++) h1[j] = b1[j];
    const row = i * dim;
    for (let d = 0; d < dim; d++) {
      const xv = x[row + d];
      if (xv === 0) continue;
      const wr = d * HIDDEN1;
      for (let j = 0; j < HIDDEN1; j++) h1[j] += xv * w1[wr + j];
    }
    for (let j = 0; j < HIDDEN1; j++) if (h1[j] < 0) h1[j] = 0;
    const h2 = new Float64Array(HIDDEN2);
    for (let k = 0; k < HIDDEN2; k++) {
      let s = b2[k];
      for (let j = 0; j < HIDDEN1; j++) s += h1[j] * w2[j * HIDDEN2 + k];
      h2[k] = s > 0 ? s : 0;
    }
    out.push(h2);
  }
  return out;
}

function linear8(h: Float64Array, w: Float32Array, b: Float32Array): Float64Array {
  const o = new Float64Array(HIDDEN2);
  for (let k = 0; k < HIDDEN2; k++) {
    let s = b[k];
    for (let j = 0; j < HIDDEN2; j++) s += h[j] * w[j * HIDDEN2 + k];
    o[k] = s;
  }
  return o;
}

interface Pooled {
  z: Float64Array;
  /** Per instance weight (attention / column mean of the self-attention / uniform / argmax share). */
  weights: Float64Array;
  /** Per instance contribution to z . wf (given wf). */
  contribution: (wf: Float32Array, off: number) => Float64Array;
}

/** Pool a bag's 8-wide hidden rows with one aggregator (empty bag -> zeros). */
function pool(agg: Aggregator, p: HeadParams, prefix: "g" | "l", h: Float64Array[]): Pooled {
  const n = h.length;
  const z = new Float64Array(HIDDEN2);
  const weights = new Float64Array(n);
  if (n === 0) return { z, weights, contribution: () => new Float64Array(0) };
  if (agg === "mean") {
    for (const r of h) for (let k = 0; k < HIDDEN2; k++) z[k] += r[k] / n;
    weights.fill(1 / n);
    return {
      z,
      weights,
      contribution: (wf, off) => Float64Array.from(h, (r) => r.reduce((s, v, k) => s + v * wf[off + k], 0) / n),
    };
  }
  if (agg === "max") {
    // Ties (common: a feature that is 0 for every tile after the ReLU) share the feature equally.
    const ties: number[][] = [];
    for (let k = 0; k < HIDDEN2; k++) {
      let m = h[0][k];
      for (let i = 1; i < n; i++) if (h[i][k] > m) m = h[i][k];
      z[k] = m;
      const t: number[] = [];
      for (let i = 0; i < n; i++) if (h[i][k] === m) t.push(i);
      for (const i of t) weights[i] += 1 / (HIDDEN2 * t.length);
      ties.push(t);
    }
    return {
      z,
      weights,
      contribution: (wf, off) => {
        const c = new Float64Array(n);
        for (let k = 0; k < HIDDEN2; k++) for (const i of ties[k]) c[i] += (z[k] * wf[off + k]) / ties[k].length;
        return c;
      },
    };
  }
  if (agg === "selfattn") {
    // Q/K/V self-attention over the bag, then the mean of the attended rows:
    // z = (1/n) sum_i sum_j A[i][j] v_j = sum_j w_j v_j with w_j = (1/n) sum_i A[i][j].
    const qs = h.map((r) => linear8(r, p[`${prefix}qw`], p[`${prefix}qb`]));
    const ks = h.map((r) => linear8(r, p[`${prefix}kw`], p[`${prefix}kb`]));
    const vs = h.map((r) => linear8(r, p[`${prefix}vw`], p[`${prefix}vb`]));
    for (let i = 0; i < n; i++) {
      const row = ks.map((kj) => {
        let d = 0;
        for (let c = 0; c < HIDDEN2; c++) d += qs[i][c] * kj[c];
        return d / Math.sqrt(HIDDEN2);
      });
      const m = Math.max(...row);
      const e = row.map((x) => Math.exp(x - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < n; j++) weights[j] += e[j] / sum / n;
    }
    for (let j = 0; j < n; j++) for (let k = 0; k < HIDDEN2; k++) z[k] += weights[j] * vs[j][k];
    return {
      z,
      weights,
      contribution: (wf, off) => Float64Array.from(vs, (vj, j) => weights[j] * vj.reduce((a, x, k) => a + x * wf[off + k], 0)),
    };
  }
  const kw = p[`${prefix}kw`];
  const kb = p[`${prefix}kb`];
  const vw = p[`${prefix}vw`];
  const vb = p[`${prefix}vb`];
  const q = p[`${prefix}q`];
  const v = h.map((r) => linear8(r, vw, vb));
  const s = h.map((r) => {
    const k = linear8(r, kw, kb);
    let d = 0;
    for (let j = 0; j < HIDDEN2; j++) d += k[j] * q[j];
    return d / Math.sqrt(HIDDEN2);
  });
  const m = Math.max(...s);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    weights[i] = Math.exp(s[i] - m);
    sum += weights[i];
  }
  for (let i = 0; i < n; i++) weights[i] /= sum;
  for (let i = 0; i < n; i++) for (let k = 0; k < HIDDEN2; k++) z[k] += weights[i] * v[i][k];
  return {
    z,
    weights,
    contribution: (wf, off) => Float64Array.from(v, (vi, i) => weights[i] * vi.reduce((a, x, k) => a + x * wf[off + k], 0)),
  };
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Score one bag. `globals` is nGlobal x dim and `tiles` nTiles x dim, row-major float32.
 * Instance baselines: each global row is scored alone; the bag probability is the mean / max of the
 * image probabilities and the returned logit is its log-odds.
 */
export function scoreBagReference(
  config: HeadConfig,
  params: HeadParams,
  dim: number,
  globals: Float32Array,
  nGlobal: number,
  tiles: Float32Array,
  nTiles: number,
): BagScore {
  if (globals.length < nGlobal * dim) throw new Error(`scoreBag: globals has ${globals.length} values, need ${nGlobal} x ${dim}`);
  if (tiles.length < nTiles * dim) throw new Error(`scoreBag: tiles has ${tiles.length} values, need ${nTiles} x ${dim}`);
  const fw = params.fw;
  const fb = params.fb[0];
  if (config.instance !== null) {
    const h = streamHidden(params, "g", globals, nGlobal, dim);
    const probs = h.map((r) => sigmoid(r.reduce((s, v, k) => s + v * fw[k], fb)));
    let prob = 0;
    if (probs.length > 0) prob = config.instance === "mean" ? probs.reduce((a, b) => a + b, 0) / probs.length : Math.max(...probs);
    const pc = Math.min(Math.max(prob, 1e-300), 1 - 1e-16);
    return {
      logit: Math.log(pc / (1 - pc)),
      probability: prob,
      tileAttention: new Float32Array(nTiles),
      tileContribution: new Float32Array(nTiles),
      globalScores: Float32Array.from(probs),
    };
  }
  let logit = fb;
  let off = 0;
  let globalScores = new Float32Array(nGlobal);
  if (config.global !== null) {
    const g = pool(config.global, params, "g", streamHidden(params, "g", globals, nGlobal, dim));
    for (let k = 0; k < HIDDEN2; k++) logit += g.z[k] * fw[k];
    globalScores = Float32Array.from(g.weights);
    off = HIDDEN2;
  }
  let tileAttention = new Float32Array(nTiles);
  let tileContribution = new Float32Array(nTiles);
  if (config.local !== null) {
    const l = pool(config.local, params, "l", streamHidden(params, "l", tiles, nTiles, dim));
    for (let k = 0; k < HIDDEN2; k++) logit += l.z[k] * fw[off + k];
    tileAttention = Float32Array.from(l.weights);
    tileContribution = Float32Array.from(l.contribution(fw, off));
  }
  return { logit, probability: sigmoid(logit), tileAttention, tileContribution, globalScores };
}
