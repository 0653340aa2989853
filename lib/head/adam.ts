import type { HeadParams } from "./params";
import type { TrainSettings } from "./train";

/** What one Adam step reads and updates: parameters, their gradient, the moments and the step count. */
export interface AdamState {
  params: HeadParams;
  grad: HeadParams;
  m: HeadParams;
  v: HeadParams;
  step: number;
}

/** One Adam step in place, PyTorch-style weight decay (L2 added to the gradient, not AdamW). */
export function adamStep(r: AdamState, s: Pick<TrainSettings, "lr" | "weightDecay" | "beta1" | "beta2" | "eps">): void {
  r.step++;
  const bc1 = 1 - s.beta1 ** r.step;
  const bc2 = 1 - s.beta2 ** r.step;
  for (const n of Object.keys(r.params)) {
    const p = r.params[n];
    const g = r.grad[n];
    const m = r.m[n];
    const v = r.v[n];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + s.weightDecay * p[i];
      m[i] = s.beta1 * m[i] + (1 - s.beta1) * gi;
      v[i] = s.beta2 * v[i] + (1 - s.beta2) * gi * gi;
      p[i] -= (s.lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + s.eps);
    }
  }
}

/** Zero arrays shaped like `p`. */
export function zerosLike(p: HeadParams): HeadParams {
  const o: HeadParams = {};
  for (const [k, v] of Object.entries(p)) o[k] = new Float32Array(v.length);
  return o;
}
