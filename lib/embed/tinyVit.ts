import { writeEncoderFolder } from "./onnxEncoder";
import { Rng } from "../util/rng";
import { OnnxGraphBuilder } from "../util/onnxGraph";

/**
 * A tiny ViT shaped like a Hugging Face DINOv2 ONNX export (seeded random weights), to exercise
 * the DINOv2 path without downloading anything: input `pixel_values` [B,3,S,S]; patch embedding
 * Conv (stride = patch), CLS token, position embedding, one pre-norm transformer block
 * (LayerNorm, multi-head self-attention with MatMul/Softmax, LayerNorm, MLP with exact GELU),
 * final LayerNorm -> `last_hidden_state` [B, 1 + P, H]. `pooler_output` [B, H] is the mean of
 * the patch tokens (NOT the CLS token, unlike HF's Dinov2Model), so tests can tell which output
 * the loader used.
 */
export interface TinyVitOptions {
  sizePx?: number;
  patchPx?: number;
  hidden?: number;
  heads?: number;
  seed?: number;
}

export function buildTinyVit(opts: TinyVitOptions = {}): Uint8Array {
  const S = opts.sizePx ?? 56;
  const p = opts.patchPx ?? 14;
  const H = opts.hidden ?? 32;
  const heads = opts.heads ?? 2;
  if (S % p !== 0 || H % heads !== 0) throw new Error("tiny ViT: sizePx must be a multiple of patchPx and hidden of heads");
  const hd = H / heads;
  const P = (S / p) ** 2;
  const N = P + 1;
  const rng = Rng.derive(opts.seed ?? 0, "tiny-vit");
  const rand = (n: number, sd: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal(0, sd));
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const g = new OnnxGraphBuilder("tiny_vit_dinov2_like");
  const x = g.input("pixel_values", ["batch", 3, S, S]);
  const pe = g.op("Conv", [x, g.floatInit("patch_w", [H, 3, p, p], rand(H * 3 * p * p, 0.05)), g.floatInit("patch_b", [H], rand(H, 0.02))], {
    kernel_shape: { ints: [p, p] },
    strides: { ints: [p, p] },
  });
  const seq = g.op("Transpose", [g.op("Reshape", [pe, g.int64Init("shape_bhp", [3], [0, H, P])])], { perm: { ints: [0, 2, 1] } });
  // A [B,1,H] CLS row: (zero-valued per-sample scalar) + cls parameter, avoiding Shape/Expand plumbing.
  const zero = g.op("Mul", [g.op("ReduceMean", [seq], { axes: { ints: [1, 2] }, keepdims: { i: 1 } }), g.floatInit("zero", [1], [0])]);
  const cls = g.op("Add", [zero, g.floatInit("cls_token", [1, 1, H], rand(H, 1))]);
  let h = g.op("Add", [g.op("Concat", [cls, seq], { axis: { i: 1 } }), g.floatInit("pos_embed", [1, N, H], rand(N * H, 0.5))]);
  const ln = (input: string, name: string): string =>
    g.op("LayerNormalization", [input, g.floatInit(`${name}_g`, [H], ones(H)), g.floatInit(`${name}_b`, [H], new Float32Array(H))], {
      axis: { i: -1 },
      epsilon: { f: 1e-6 },
    });
  const linear = (input: string, name: string, din: number, dout: number): string =>
    g.op("Add", [g.op("MatMul", [input, g.floatInit(`${name}_w`, [din, dout], rand(din * dout, 1 / Math.sqrt(din)))]), g.floatInit(`${name}_b`, [dout], rand(dout, 0.02))]);
  // attention
  const a = ln(h, "ln1");
  const splitHeads = (t: string): string =>
    g.op("Transpose", [g.op("Reshape", [t, g.int64Init(`shape_${t}`, [4], [0, N, heads, hd])])], { perm: { ints: [0, 2, 1, 3] } });
  const q = splitHeads(linear(a, "q", H, H));
  const k = splitHeads(linear(a, "k", H, H));
  const v = splitHeads(linear(a, "v", H, H));
  const scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], { perm: { ints: [0, 1, 3, 2] } })]), g.floatInit("attn_scale", [1], [1 / Math.sqrt(hd)])]);
  const ctx = g.op("MatMul", [g.op("Softmax", [scores], { axis: { i: -1 } }), v]);
  const merged = g.op("Reshape", [g.op("Transpose", [ctx], { perm: { ints: [0, 2, 1, 3] } }), g.int64Init("shape_bnh", [3], [0, N, H])]);
  h = g.op("Add", [h, linear(merged, "proj", H, H)]);
  // MLP with exact GELU: 0.5 x (1 + erf(x / sqrt 2))
  const m1 = linear(ln(h, "ln2"), "fc1", H, 2 * H);
  const gelu = g.op("Mul", [g.op("Mul", [m1, g.floatInit("half", [1], [0.5])]), g.op("Add", [g.op("Erf", [g.op("Mul", [m1, g.floatInit("inv_sqrt2", [1], [Math.SQRT1_2])])]), g.floatInit("one", [1], [1])])]);
  h = g.op("Add", [h, linear(gelu, "fc2", 2 * H, H)]);
  const last = ln(h, "final_norm");
  g.op("Identity", [last], {}, "last_hidden_state");
  const patches = g.op("Slice", [last, g.int64Init("sl_start", [1], [1]), g.int64Init("sl_end", [1], [N]), g.int64Init("sl_axis", [1], [1])]);
  g.op("ReduceMean", [patches], { axes: { ints: [1] }, keepdims: { i: 0 } }, "pooler_output");
  g.output("last_hidden_state", ["batch", N, H]);
  g.output("pooler_output", ["batch", H]);
  return g.toBytes();
}

/** Write the tiny ViT as a DINOv2-like HF export folder. */
export function writeTinyVit(folder: string, opts: TinyVitOptions = {}): string {
  const S = opts.sizePx ?? 56;
  return writeEncoderFolder(
    folder,
    buildTinyVit(opts),
    {
      image_processor_type: "BitImageProcessor",
      do_resize: true,
      size: { shortest_edge: S },
      do_center_crop: true,
      crop_size: { height: S, width: S },
      resample: 3,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    {
      model_type: "dinov2",
      _name_or_path: "milpf/tiny-vit-dinov2-like",
      hidden_size: opts.hidden ?? 32,
      patch_size: opts.patchPx ?? 14,
      image_size: S,
      num_attention_heads: opts.heads ?? 2,
      num_hidden_layers: 1,
    },
  );
}
