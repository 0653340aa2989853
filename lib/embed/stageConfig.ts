import type { ConfigSpec } from "../util/config";
import { DEFAULT_PATHS } from "../util/paths";

/** The execution providers onnxruntime-node is asked for (no silent fallback). */
export const EXECUTION_PROVIDERS = ["cpu", "cuda", "webgpu"] as const;
/** On-disk dtypes of the embedding store. */
export const STORE_DTYPES = ["float32", "float16"] as const;

/** Stage 2 (embed, notebook 02_embed, `milpf embed`): one validated config (lib/util/config.ts). */
export const EMBED_STAGE = {
  manifest: { kind: "string", cli: "--manifest <file>", default: `${DEFAULT_PATHS.tiles}/manifest.json`, path: true, doc: "tile manifest of stage 1" },
  encoder: { kind: "string", cli: "--encoder <spec>", default: "builtin", doc: 'encoder: "builtin", or an ONNX export folder (model.onnx, config.json, preprocessor_config.json)' },
  provider: { kind: "string", cli: "--provider <name>", default: "cpu", oneOf: EXECUTION_PROVIDERS, doc: "onnxruntime execution provider" },
  batchSize: { kind: "int", cli: "--batch <n>", default: 64, min: 1, max: 4096, doc: "encoder batch size" },
  dtype: { kind: "string", cli: "--dtype <type>", default: "float32", oneOf: STORE_DTYPES, doc: "store dtype on disk" },
  embeddings: { kind: "string", cli: "--out <dir>", default: DEFAULT_PATHS.embeddings, path: true, doc: "embedding store folder (read by stage 3)" },
} as const satisfies ConfigSpec;
