import type { Encoder, ExecutionProviderName } from "../embed/encoder";
import { loadEncoder } from "../embed/loadEncoder";

/** The run's encoder: "builtin" or an HF-style ONNX folder (lib/embed's loadEncoder). */
export async function loadRunEncoder(spec: string, provider: ExecutionProviderName = "cpu"): Promise<Encoder> {
  if (!["cpu", "cuda", "webgpu"].includes(provider)) throw new Error(`explain: unknown execution provider '${provider}' (cpu, cuda, webgpu)`);
  return loadEncoder(spec, { provider });
}
