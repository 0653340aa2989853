import * as fs from "node:fs";
import * as headLib from "../head";
import { loadEncoder } from "../embed/loadEncoder";
import type { Encoder, ExecutionProviderName } from "../embed/encoder";
import type { BagScorer } from "./explainBag";

/** The run's encoder: "builtin" or an HF-style ONNX folder (lib/embed's loadEncoder). */
export async function loadRunEncoder(spec: string, provider: ExecutionProviderName = "cpu"): Promise<Encoder> {
  if (!["cpu", "cuda", "webgpu"].includes(provider)) throw new Error(`explain: unknown execution provider '${provider}' (cpu, cuda, webgpu)`);
  return loadEncoder(spec, { provider });
}

/** The trained head of a training run folder (lib/head's loadHead). */
export async function loadRunHead(runDir: string): Promise<BagScorer> {
  if (!fs.existsSync(runDir)) throw new Error(`${runDir}: training run folder not found (run \`milpf train\` first)`);
  const lib = headLib as unknown as { loadHead?: (dir: string) => BagScorer | Promise<BagScorer> };
  if (typeof lib.loadHead !== "function") throw new Error(`${runDir}: lib/head offers no loadHead() yet`);
  return lib.loadHead(runDir);
}
