import { beforeAll, describe, expect, it } from "vitest";
import { selectTfBackend } from "../../lib/util/backend";
import { Rng } from "../../lib/util/rng";
import {
  ABLATION_CONFIGS,
  FULL_CONFIG,
  countParams,
  initParams,
  sourceFromStoreData,
  type HeadConfig,
  type HeadParams,
} from "../../lib/head";
import { scoreBagReference } from "../../lib/head/internal/float64Head";
import { lossAndGradient, scoreHeads } from "./batchedPath";
import { tinyStore, weightedBceRef, type TinyStore } from "./data";

const cfg = (name: string, global: HeadConfig["global"], local: HeadConfig["local"], instance: HeadConfig["instance"] = null): HeadConfig => ({ name, label: name, global, local, instance });
const byName = (n: string): HeadConfig => ABLATION_CONFIGS.find((c) => c.name === n) as HeadConfig;

/** Every aggregator of both streams, the fused heads and the instance baseline. */
const GRAD_CONFIGS: HeadConfig[] = [
  byName("global-mean"),
  byName("global-max"),
  byName("global-attn"),
  cfg("local-mean", null, "mean"),
  cfg("local-max", null, "max"),
  byName("local-attn"),
  byName("max+attn"),
  byName("global-max-inf"),
];

function bagSlices(s: TinyStore, b: number): { g: Float32Array; nG: number; t: Float32Array; nT: number } {
  const gi: number[] = [];
  const ti: number[] = [];
  for (let i = 0; i < s.globalRows.length / 2; i++) if (s.globalRows[i * 2] === b) gi.push(i);
  for (let i = 0; i < s.tileRows.length / 5; i++) if (s.tileRows[i * 5] === b) ti.push(i);
  const g = new Float32Array(gi.length * s.dim);
  gi.forEach((r, k) => g.set(s.globals.subarray(r * s.dim, (r + 1) * s.dim), k * s.dim));
  const t = new Float32Array(ti.length * s.dim);
  ti.forEach((r, k) => t.set(s.tiles.subarray(r * s.dim, (r + 1) * s.dim), k * s.dim));
  return { g, nG: gi.length, t, nT: ti.length };
}

/** Float64 training loss from the reference forward pass (independent of the batched tfjs/ORT path). */
function referenceLoss(s: TinyStore, c: HeadConfig, p: HeadParams): number {
  const logits: number[] = [];
  const labels: number[] = [];
  s.bags.forEach((bag, b) => {
    if (bag.split !== "train") return;
    const x = bagSlices(s, b);
    if (c.instance !== null) {
      // each image alone: a one-row global "mean" bag is the image's own logit
      for (let i = 0; i < x.nG; i++) {
        logits.push(scoreBagReference(cfg("img", "mean", null), p, s.dim, x.g.subarray(i * s.dim, (i + 1) * s.dim), 1, new Float32Array(0), 0).logit);
        labels.push(bag.label);
      }
    } else {
      logits.push(scoreBagReference(c, p, s.dim, x.g, x.nG, x.t, x.nT).logit);
      labels.push(bag.label);
    }
  });
  return weightedBceRef(logits, labels);
}

beforeAll(async () => {
  await selectTfBackend({ log: () => undefined });
});

describe("head architecture", () => {
  it("has the paper's parameter counts", () => {
    expect(countParams(FULL_CONFIG, 1536)).toBe(49625);
    expect(countParams(FULL_CONFIG, 1152)).toBe(37337);
    // global-only head: one stream (16 D + 152) + Linear(8, 1)
    expect(countParams(byName("global-max"), 1536)).toBe(16 * 1536 + 16 + 16 * 8 + 8 + 9);
  });

  it("initialises like nn.Linear (U(+-1/sqrt(fan_in))) and the query from N(0,1), reproducibly", () => {
    const p = initParams(FULL_CONFIG, 1536, 7);
    const b1 = 1 / Math.sqrt(1536);
    expect(Math.max(...p.g1w.map(Math.abs))).toBeLessThanOrEqual(b1);
    expect(Math.max(...p.g1w.map(Math.abs))).toBeGreaterThan(0.99 * b1);
    expect(Math.max(...p.fw.map(Math.abs))).toBeLessThanOrEqual(1 / 4);
    expect(Math.max(...p.lq.map(Math.abs))).toBeGreaterThan(0.25); // not uniform(+-1/sqrt 8)-small for all 8
    expect(initParams(FULL_CONFIG, 1536, 7).l1w).toEqual(p.l1w);
    expect(initParams(FULL_CONFIG, 1536, 8).l1w).not.toEqual(p.l1w);
  });
});

describe.each(["js", "tfjs"] as const)("gradients of every aggregator vs finite differences (float64 reference), head after H in %s", (postH) => {
  const store = tinyStore(11, 24, 6);
  const src = sourceFromStoreData(store, store.dim);
  for (const c of GRAD_CONFIGS) {
    it(c.name, async () => {
      const p = initParams(c, store.dim, 3);
      // larger fusion / query weights so that every path carries gradient
      p.fw = p.fw.map((v) => v * 4);
      const [{ loss, grad }] = await lossAndGradient(src, [{ config: c, params: p }], { chunkRows: 16, postH });
      expect(loss).toBeCloseTo(referenceLoss(store, c, p), 5);
      // Finite differences in float64: the reference reads the parameters by index, so a
      // Float64Array copy gives exact perturbations. At a ReLU / max kink the analytic gradient is
      // one of the one-sided derivatives, so it must match the central or a one-sided difference.
      const p64: HeadParams = {};
      for (const [k, v] of Object.entries(p)) p64[k] = Float64Array.from(v) as unknown as Float32Array;
      const rng = new Rng(5);
      let checked = 0;
      const eps = 1e-6;
      const l0 = referenceLoss(store, c, p64);
      for (const name of Object.keys(p)) {
        for (let k = 0; k < 5; k++) {
          const i = rng.int(0, p[name].length - 1);
          const orig = p64[name][i];
          p64[name][i] = orig + eps;
          const lp = referenceLoss(store, c, p64);
          p64[name][i] = orig - eps;
          const lm = referenceLoss(store, c, p64);
          p64[name][i] = orig;
          const g = grad[name][i];
          const err = Math.min(Math.abs(g - (lp - lm) / (2 * eps)), Math.abs(g - (lp - l0) / eps), Math.abs(g - (l0 - lm) / eps));
          expect(err, `${c.name} ${name}[${i}] analytic ${g} fd ${(lp - lm) / (2 * eps)}`).toBeLessThan(2e-5 + 1e-3 * Math.abs(g));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(20);
    });
  }
});

describe.each(["js", "tfjs"] as const)("batched scoring, head after H in %s", (postH) => {
  const store = tinyStore(21, 30, 8);
  const src = sourceFromStoreData(store, store.dim);
  it("equals the float64 reference for every config (variable bag sizes, padding, empty bags)", async () => {
    const configs = [...ABLATION_CONFIGS, cfg("local-mean", null, "mean"), cfg("local-max", null, "max")];
    const heads = configs.map((c, i) => ({ config: c, params: initParams(c, store.dim, 100 + i) }));
    const scores = await scoreHeads(src, heads, { chunkRows: 20, postH });
    heads.forEach((h, k) => {
      store.bags.forEach((_, b) => {
        const x = bagSlices(store, b);
        const ref = scoreBagReference(h.config, h.params, store.dim, x.g, x.nG, x.t, x.nT).probability;
        expect(Math.abs(scores[k][b] - ref), `${h.config.name} bag ${b}`).toBeLessThan(2e-6);
      });
    });
  });

  it("is invariant to the order of instances within a bag", async () => {
    const rng = new Rng(9);
    const perm: TinyStore = { ...store, tiles: new Float32Array(store.tiles), globals: new Float32Array(store.globals) };
    // shuffle rows inside each bag's contiguous range
    for (const [m, rows, w] of [
      [perm.tiles, store.tileRows, 5],
      [perm.globals, store.globalRows, 2],
    ] as const) {
      const n = rows.length / w;
      let s = 0;
      while (s < n) {
        let e = s;
        while (e < n && rows[e * w] === rows[s * w]) e++;
        const order = rng.shuffle(Array.from({ length: e - s }, (_, i) => s + i));
        const src0 = m.slice(s * store.dim, e * store.dim);
        order.forEach((r, k) => m.set(src0.subarray((r - s) * store.dim, (r - s + 1) * store.dim), (s + k) * store.dim));
        s = e;
      }
    }
    expect(perm.tiles).not.toEqual(store.tiles);
    const heads = ABLATION_CONFIGS.map((c, i) => ({ config: c, params: initParams(c, store.dim, 200 + i) }));
    const a = await scoreHeads(src, heads, { postH });
    const b = await scoreHeads(sourceFromStoreData(perm, perm.dim), heads, { postH });
    for (let k = 0; k < heads.length; k++) for (let i = 0; i < store.bags.length; i++) expect(Math.abs(a[k][i] - b[k][i])).toBeLessThan(1e-6);
  });
});
