import type { ResizeKernel } from "../preprocess/grey16";

/**
 * The parts of a Hugging Face `preprocessor_config.json` the ONNX encoder applies.
 * Convention: embed() inputs are grey values x in [0, 1]; like the HF image processors, which
 * work on 8-bit images, the pixel is taken as p = 255 x, then
 *   v = do_rescale ? p * rescale_factor : p;   v = do_normalize ? (v - mean[c]) / std[c] : v
 * for each of the three channels c (grey replicated to RGB).
 */
export interface PreprocessorConfig {
  /** Square side the image is resized to (crop_size when do_center_crop, else size). */
  sizePx: number;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  rescaleFactor: number;
  doRescale: boolean;
  doNormalize: boolean;
  /** PIL resample code from the config (0 nearest, 2 bilinear, 3 bicubic, 1 lanczos). */
  resample: number;
}

function triple(file: string, key: string, v: unknown, dflt: [number, number, number]): [number, number, number] {
  if (v === undefined || v === null) return dflt;
  if (typeof v === "number") return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number")) return [v[0], v[1], v[2]];
  throw new Error(`${file}: ${key} must be a number or 3 numbers (got ${JSON.stringify(v)})`);
}

function sizeOf(file: string, key: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number") return v;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.height === "number" && typeof o.width === "number") {
      if (o.height !== o.width) throw new Error(`${file}: ${key} must be square (got ${o.height} x ${o.width})`);
      return o.height;
    }
    if (typeof o.shortest_edge === "number") return o.shortest_edge;
  }
  throw new Error(`${file}: cannot read ${key} ${JSON.stringify(v)} (expected a number, {height, width} or {shortest_edge})`);
}

/** Parse a preprocessor_config.json object (file is only used in error messages). */
export function parsePreprocessorConfig(file: string, raw: Record<string, unknown>): PreprocessorConfig {
  const doCrop = raw.do_center_crop === true;
  const size = (doCrop ? sizeOf(file, "crop_size", raw.crop_size) : null) ?? sizeOf(file, "size", raw.size);
  if (size === null || !Number.isInteger(size) || size <= 0) throw new Error(`${file}: no usable size / crop_size`);
  const rescale = raw.rescale_factor ?? 1 / 255;
  if (typeof rescale !== "number") throw new Error(`${file}: rescale_factor must be a number`);
  const std = triple(file, "image_std", raw.image_std, [1, 1, 1]);
  if (std.some((s) => s === 0)) throw new Error(`${file}: image_std has a zero`);
  return {
    sizePx: size,
    imageMean: triple(file, "image_mean", raw.image_mean, [0, 0, 0]),
    imageStd: std,
    rescaleFactor: rescale,
    doRescale: raw.do_rescale !== false,
    doNormalize: raw.do_normalize !== false,
    resample: typeof raw.resample === "number" ? raw.resample : 2,
  };
}

/** sharp's kernel for a PIL resample code. */
export function resampleKernel(code: number): ResizeKernel {
  switch (code) {
    case 0:
      return "nearest";
    case 1:
      return "lanczos3";
    case 3:
      return "cubic";
    default:
      return "linear";
  }
}

/**
 * Grey batch (count x S x S in [0, 1]) -> pixel_values (count x 3 x S x S), per the config.
 * Per-channel affine maps are computed once in float64 (value = x * a[c] + b[c]).
 */
export function greyToPixelValues(batch: Float32Array, count: number, sizePx: number, cfg: PreprocessorConfig): Float32Array {
  const plane = sizePx * sizePx;
  if (batch.length < count * plane) throw new Error(`preprocess: batch has ${batch.length} values, expected ${count} x ${sizePx} x ${sizePx}`);
  const out = new Float32Array(count * 3 * plane);
  const scale = 255 * (cfg.doRescale ? cfg.rescaleFactor : 1);
  for (let c = 0; c < 3; c++) {
    const a = cfg.doNormalize ? scale / cfg.imageStd[c] : scale;
    const b = cfg.doNormalize ? -cfg.imageMean[c] / cfg.imageStd[c] : 0;
    for (let i = 0; i < count; i++) {
      const src = i * plane;
      const dst = (i * 3 + c) * plane;
      for (let p = 0; p < plane; p++) out[dst + p] = batch[src + p] * a + b;
    }
  }
  return out;
}
