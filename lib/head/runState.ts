import type { HeadConfig } from "./config";
import { zerosLike, type AdamState } from "./adam";
import { HIDDEN1, cloneParams, type HeadParams } from "./params";
import type { CurvePoint } from "./train";

/** One (config, seed) run during training: its parameters, Adam state, early-stopping state and curve. */
export interface RunState extends AdamState {
  config: HeadConfig;
  seed: number;
  best: HeadParams;
  bestValAuc: number;
  bestEpoch: number;
  wait: number;
  stopped: boolean;
  curve: CurvePoint[];
  loss: number;
}

/** A fresh training state over a copy of `params` (its own best copy too). */
export function stateFor(config: HeadConfig, params: HeadParams, seed = 0): RunState {
  const own = cloneParams(params);
  return {
    config,
    seed,
    params: own,
    m: zerosLike(params),
    v: zerosLike(params),
    step: 0,
    best: params,
    bestValAuc: -Infinity,
    bestEpoch: 0,
    wait: 0,
    stopped: false,
    curve: [],
    grad: zerosLike(params),
    loss: 0,
  };
}

/** Stack the first-layer weights of runs side by side: dim x (16 runs). */
export function stackW1(runs: RunState[], name: "g1w" | "l1w", dim: number): Float32Array {
  const C = runs.length * HIDDEN1;
  const w = new Float32Array(dim * C);
  runs.forEach((r, i) => {
    const src = r.params[name];
    for (let d = 0; d < dim; d++) w.set(src.subarray(d * HIDDEN1, (d + 1) * HIDDEN1), d * C + i * HIDDEN1);
  });
  return w;
}

/** Stack the named parameters of runs one after the other (run-major). */
export function stackParams(runs: RunState[], names: string[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const n of names) {
    const size = runs[0].params[n].length;
    const a = new Float32Array(size * runs.length);
    runs.forEach((r, i) => a.set(r.params[n], i * size));
    out[n] = a;
  }
  return out;
}
