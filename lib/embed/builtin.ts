import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { readJson } from "../util/atomic";
import { Rng } from "../util/rng";
import { OnnxGraphBuilder } from "../util/onnxGraph";
import { createSession, writeEncoderFolder } from "./onnxEncoder";
import { renderBreast, sampleBreastShape } from "../data/phantom";
import { sampleAnatomy } from "../data/physics";
import { powerLawTexturePair } from "../data/texture";

/**
 * The built-in encoder: a fixed, hand-designed filter bank compiled to ONNX from code, so the
 * default pipeline runs the same ONNX loading path as a real foundation model but needs no
 * downloaded weights.
 *
 *   pixel_values [B,3,S,S] -> grey (channel mean)
 *   four levels: S, S/2, S/4, S/16 (AveragePool between levels)
 *   at each level a Conv bank: difference-of-Gaussians (bright spots / blobs of several sizes)
 *   and Gaussian-derivative edge filters at 4 orientations
 *   rectified global pooling per filter: mean |r|, max r, min r
 *   + spot amount at full resolution: mean Relu(r - tau) of the DoG responses (speck clusters)
 *   + bright area at 1/2: mean Relu(grey - t) for t = 0.5, 0.65, 0.8
 *   + intensity statistics (mean, max, mean of squares, -min)
 *   -> F features -> standardised with fixed statistics -> fixed seeded projection F -> D:
 *      the first D/2 outputs linear, the last D/2 random ReLU features (Relu(proj + seeded bias))
 *   -> `pooler_output` [B, D]  (the loader L2-normalises it)
 *
 * Scales in tile pixels at S = 128 (tile = 128 px of a 1024 px image): DoG sigma 0.7-2 px at
 * full resolution (calcification specks of 2-3 px); 2-4 px at 1/2; 2.4-12.8 px at 1/4 (masses
 * of 15-40 px); 11-32 px at 1/16 (masses up to 80 px). The standardisation statistics come from a
 * fixed seeded set of lesion-free phantom mammograms (tiles and global views; see
 * phantomCalibrationImages) run through the feature graph once, on one thread, rounded to 6
 * significant digits, so the model bytes are the same on every run; standardised features are
 * softly bounded (Z_BOUND tanh(z / Z_BOUND)) before the projection.
 */
export interface BuiltinEncoderOptions {
  /** Input side (= tile size = global view size), default 128. Must be a multiple of 16, >= 32. */
  inputSizePx?: number;
  /** Embedding dimension, default 256. */
  dim?: number;
  /** Seed of the projection and the calibration tiles, default 0. */
  seed?: number;
}

/** Bump when the graph changes, so an old model folder is rebuilt. */
export const BUILTIN_VERSION = 5;
export const BUILTIN_MODEL_TYPE = "milpf-builtin";

interface Bank {
  /** Downsampling factor of this level's input relative to the tile (1, 2, 4, 16). */
  factor: number;
  kernelPx: number;
  kernels: Float32Array[];
}

function gaussian(k: number, sigma: number): Float64Array {
  const r = (k - 1) / 2;
  const g = new Float64Array(k * k);
  let s = 0;
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++) {
      const v = Math.exp(-((x - r) ** 2 + (y - r) ** 2) / (2 * sigma * sigma));
      g[y * k + x] = v;
      s += v;
    }
  for (let i = 0; i < g.length; i++) g[i] /= s; // sums to 1 on the truncated support
  return g;
}

/** Centre-surround difference of Gaussians (sums to 0, positive on a bright spot). */
function dog(k: number, s1: number, s2: number): Float32Array {
  const a = gaussian(k, s1);
  const b = gaussian(k, s2);
  const out = new Float32Array(k * k);
  let l1 = 0;
  for (let i = 0; i < out.length; i++) l1 += Math.abs(a[i] - b[i]);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] - b[i]) / l1;
  return out;
}

/** Derivative of a Gaussian along direction theta (L1-normalised). */
function edge(k: number, sigma: number, theta: number): Float32Array {
  const r = (k - 1) / 2;
  const g = gaussian(k, sigma);
  const out = new Float32Array(k * k);
  let l1 = 0;
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++) {
      const u = (x - r) * Math.cos(theta) + (y - r) * Math.sin(theta);
      const v = -u * g[y * k + x];
      out[y * k + x] = v;
      l1 += Math.abs(v);
    }
  for (let i = 0; i < out.length; i++) out[i] /= l1;
  return out;
}

const ORIENTATIONS = [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4];

/**
 * The filter bank per level. Level inputs are average-pooled from the grey tile by `factor`.
 * Sigmas below are in level pixels; in tile pixels they are multiplied by the factor.
 */
function banks(): Bank[] {
  return [
    // full resolution: spot detectors for calcification specks (2-3 px)
    { factor: 1, kernelPx: 7, kernels: [dog(7, 0.7, 1.4), dog(7, 1.0, 2.0)] },
    // 1/2: fine edges at 4 orientations + a small-blob detector (sigma 2-4 px)
    { factor: 2, kernelPx: 5, kernels: [dog(5, 1.0, 2.0), ...ORIENTATIONS.map((t) => edge(5, 0.8, t))] },
    // 1/4: blobs of sigma 2.4-12.8 px (small and mid masses) + edges
    { factor: 4, kernelPx: 9, kernels: [dog(9, 0.6, 1.2), dog(9, 1.0, 2.0), dog(9, 1.6, 3.2), ...ORIENTATIONS.map((t) => edge(9, 1.0, t))] },
    // 1/16: blobs of sigma 11-32 px (large masses) + coarse edges
    { factor: 16, kernelPx: 5, kernels: [dog(5, 0.7, 1.4), dog(5, 1.0, 2.0), ...ORIENTATIONS.map((t) => edge(5, 0.8, t))] },
  ];
}

/** Number of features before the projection. */
export function builtinFeatureCount(): number {
  const spot = banks().reduce((s, b) => s + (b.factor === 1 ? b.kernels.length * SPOT_THRESHOLDS.length : 0), 0);
  return banks().reduce((s, b) => s + b.kernels.length * 3, 0) + spot + BRIGHT_LEVELS.length + 4;
}

/** Soft bound of the standardised features (see buildGraph). */
const Z_BOUND = 4;

/** Thresholds on the full-resolution DoG responses (L1-normalised kernels, grey in [0, 1]). */
const SPOT_THRESHOLDS = [0.02, 0.05];
/** Grey levels above which the bright area is measured. */
const BRIGHT_LEVELS = [0.5, 0.65, 0.8];

interface Head {
  bias: Float32Array;
  /** Mean of the ReLU features over the calibration images (subtracted). */
  reluMean: Float32Array;
  mean: Float32Array;
  invStd: Float32Array;
  projection: Float32Array;
  dim: number;
}

/** The ONNX graph: features only (head null, output "features") or the full encoder. */
function buildGraph(sizePx: number, head: Head | null): Uint8Array {
  const g = new OnnxGraphBuilder("milpf_builtin");
  const px = g.input("pixel_values", ["batch", 3, sizePx, sizePx]);
  const grey = g.op("ReduceMean", [px], { axes: { ints: [1] }, keepdims: { i: 1 } });
  const pooled: string[] = [];
  const levels = new Map<number, string>([[1, grey]]);
  const levelInput = (factor: number): string => {
    const have = levels.get(factor);
    if (have) return have;
    // pool from the largest smaller level that divides this factor
    const from = Math.max(...Array.from(levels.keys()).filter((f) => factor % f === 0 && f < factor));
    const k = factor / from;
    const out = g.op("AveragePool", [levels.get(from) ?? grey], { kernel_shape: { ints: [k, k] }, strides: { ints: [k, k] } });
    levels.set(factor, out);
    return out;
  };
  const reduce = { axes: { ints: [2, 3] }, keepdims: { i: 1 } };
  banks().forEach((bank, li) => {
    const level = levelInput(bank.factor);
    const k = bank.kernelPx;
    const w = new Float32Array(bank.kernels.length * k * k);
    bank.kernels.forEach((ker, i) => w.set(ker, i * k * k));
    const W = g.floatInit(`bank${li}`, [bank.kernels.length, 1, k, k], w);
    const p = (k - 1) / 2;
    // Edge (replicate) padding: zero padding would make every tile border look like a strong edge /
    // blob boundary (bright tissue next to "black") and swamp the max/min responses.
    const padded = g.op("Pad", [level, g.int64Init(`pads_${li}`, [8], [0, 0, p, p, 0, 0, p, p])], { mode: { s: "edge" } });
    const r = g.op("Conv", [padded, W], { kernel_shape: { ints: [k, k] } });
    // Rectified pooling, in three reductions: mean |r| (the mean of Relu(r) + Relu(-r)),
    // max r (= max Relu(r) where positive) and min r (= -max Relu(-r) where negative).
    // Same information as average + max pooling of Relu(+r) and Relu(-r), without
    // materialising the rectified maps (elementwise passes dominate the cost on CPU).
    pooled.push(g.op("ReduceMean", [g.op("Abs", [r])], reduce), g.op("ReduceMax", [r], reduce), g.op("ReduceMin", [r], reduce));
    if (bank.factor === 1) {
      // how much strong spot response there is (a cluster of specks, not one bright pixel)
      for (const tau of SPOT_THRESHOLDS) pooled.push(g.op("ReduceMean", [g.op("Relu", [g.op("Sub", [r, g.floatInit(`spot_tau_${tau}`, [1], [tau])])])], reduce));
    }
  });
  // bright-area measures at 1/2 resolution: mean of Relu(grey - t) for a few levels t
  const half = levelInput(2);
  for (const t of BRIGHT_LEVELS) pooled.push(g.op("ReduceMean", [g.op("Relu", [g.op("Sub", [half, g.floatInit(`bright_${t}`, [1], [t])])])], reduce));
  pooled.push(
    g.op("GlobalAveragePool", [grey]),
    g.op("GlobalMaxPool", [grey]),
    g.op("GlobalAveragePool", [g.op("Mul", [grey, grey])]),
    g.op("GlobalMaxPool", [g.op("Neg", [grey])]),
  );
  const feat4 = g.op("Concat", pooled, { axis: { i: 1 } });
  const F = builtinFeatureCount();
  if (!head) {
    g.op("Flatten", [feat4], { axis: { i: 1 } }, "features");
    g.output("features", ["batch", F]);
    return g.toBytes();
  }
  const feat = g.op("Flatten", [feat4], { axis: { i: 1 } });
  const mu = g.floatInit("feature_mean", [F], head.mean);
  const inv = g.floatInit("feature_inv_std", [F], head.invStd);
  // standardised, then softly bounded to about +-Z_BOUND (z -> Z_BOUND tanh(z / Z_BOUND)): a feature
  // that normal tissue never moves (tiny calibration spread) cannot swamp the others
  const zRaw = g.op("Mul", [g.op("Sub", [feat, mu]), inv]);
  const zb = g.floatInit("z_bound", [1], [Z_BOUND]);
  const z = g.op("Mul", [g.op("Tanh", [g.op("Div", [zRaw, zb])]), zb]);
  const P = g.floatInit("projection", [F, head.dim], head.projection);
  // half of the outputs linear (the standardised features, rotated), half random ReLU features
  // of them (a fixed nonlinear expansion that a small linear head can use directly)
  const proj = g.op("MatMul", [z, P]);
  const [lin, nonlin] = g.node("Split", [proj, g.int64Init("split_sizes", [2], [head.dim - Math.floor(head.dim / 2), Math.floor(head.dim / 2)])], { axis: { i: 1 } }, 2);
  const rect = g.op("Sub", [g.op("Relu", [g.op("Add", [nonlin, g.floatInit("rf_bias", [Math.floor(head.dim / 2)], head.bias)])]), g.floatInit("rf_mean", [Math.floor(head.dim / 2)], head.reluMean)]);
  g.op("Concat", [lin, rect], { axis: { i: 1 } }, "pooler_output");
  g.output("pooler_output", ["batch", head.dim]);
  return g.toBytes();
}

/**
 * Calibration images from the encoder's "pretraining domain": lesion-free mammography phantoms
 * (lib/data, generator v3 anatomy: dense islands, lymph nodes, vessels, skin folds), rendered at
 * 8 x the input size (the pipeline's tile : working-image ratio, capped at 2048 px), windowed to
 * [0, 1] from the breast's 1st-99th percentiles as a DICOM VOI window would, then cut into
 * tiles inside the breast and downsampled to whole-breast global views. No lesion is drawn, so
 * the standardisation knows normal tissue only (as a foundation model knows natural images).
 */
export function phantomCalibrationImages(sizePx: number, seed: number, breasts = 6, tilesPerView = 14): { images: Float32Array[]; isGlobal: boolean[] } {
  const S = sizePx;
  const H = Math.min(8 * S, 2048);
  const W = Math.round((H * 13) / 16);
  const out: Float32Array[] = [];
  const isGlobal: boolean[] = [];
  const densities = ["A", "B", "C", "D"] as const;
  for (let b = 0; b < breasts; b++) {
    const rng = Rng.derive(seed, "builtin-phantom-calibration", b);
    const shape = sampleBreastShape(rng);
    const density = densities[b % 4];
    const views = ["CC", "MLO"] as const;
    const anatomy = sampleAnatomy(rng, density, [...views]);
    const textures = powerLawTexturePair(W, H, rng, { minFrequency: 3 / H });
    views.forEach((view, k) => {
      const r = renderBreast({ widthPx: W, heightPx: H, view, chestWallSide: "left", density, shape, lesions: [], anatomy, bitsStored: 12, texture: textures[k] }, rng);
      const vals: number[] = [];
      for (let i = 0; i < r.pixels.length; i += 7) if (r.breastMask[i]) vals.push(r.pixels[i]);
      vals.sort((a, c) => a - c);
      const lo = vals[Math.floor(0.01 * (vals.length - 1))];
      const hi = vals[Math.floor(0.99 * (vals.length - 1))];
      const win = (v: number, inside: number): number => (inside ? Math.min(1, Math.max(0, (v - lo) / Math.max(1, (hi - lo) * 1.15) + 0.07)) : 0);
      // tiles whose centre is in the breast (as the pipeline keeps any tile with tissue)
      let made = 0;
      for (let tries = 0; tries < 400 && made < tilesPerView; tries++) {
        const x0 = rng.int(0, W - S);
        const y0 = rng.int(0, H - S);
        if (!r.breastMask[(y0 + (S >> 1)) * W + x0 + (S >> 1)]) continue;
        const t = new Float32Array(S * S);
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) t[y * S + x] = win(r.pixels[(y0 + y) * W + x0 + x], r.breastMask[(y0 + y) * W + x0 + x]);
        out.push(t);
        isGlobal.push(false);
        made++;
      }
      // global view: the H x H square (breast against the left edge) area-averaged to S x S
      const f = H / S;
      const g = new Float32Array(S * S);
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          let acc = 0;
          let n = 0;
          for (let yy = Math.floor(y * f); yy < Math.floor((y + 1) * f); yy++)
            for (let xx = Math.floor(x * f); xx < Math.floor((x + 1) * f); xx++) {
              n++;
              if (xx < W) acc += win(r.pixels[yy * W + xx], r.breastMask[yy * W + xx]);
            }
          g[y * S + x] = acc / Math.max(1, n);
        }
      out.push(g);
      isGlobal.push(true);
    });
  }
  return { images: out, isGlobal };
}

function round6(v: number): number {
  return Number(v.toPrecision(6));
}

/** The model bytes for the given options (deterministic). */
export async function buildBuiltinModel(opts: BuiltinEncoderOptions = {}): Promise<Uint8Array> {
  const S = opts.inputSizePx ?? 128;
  const dim = opts.dim ?? 256;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(S) || S < 32 || S % 16 !== 0) throw new Error(`built-in encoder: inputSizePx must be a multiple of 16 and >= 32 (got ${S})`);
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`built-in encoder: dim must be a positive integer (got ${dim})`);
  const F = builtinFeatureCount();
  // Calibration (v3): features of lesion-free phantom tissue (tiles and global views) -> per-feature
  // mean and std, so that normal tissue varies by about one unit per feature and a finding (speck
  // cluster, spiculated margin) moves its features by many: the signal is large in the embedding,
  // as in a foundation model's features. v2 calibrated on procedural tiles, one third of them with
  // specks and one third with discs: the lesion-sensitive features had large spreads, normal tissue
  // sat far from the calibration mean, every embedding shared one large component (global views:
  // 97 % of the squared norm), and the head learned too slowly for the authors' early stopping
  // (measured in lib/head/README.md).
  const session = await createSession(buildGraph(S, null), "cpu", 1, "built-in encoder (feature graph)");
  const phantom = phantomCalibrationImages(S, seed, 8, 24);
  const n = phantom.images.length;
  const px = new Float32Array(n * 3 * S * S);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) px.set(phantom.images[i], (i * 3 + c) * S * S);
  // tiles and global views weigh equally (there are many more tiles)
  const nG = phantom.isGlobal.filter(Boolean).length;
  const wt = phantom.isGlobal.map((g) => (g ? 0.5 / nG : 0.5 / (n - nG)));
  const res = await session.run({ pixel_values: new ort.Tensor("float32", px, [n, 3, S, S]) });
  await session.release();
  const f = res.features.data as Float32Array;
  const mean = new Float32Array(F);
  const invStd = new Float32Array(F);
  for (let j = 0; j < F; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += wt[i] * f[i * F + j];
    let v = 0;
    for (let i = 0; i < n; i++) v += wt[i] * (f[i * F + j] - m) ** 2;
    mean[j] = round6(m);
    invStd[j] = round6(1 / Math.max(Math.sqrt(v), 1e-3));
  }
  const rng = Rng.derive(seed, "builtin-projection");
  const projection = new Float32Array(F * dim);
  for (let i = 0; i < projection.length; i++) projection[i] = rng.normal() / Math.sqrt(F);
  const half = Math.floor(dim / 2);
  const bias = Float32Array.from({ length: half }, () => rng.normal(0, 1));
  // The random ReLU features are >= 0: centre them on the calibration tissue (as the standardised
  // features are), otherwise they add one large component shared by every embedding.
  const reluMean = new Float64Array(half);
  const lin = dim - half;
  const z = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) z[j] = Z_BOUND * Math.tanh(((f[i * F + j] - mean[j]) * invStd[j]) / Z_BOUND);
    for (let k = 0; k < half; k++) {
      let a = bias[k];
      for (let j = 0; j < F; j++) a += z[j] * projection[j * dim + lin + k];
      reluMean[k] += wt[i] * Math.max(0, a);
    }
  }
  return buildGraph(S, { mean, invStd, projection, dim, bias, reluMean: Float32Array.from(reluMean, round6) });
}

/**
 * Write the built-in encoder as a Hugging Face style folder (model.onnx, config.json,
 * preprocessor_config.json), loadable by loadOnnxEncoder. Returns the folder.
 */
export async function writeBuiltinEncoder(folder: string, opts: BuiltinEncoderOptions = {}): Promise<string> {
  const S = opts.inputSizePx ?? 128;
  const dim = opts.dim ?? 256;
  const seed = opts.seed ?? 0;
  const bytes = await buildBuiltinModel({ inputSizePx: S, dim, seed });
  return writeEncoderFolder(
    folder,
    bytes,
    { image_processor_type: "MilpfBuiltinImageProcessor", size: { height: S, width: S }, do_resize: true, resample: 2, mean: [0, 0, 0], std: [1, 1, 1] },
    {
      model_type: BUILTIN_MODEL_TYPE,
      milpf_name: "milpf-builtin",
      architectures: ["MilpfBuiltinFilterBank"],
      builtin_version: BUILTIN_VERSION,
      hidden_size: dim,
      image_size: S,
      seed,
      graph_signature: builtinGraphSignature(S),
      feature_count: builtinFeatureCount(),
      description: "Fixed multi-scale filter bank (DoG + oriented edges), rectified, global mean+max pooled, standardised, seeded projection. No learned weights.",
    },
  );
}

/** A hash of the feature graph (pure code, no ORT run): a folder written by other code is rebuilt. */
export function builtinGraphSignature(inputSizePx = 128): string {
  return crypto.createHash("sha256").update(buildGraph(inputSizePx, null)).digest("hex").slice(0, 16);
}

/** True when `folder` holds a built-in encoder written with these options by this code. */
export function builtinFolderMatches(folder: string, opts: BuiltinEncoderOptions = {}): boolean {
  const cfgFile = path.join(folder, "config.json");
  if (!fs.existsSync(cfgFile) || !fs.existsSync(path.join(folder, "model.onnx"))) return false;
  try {
    const c = readJson<Record<string, unknown>>(cfgFile);
    return (
      c.model_type === BUILTIN_MODEL_TYPE &&
      c.builtin_version === BUILTIN_VERSION &&
      c.image_size === (opts.inputSizePx ?? 128) &&
      c.hidden_size === (opts.dim ?? 256) &&
      c.seed === (opts.seed ?? 0) &&
      c.graph_signature === builtinGraphSignature(opts.inputSizePx ?? 128)
    );
  } catch {
    return false;
  }
}
