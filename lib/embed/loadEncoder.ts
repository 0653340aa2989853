import * as path from "node:path";
import { DEFAULT_PATHS, resolveProjectPath } from "../util/paths";
import { builtinFolderMatches, writeBuiltinEncoder, type BuiltinEncoderOptions } from "./builtin";
import type { Encoder } from "./encoder";
import { loadOnnxEncoder, type OnnxEncoderOptions } from "./onnxEncoder";

export interface LoadEncoderOptions extends OnnxEncoderOptions {
  /** Options of the built-in encoder (used when the spec is "builtin"). */
  builtin?: BuiltinEncoderOptions;
  /** Where the built-in encoder lives (default data/models/builtin, project-relative). */
  builtinFolder?: string;
}

/**
 * `loadEncoder("builtin")` writes the built-in encoder to data/models/builtin on first use (or
 * when its options changed) and loads it; any other spec is an HF-style ONNX export folder.
 * Both go through the same loadOnnxEncoder.
 */
export async function loadEncoder(spec: string, opts: LoadEncoderOptions = {}): Promise<Encoder> {
  if (spec === "builtin") {
    const folder = resolveProjectPath(opts.builtinFolder ?? DEFAULT_PATHS.builtinEncoder);
    if (!builtinFolderMatches(folder, opts.builtin)) await writeBuiltinEncoder(folder, opts.builtin);
    return loadOnnxEncoder(folder, opts);
  }
  return loadOnnxEncoder(path.isAbsolute(spec) ? spec : resolveProjectPath(spec), opts);
}
