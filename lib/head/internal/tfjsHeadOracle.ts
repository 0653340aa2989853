/**
 * oracle: the head after the first linear layer in tfjs autodiff, kept for checking.
 *
 * Not the default: trainGrid runs the hand-written fused loops in ../rowgrad.ts (about 10x
 * faster). This is the independent autodiff version they are checked against (test/head/head.test.ts: both vs
 * float64 finite differences; test/head/train.test.ts: trainGrid with postH "js" and "tfjs" trains
 * the same models). Production code can still select it with `postH: "tfjs"` (trainGrid,
 * runTraining), which is why it lives in lib; it is internal (not exported from lib/head/index.ts).
 *
 * R runs of one config at once. Inputs are H = X W1 (no bias) for the runs' columns, laid out
 * PADDED per bag (see ChunkLayout). Padded layout instead of segment ops because the wasm backend
 * has no UnsortedSegmentSum kernel (the gradient of gather).
 */
import * as tf from "@tensorflow/tfjs";
import type { ChunkLayout } from "../chunks";
import type { Aggregator, HeadConfig } from "../config";
import { HIDDEN1, HIDDEN2, paramSpecs, sizeOf } from "../params";
import type { GroupArrays, GroupGrads } from "../postH";

/** tfjs shape of a stacked parameter: [R, a, b] for a 2-D [a, b], [R, 1, k] for a 1-D [k]. */
export function stackedShape(c: HeadConfig, dim: number, name: string, runs: number): [number, number, number] {
  const s = paramSpecs(c, dim).find((p) => p.name === name);
  if (!s) throw new Error(`no parameter ${name} in config ${c.name}`);
  return s.shape.length === 2 ? [runs, s.shape[0], s.shape[1]] : [runs, 1, sizeOf(s.shape)];
}

export interface GroupTensors {
  config: HeadConfig;
  runs: number;
  /** [runs, bags * lGlobal, 16] or null. */
  hGlobal: tf.Tensor3D | null;
  hTile: tf.Tensor3D | null;
  params: Record<string, tf.Tensor3D>;
}

function hidden(h: tf.Tensor3D, p: Record<string, tf.Tensor3D>, prefix: "g" | "l"): tf.Tensor3D {
  const h1 = tf.relu(tf.add(h, p[`${prefix}1b`])) as tf.Tensor3D;
  return tf.relu(tf.add(tf.matMul(h1, p[`${prefix}2w`]), p[`${prefix}2b`])) as tf.Tensor3D;
}

/** Pool [R, B*L, 8] rows per bag -> [R, B, 8]. */
function pool(agg: Aggregator, h2: tf.Tensor3D, runs: number, bags: number, l: number, mask: tf.Tensor, count: tf.Tensor, p: Record<string, tf.Tensor3D>, prefix: "g" | "l"): tf.Tensor3D {
  const mask4 = tf.reshape(mask, [1, bags, l, 1]);
  const hp = tf.mul(tf.reshape(h2, [runs, bags, l, HIDDEN2]), mask4);
  if (agg === "mean") return tf.div(tf.sum(hp, 2), tf.reshape(tf.maximum(count, 1), [1, bags, 1])) as tf.Tensor3D;
  // Zero padding is neutral for max because h2 >= 0 after the ReLU (an empty bag pools to 0).
  if (agg === "max") return tf.max(hp, 2) as tf.Tensor3D;
  if (agg === "selfattn") {
    // Q/K/V self-attention within each bag ([R B, L, L], padded keys masked out), then the mean of
    // the bag's attended rows (padded rows masked out; an empty bag pools to 0)
    const proj = (w: string): tf.Tensor3D => tf.reshape(tf.add(tf.matMul(h2, p[`${prefix}${w}w`]), p[`${prefix}${w}b`]), [runs * bags, l, HIDDEN2]);
    const s = tf.div(tf.matMul(proj("q"), proj("k"), false, true), Math.sqrt(HIDDEN2));
    const sp = tf.add(tf.reshape(s, [runs, bags, l, l]), tf.mul(tf.sub(tf.reshape(mask, [1, bags, 1, l]), 1), 1e9));
    const a = tf.reshape(tf.softmax(sp, -1), [runs * bags, l, l]);
    const o = tf.mul(tf.reshape(tf.matMul(a, proj("v")), [runs, bags, l, HIDDEN2]), mask4);
    return tf.div(tf.sum(o, 2), tf.reshape(tf.maximum(count, 1), [1, bags, 1])) as tf.Tensor3D;
  }
  const k = tf.add(tf.matMul(h2, p[`${prefix}kw`]), p[`${prefix}kb`]);
  const v = tf.add(tf.matMul(h2, p[`${prefix}vw`]), p[`${prefix}vb`]);
  const s = tf.div(tf.sum(tf.mul(k, p[`${prefix}q`]), 2), Math.sqrt(HIDDEN2));
  const sp = tf.add(tf.reshape(s, [runs, bags, l]), tf.mul(tf.sub(tf.reshape(mask, [1, bags, l]), 1), 1e9));
  const a = tf.reshape(tf.softmax(sp, -1), [runs * bags, 1, l]);
  const vp = tf.mul(tf.reshape(v, [runs, bags, l, HIDDEN2]), mask4);
  return tf.reshape(tf.matMul(a, tf.reshape(vp, [runs * bags, l, HIDDEN2])), [runs, bags, HIDDEN2]);
}

/**
 * Logits of one group: [R, bags] for MIL configs, [R, bags * lGlobal] (one per padded global row)
 * for the instance baselines.
 */
export function groupLogits(layout: ChunkLayout, g: GroupTensors): tf.Tensor2D {
  const { config: c, runs, params: p } = g;
  const B = layout.bags;
  if (c.instance !== null) {
    if (!g.hGlobal) throw new Error("instance config without global rows");
    const h2 = hidden(g.hGlobal, p, "g");
    return tf.reshape(tf.add(tf.matMul(h2, p.fw), p.fb), [runs, B * layout.lGlobal]);
  }
  const parts: tf.Tensor3D[] = [];
  if (c.global !== null) {
    if (!g.hGlobal) throw new Error("global config without global rows");
    const h2 = hidden(g.hGlobal, p, "g");
    parts.push(pool(c.global, h2, runs, B, layout.lGlobal, tf.tensor1d(layout.maskGlobal), tf.tensor1d(layout.countGlobal), p, "g"));
  }
  if (c.local !== null) {
    if (!g.hTile) throw new Error("local config without tile rows");
    const h2 = hidden(g.hTile, p, "l");
    parts.push(pool(c.local, h2, runs, B, layout.lTile, tf.tensor1d(layout.maskTile), tf.tensor1d(layout.countTile), p, "l"));
  }
  const z = parts.length === 1 ? parts[0] : tf.concat(parts, 2);
  return tf.reshape(tf.add(tf.matMul(z, p.fw), p.fb), [runs, B]);
}

/** Per-run weighted BCE-with-logits sums [R] (weights already divided by the sample count). */
export function groupLoss(layout: ChunkLayout, g: GroupTensors, logits: tf.Tensor2D): tf.Tensor1D {
  let y: tf.Tensor;
  let w: tf.Tensor;
  if (g.config.instance !== null) {
    const L = layout.lGlobal;
    const rowLabels = new Float32Array(layout.bags * L);
    for (let b = 0; b < layout.bags; b++) rowLabels.fill(layout.labels[b], b * L, (b + 1) * L);
    y = tf.tensor2d(rowLabels, [1, rowLabels.length]);
    w = tf.tensor2d(layout.rowWeights, [1, rowLabels.length]);
  } else {
    y = tf.tensor2d(layout.labels, [1, layout.bags]);
    w = tf.tensor2d(layout.bagWeights, [1, layout.bags]);
  }
  const per = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.sum(tf.mul(per, w), 1) as tf.Tensor1D;
}

function toTensors(layout: ChunkLayout, g: GroupArrays, dim: number): GroupTensors {
  const params: Record<string, tf.Tensor3D> = {};
  for (const [name, a] of Object.entries(g.params)) params[name] = tf.tensor3d(a, stackedShape(g.config, dim, name, g.runs));
  return {
    config: g.config,
    runs: g.runs,
    hGlobal: g.hGlobal ? tf.tensor3d(g.hGlobal, [g.runs, layout.bags * layout.lGlobal, HIDDEN1]) : null,
    hTile: g.hTile ? tf.tensor3d(g.hTile, [g.runs, layout.bags * layout.lTile, HIDDEN1]) : null,
    params,
  };
}

/** Run `f` in a tfjs scope: every tensor it creates (and does not tf.keep) is disposed after. */
function scoped<T>(f: () => T): T {
  tf.engine().startScope();
  try {
    return f();
  } finally {
    tf.engine().endScope();
  }
}

/** Loss and gradients (w.r.t. the padded H inputs and the stacked tfjs parameters) of every group. */
export function groupsLossAndGrads(layout: ChunkLayout, groups: GroupArrays[], dim: number): GroupGrads[] {
  return groups.map((g) => scoped(() => {
    const t = toTensors(layout, g, dim);
    const names = Object.keys(t.params);
    const xs: tf.Tensor[] = [];
    if (t.hGlobal) xs.push(t.hGlobal);
    if (t.hTile) xs.push(t.hTile);
    for (const n of names) xs.push(t.params[n]);
    let lossVec: tf.Tensor1D | null = null;
    const grads = tf.grads((...inputs: tf.Tensor[]) => {
      let i = 0;
      const tt: GroupTensors = { config: g.config, runs: g.runs, hGlobal: null, hTile: null, params: {} };
      if (t.hGlobal) tt.hGlobal = inputs[i++] as tf.Tensor3D;
      if (t.hTile) tt.hTile = inputs[i++] as tf.Tensor3D;
      for (const n of names) tt.params[n] = inputs[i++] as tf.Tensor3D;
      const lv = groupLoss(layout, tt, groupLogits(layout, tt));
      lossVec = tf.keep(lv);
      return tf.sum(lv);
    })(xs);
    const out: GroupGrads = { loss: new Float32Array(0), dGlobal: null, dTile: null, params: {} };
    let i = 0;
    if (t.hGlobal) out.dGlobal = grads[i++].dataSync() as Float32Array;
    if (t.hTile) out.dTile = grads[i++].dataSync() as Float32Array;
    for (const n of names) out.params[n] = grads[i++].dataSync() as Float32Array;
    out.loss = (lossVec as unknown as tf.Tensor1D).dataSync() as Float32Array;
    tf.dispose(lossVec as unknown as tf.Tensor1D);
    return out;
  }));
}

/** Logits of every group (no gradients). */
export function groupsLogits(layout: ChunkLayout, groups: GroupArrays[], dim: number): Float32Array[] {
  return groups.map((g) =>
    scoped(() => {
      const t = toTensors(layout, g, dim);
      return groupLogits(layout, t).dataSync() as Float32Array;
    }),
  );
}
