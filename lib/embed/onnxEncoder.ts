import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { l2NormalizeRows, type Encoder, type ExecutionProviderName, type OutputChoice } from "./encoder";
import type { ResizeKernel } from "../preprocess/grey16";
import { greyToPixelValues, parsePreprocessorConfig, resampleKernel, type PreprocessorConfig } from "./preprocess";

export interface OnnxEncoderOptions {
  /** Execution provider to run on (default "cpu"). No silent fallback: a provider that does not load is an error. */
  provider?: ExecutionProviderName;
  /** Which output is the embedding (default "auto": detected from output names and config.model_type). */
  output?: OutputChoice;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

/** The model's outputs as detected: which tensor, and whether to take token 0 of a sequence. */
interface OutputPlan {
  name: string;
  /** "cls": take row 0 of [B, N, H]; "vector": the output is [B, H]. */
  kind: "cls" | "vector";
}

const PROVIDER_HINTS: Record<string, string> = {
  cuda:
    "onnxruntime-node needs its CUDA provider libraries (libonnxruntime_providers_cuda.so, downloaded by its install script unless ONNXRUNTIME_NODE_INSTALL=skip) plus CUDA 12 and cuDNN 9 on the library path",
  webgpu: "onnxruntime-node's WebGPU provider needs a GPU adapter (Vulkan on Linux: libvulkan.so.1 and a driver)",
};

/** Pick the embedding output from the model's output names, config.model_type and the caller's choice. */
export function chooseOutput(folder: string, outputNames: readonly string[], modelType: string, choice: OutputChoice): OutputPlan {
  const has = (n: string): boolean => outputNames.includes(n);
  const where = `${folder}: model outputs [${outputNames.join(", ")}]`;
  if (choice === "cls") {
    if (!has("last_hidden_state")) throw new Error(`${where}: output "cls" needs a last_hidden_state output`);
    return { name: "last_hidden_state", kind: "cls" };
  }
  if (choice === "pooler") {
    if (!has("pooler_output")) throw new Error(`${where}: output "pooler" needs a pooler_output output`);
    return { name: "pooler_output", kind: "vector" };
  }
  // auto: DINOv2 -> CLS token of last_hidden_state (after the final norm), as in the paper;
  // SigLIP / MedSigLIP and others -> pooler_output; a single output -> that output.
  if (modelType.startsWith("dinov2") && has("last_hidden_state")) return { name: "last_hidden_state", kind: "cls" };
  if (has("pooler_output")) return { name: "pooler_output", kind: "vector" };
  if (has("last_hidden_state")) return { name: "last_hidden_state", kind: "cls" };
  if (outputNames.length === 1) return { name: outputNames[0], kind: "vector" };
  throw new Error(`${where}: cannot tell which output is the embedding; pass output "cls" or "pooler"`);
}

class OnnxEncoder implements Encoder {
  constructor(
    readonly name: string,
    readonly dim: number,
    readonly inputSizePx: number,
    readonly provider: string,
    readonly resampleKernel: ResizeKernel,
    readonly params: Record<string, unknown>,
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly plan: OutputPlan,
    private readonly pre: PreprocessorConfig,
    /** A fixed batch size baked into the model (1 for some exports), or null when the batch axis is dynamic. */
    private readonly fixedBatch: number | null,
  ) {}

  async embed(batch: Float32Array, count: number): Promise<Float32Array> {
    const S = this.inputSizePx;
    const out = new Float32Array(count * this.dim);
    if (count === 0) return out;
    const step = this.fixedBatch ?? count;
    for (let start = 0; start < count; start += step) {
      const n = Math.min(step, count - start);
      const grey = batch.subarray(start * S * S, (start + n) * S * S);
      let pixels = greyToPixelValues(grey, n, S, this.pre);
      let runN = n;
      if (this.fixedBatch !== null && n < this.fixedBatch) {
        // pad a short last batch for a fixed-batch model
        const padded = new Float32Array(this.fixedBatch * 3 * S * S);
        padded.set(pixels);
        pixels = padded;
        runN = this.fixedBatch;
      }
      const feeds = { [this.inputName]: new ort.Tensor("float32", pixels, [runN, 3, S, S]) };
      const result = await this.session.run(feeds, [this.plan.name]);
      const t = result[this.plan.name];
      const data = t.data as Float32Array;
      const dims = t.dims;
      if (this.plan.kind === "cls") {
        if (dims.length !== 3 || dims[2] !== this.dim) throw new Error(`${this.name}: ${this.plan.name} has shape [${dims.join(", ")}], expected [B, N, ${this.dim}]`);
        const rowStride = dims[1] * dims[2];
        for (let i = 0; i < n; i++) out.set(data.subarray(i * rowStride, i * rowStride + this.dim), (start + i) * this.dim);
      } else {
        if (dims.length !== 2 || dims[1] !== this.dim) throw new Error(`${this.name}: ${this.plan.name} has shape [${dims.join(", ")}], expected [B, ${this.dim}]`);
        out.set(data.subarray(0, n * this.dim), start * this.dim);
      }
    }
    return l2NormalizeRows(out, count, this.dim);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Create an onnxruntime session on exactly the asked provider, or throw a clear error. */
export async function createSession(
  modelFileOrBytes: string | Uint8Array,
  provider: ExecutionProviderName,
  threads?: number,
  where = typeof modelFileOrBytes === "string" ? modelFileOrBytes : "model",
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    logSeverityLevel: 3,
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    // No busy-waiting of idle intra-op threads: on shared/busy CPUs spinning burned ~50% more
    // CPU per tile for less throughput (measured: 1.24 -> 0.82 ms CPU per 128 px tile).
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  };
  try {
    return typeof modelFileOrBytes === "string"
      ? await ort.InferenceSession.create(modelFileOrBytes, options)
      : await ort.InferenceSession.create(modelFileOrBytes, options);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    if (provider !== "cpu") {
      throw new Error(
        `${where}: execution provider "${provider}" is not available (${msg}). ${PROVIDER_HINTS[provider] ?? ""}. ` +
          `Not falling back to CPU: pass provider "cpu" to run there.`,
      );
    }
    throw new Error(`${where}: onnxruntime cannot load the model (${msg})`);
  }
}

/**
 * Load a Hugging Face style ONNX export folder: model.onnx (+ external data files beside it),
 * config.json, preprocessor_config.json. The model is loaded from its path so that onnxruntime
 * finds external data (models over 2 GB) next to it.
 */
export async function loadOnnxEncoder(folder: string, opts: OnnxEncoderOptions = {}): Promise<Encoder> {
  const provider = opts.provider ?? "cpu";
  const modelFile = path.join(folder, "model.onnx");
  if (!fs.existsSync(modelFile)) throw new Error(`${modelFile}: not found (an encoder folder holds model.onnx, config.json, preprocessor_config.json)`);
  const configFile = path.join(folder, "config.json");
  const config = fs.existsSync(configFile) ? readJson<Record<string, unknown>>(configFile) : {};
  const preFile = path.join(folder, "preprocessor_config.json");
  if (!fs.existsSync(preFile)) throw new Error(`${preFile}: not found (needed for input size, mean and std)`);
  const pre = parsePreprocessorConfig(preFile, readJson<Record<string, unknown>>(preFile));
  const modelType = typeof config.model_type === "string" ? config.model_type : "";

  const session = await createSession(modelFile, provider, opts.threads);
  const inputName = session.inputNames.includes("pixel_values") ? "pixel_values" : session.inputNames[0];
  const inMeta = session.inputMetadata.find((m) => m.name === inputName);
  let sizePx = pre.sizePx;
  let fixedBatch: number | null = null;
  if (inMeta && inMeta.isTensor) {
    const shape = inMeta.shape;
    if (shape.length !== 4) throw new Error(`${modelFile}: input ${inputName} has rank ${shape.length}, expected [B, 3, H, W]`);
    if (typeof shape[1] === "number" && shape[1] !== 3) throw new Error(`${modelFile}: input ${inputName} has ${shape[1]} channels, expected 3`);
    if (typeof shape[2] === "number" && typeof shape[3] === "number") {
      if (shape[2] !== shape[3]) throw new Error(`${modelFile}: input ${inputName} is ${shape[2]} x ${shape[3]}, expected a square`);
      sizePx = shape[2]; // the exported fixed size wins over the preprocessor's size
    }
    if (typeof shape[0] === "number" && shape[0] > 0) fixedBatch = shape[0];
  }
  const plan = chooseOutput(folder, session.outputNames, modelType, opts.output ?? "auto");
  // Find D: from the output's static shape, else from config hidden_size, else by running once.
  const outMeta = session.outputMetadata.find((m) => m.name === plan.name);
  let dim: number | null = null;
  if (outMeta && outMeta.isTensor) {
    const last = outMeta.shape[outMeta.shape.length - 1];
    if (typeof last === "number" && last > 0) dim = last;
  }
  if (dim === null && typeof config.hidden_size === "number") dim = config.hidden_size;
  if (dim === null) {
    const probe = await session.run(
      { [inputName]: new ort.Tensor("float32", new Float32Array((fixedBatch ?? 1) * 3 * sizePx * sizePx), [fixedBatch ?? 1, 3, sizePx, sizePx]) },
      [plan.name],
    );
    const dims = probe[plan.name].dims;
    dim = dims[dims.length - 1];
  }
  const nameFromConfig = typeof config._name_or_path === "string" && config._name_or_path ? config._name_or_path : null;
  const name = nameFromConfig ?? (typeof config.milpf_name === "string" ? config.milpf_name : path.basename(path.resolve(folder)));
  const params: Record<string, unknown> = {
    folder: path.resolve(folder),
    modelType,
    output: plan.kind === "cls" ? `${plan.name}[:, 0]` : plan.name,
    inputSizePx: sizePx,
    imageMean: pre.imageMean,
    imageStd: pre.imageStd,
    rescaleFactor: pre.rescaleFactor,
    doRescale: pre.doRescale,
    doNormalize: pre.doNormalize,
    resample: resampleKernel(pre.resample),
  };
  return new OnnxEncoder(name, dim, sizePx, provider, resampleKernel(pre.resample), params, session, inputName, plan, pre, fixedBatch);
}

/**
 * Writes an encoder folder as `loadOnnxEncoder` reads it: model.onnx, preprocessor_config.json
 * (`preprocessor`, then the rescale to [0, 1] and the normalisation every export here uses), and
 * config.json last, since a folder with a config counts as complete. Returns the folder.
 */
export function writeEncoderFolder(
  folder: string,
  model: Uint8Array,
  preprocessor: Record<string, unknown> & { resample: number; mean: number[]; std: number[] },
  config: Record<string, unknown>,
): string {
  const { resample, mean, std, ...head } = preprocessor;
  fs.mkdirSync(folder, { recursive: true });
  writeFileAtomic(path.join(folder, "model.onnx"), model);
  writeJsonAtomic(path.join(folder, "preprocessor_config.json"), { ...head, resample, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: mean, image_std: std });
  writeJsonAtomic(path.join(folder, "config.json"), config);
  return folder;
}
