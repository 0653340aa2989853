/**
 * test helper: the batched path trainGrid uses (ORT/tfjs/js X kernel + the head after H, chunked
 * exactly as in training), driven for given heads without training, so tests can check its loss,
 * gradients and scores against the float64 reference (lib/head/internal/float64Head.ts) and
 * finite differences. Moved here from lib/head/train.ts: only tests use it.
 */
import { makeChunks, splitBagIndices } from "../../lib/head/chunks";
import { validateConfig, type HeadConfig } from "../../lib/head/config";
import { Engine } from "../../lib/head/engine";
import { createKernel, type KernelName, type XKernel } from "../../lib/head/kernel";
import type { HeadParams } from "../../lib/head/params";
import type { PostH } from "../../lib/head/postH";
import { stateFor } from "../../lib/head/runState";
import type { EmbeddingSource } from "../../lib/head/source";
import { DEFAULT_TRAIN_SETTINGS } from "../../lib/head/train";

/**
 * Full-batch training loss and its gradient for given heads on the source's training bags, through
 * the same batched path (X kernel + head after H) trainGrid uses.
 */
export async function lossAndGradient(
  source: EmbeddingSource,
  heads: { config: HeadConfig; params: HeadParams }[],
  opts: { kernel?: XKernel | KernelName; chunkRows?: number; postH?: PostH } = {},
): Promise<{ loss: number; grad: HeadParams }[]> {
  const kernel = typeof opts.kernel === "object" ? opts.kernel : createKernel(opts.kernel ?? "ort");
  const states = heads.map((h) => stateFor(validateConfig(h.config), h.params));
  const chunks = makeChunks(source, splitBagIndices(source.bags, "train"), opts.chunkRows ?? DEFAULT_TRAIN_SETTINGS.chunkRows, "train");
  await new Engine(source, kernel, opts.postH).gradient(states, chunks);
  return states.map((s) => ({ loss: s.loss, grad: s.grad }));
}

/** Bag probabilities (store bag order) of given heads through the batched path; NaN outside `bagIndices`. */
export async function scoreHeads(
  source: EmbeddingSource,
  heads: { config: HeadConfig; params: HeadParams }[],
  opts: { bagIndices?: number[]; kernel?: XKernel | KernelName; chunkRows?: number; postH?: PostH } = {},
): Promise<Float32Array[]> {
  const kernel = typeof opts.kernel === "object" ? opts.kernel : createKernel(opts.kernel ?? "ort");
  const states = heads.map((h) => stateFor(validateConfig(h.config), h.params));
  const bagIndices = opts.bagIndices ?? source.bags.map((_, i) => i);
  const chunks = makeChunks(source, bagIndices, opts.chunkRows ?? DEFAULT_TRAIN_SETTINGS.chunkRows, "score");
  return new Engine(source, kernel, opts.postH).score(states, chunks, "best", source.bags.length);
}
