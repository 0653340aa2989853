import { beforeAll, describe, expect, it } from "vitest";
import { selectTfBackend } from "../../lib/util/backend";
import { Rng } from "../../lib/util/rng";
import {
  ABLATION_CONFIGS,
  EXTRA_CONFIGS,
  FULL_CONFIG,
  GLOBAL_SELFATTN_CONFIG,
  HEAD_CONFIGS,
  configsByName,
  countParams,
  initParams,
  paramNames,
  sourceFromStoreData,
  validateConfig,
  type HeadConfig,
  type HeadParams,
} from "../../lib/head";
import { scoreBagReference } from "../../lib/head/internal/float64Head";
import { lossAndGradient, scoreHeads } from "./batchedPath";
import { tinyStore, weightedBceRef, type TinyStore } from "./data";

const cfg = (name: string, global: HeadConfig["global"], local: HeadConfig["local"], instance: HeadConfig["instance"] = null): HeadConfig => ({ name, label: name, global, local, instance });
const byName = (n: string): HeadConfig => HEAD_CONFIGS.find((c) => c.name === n) as HeadConfig;
/** Q/K/V self-attention on the tile stream (not a named config; the pooling is stream-generic). */
const LOCAL_SELFATTN = cfg("local-selfattn", null, "selfattn");

/** Every aggregator of both streams, the fused heads and the instance baseline. */
const GRAD_CONFIGS: HeadConfig[] = [
  byName("global-mean"),
  byName("global-max"),
  byName("global-attn"),
  byName("global-selfattn"),
  cfg("local-mean", null, "mean"),
  cfg("local-max", null, "max"),
  byName("local-attn"),
  LOCAL_SELFATTN,
  byName("max+attn"),
  cfg("selfattn+attn", "selfattn", "attn"),
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
    // global attention heads: the stream (24,728 at D = 1536) + pooling + Linear(8, 1) (9)
    const stream = 1536 * 16 + 16 + 16 * 8 + 8;
    expect(stream).toBe(24728);
    // latent query: K and V Linear(8, 8) (2 x 72) + q (8)
    expect(countParams(byName("global-attn"), 1536)).toBe(24889);
    expect(24889).toBe(stream + 2 * (64 + 8) + 8 + 9);
    // Q/K/V: three Linear(8, 8), no latent query
    expect(countParams(GLOBAL_SELFATTN_CONFIG, 1536)).toBe(24953);
    expect(24953).toBe(stream + 3 * (64 + 8) + 9);
    expect(paramNames(GLOBAL_SELFATTN_CONFIG, 1536)).toEqual(["g1w", "g1b", "g2w", "g2b", "gqw", "gqb", "gkw", "gkb", "gvw", "gvb", "fw", "fb"]);
    expect(countParams(LOCAL_SELFATTN, 1152)).toBe(1152 * 16 + 16 + 16 * 8 + 8 + 3 * 72 + 9);
  });

  it("keeps the default grid the paper's nine Table 4 rows; global-selfattn is selectable by name only", () => {
    expect(configsByName("all").map((c) => c.name)).toEqual(["global-mean-inf", "global-mean", "global-max-inf", "global-max", "global-attn", "local-attn", "max+mean", "max+max", "max+attn"]);
    expect(ABLATION_CONFIGS.map((c) => c.name)).not.toContain("global-selfattn");
    expect(configsByName("global-selfattn,global-attn")).toEqual([GLOBAL_SELFATTN_CONFIG, byName("global-attn")]);
    expect(GLOBAL_SELFATTN_CONFIG).toEqual({ name: "global-selfattn", label: "global attn (Q/K/V)", global: "selfattn", local: null, instance: null });
    expect(() => configsByName("global-qkv")).toThrow(/unknown head config "global-qkv".*global-selfattn/);
    expect(() => validateConfig(cfg("bad", "softmax" as HeadConfig["global"], null))).toThrow(/unknown global aggregator "softmax"/);
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
    // the extra configs after the existing ones, so that those keep their seeds
    const configs = [...ABLATION_CONFIGS, cfg("local-mean", null, "mean"), cfg("local-max", null, "max"), ...EXTRA_CONFIGS, LOCAL_SELFATTN, cfg("selfattn+attn", "selfattn", "attn")];
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
    const heads = [...HEAD_CONFIGS, LOCAL_SELFATTN].map((c, i) => ({ config: c, params: initParams(c, store.dim, 200 + i) }));
    const a = await scoreHeads(src, heads, { postH });
    const b = await scoreHeads(sourceFromStoreData(perm, perm.dim), heads, { postH });
    for (let k = 0; k < heads.length; k++) for (let i = 0; i < store.bags.length; i++) expect(Math.abs(a[k][i] - b[k][i])).toBeLessThan(1e-6);
  });
});

describe("Q/K/V self-attention pooling (global-selfattn)", () => {
  const store = tinyStore(17, 30, 6);
  const src = sourceFromStoreData(store, store.dim);
  const c = GLOBAL_SELFATTN_CONFIG;

  it("with a zero query projection it is the mean of V: a global-mean head with the value layer folded into the fusion", async () => {
    const p = initParams(c, store.dim, 21);
    p.gqw.fill(0);
    p.gqb.fill(0);
    // A = 1/n everywhere, so z = mean_i (h_i Wv + bv) and logit = fb + bv.fw + (mean_i h_i) (Wv fw)
    const mean = byName("global-mean");
    const pm: HeadParams = { g1w: p.g1w, g1b: p.g1b, g2w: p.g2w, g2b: p.g2b, fw: new Float32Array(8), fb: new Float32Array(1) };
    let fb = p.fb[0];
    for (let k = 0; k < 8; k++) {
      fb += p.gvb[k] * p.fw[k];
      for (let j = 0; j < 8; j++) pm.fw[j] += p.gvw[j * 8 + k] * p.fw[k];
    }
    pm.fb[0] = fb;
    const [js] = await scoreHeads(src, [{ config: c, params: p }], { postH: "js" });
    const [tfjs] = await scoreHeads(src, [{ config: c, params: p }], { postH: "tfjs" });
    store.bags.forEach((_, b) => {
      const x = bagSlices(store, b);
      const want = scoreBagReference(mean, pm, store.dim, x.g, x.nG, x.t, x.nT).probability;
      const ref = scoreBagReference(c, p, store.dim, x.g, x.nG, x.t, x.nT);
      expect(Math.abs(ref.probability - want), `reference bag ${b}`).toBeLessThan(1e-6);
      expect(Math.abs(js[b] - want), `js bag ${b}`).toBeLessThan(2e-6);
      expect(Math.abs(tfjs[b] - want), `tfjs bag ${b}`).toBeLessThan(2e-6);
      for (const w of ref.globalScores) expect(w).toBeCloseTo(1 / x.nG, 6); // float32
    });
  });

  it("is not uniform in general: per-view weights (column means of A) sum to 1 and differ", () => {
    const p = initParams(c, store.dim, 22);
    p.gqw = p.gqw.map((v) => v * 20);
    p.gkw = p.gkw.map((v) => v * 20);
    let spread = 0;
    store.bags.forEach((_, b) => {
      const x = bagSlices(store, b);
      const r = scoreBagReference(c, p, store.dim, x.g, x.nG, x.t, x.nT);
      expect(r.globalScores.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
      spread = Math.max(spread, Math.max(...r.globalScores) - Math.min(...r.globalScores));
    });
    expect(spread).toBeGreaterThan(0.05);
  });

  it("gradients: the fused loops equal tfjs autodiff (every element) and central differences of the float64 reference", async () => {
    const p = initParams(c, store.dim, 23);
    p.fw = p.fw.map((v) => v * 4);
    // sharper attention, so that the query / key gradients are far from zero
    p.gqw = p.gqw.map((v) => v * 4);
    p.gkw = p.gkw.map((v) => v * 4);
    const [js] = await lossAndGradient(src, [{ config: c, params: p }], { chunkRows: 16, postH: "js" });
    const [tfjs] = await lossAndGradient(src, [{ config: c, params: p }], { chunkRows: 16, postH: "tfjs" });
    expect(js.loss).toBeCloseTo(tfjs.loss, 6);
    expect(Object.keys(js.grad).sort()).toEqual(Object.keys(p).sort());
    for (const name of Object.keys(p)) {
      const scale = Math.max(...tfjs.grad[name].map(Math.abs));
      if (name === "gkb") {
        // a key bias adds Q_i . bk to every score of row i: softmax is shift-invariant, so the
        // loss does not depend on it and its gradient is 0
        expect(Math.max(...js.grad[name].map(Math.abs)), "gkb has no gradient").toBeLessThan(1e-7);
        continue;
      }
      expect(scale, `${name} carries gradient`).toBeGreaterThan(1e-4);
      for (let i = 0; i < p[name].length; i++)
        expect(Math.abs(js.grad[name][i] - tfjs.grad[name][i]), `${name}[${i}] js ${js.grad[name][i]} tfjs ${tfjs.grad[name][i]}`).toBeLessThan(1e-6 + 1e-4 * scale);
    }
    // central differences in float64: the Q/K/V layers and the fusion act after the ReLUs, so the
    // loss is smooth in them and the central difference must match (no one-sided fallback)
    const p64: HeadParams = {};
    for (const [k, v] of Object.entries(p)) p64[k] = Float64Array.from(v) as unknown as Float32Array;
    const rng = new Rng(29);
    const eps = 1e-5;
    let nonzero = 0;
    for (const name of ["gqw", "gqb", "gkw", "gkb", "gvw", "gvb", "fw"]) {
      for (let k = 0; k < 4; k++) {
        const i = rng.int(0, p[name].length - 1);
        const orig = p64[name][i];
        p64[name][i] = orig + eps;
        const lp = referenceLoss(store, c, p64);
        p64[name][i] = orig - eps;
        const lm = referenceLoss(store, c, p64);
        p64[name][i] = orig;
        const fd = (lp - lm) / (2 * eps);
        if (Math.abs(fd) > 1e-5) nonzero++;
        for (const [what, g] of [["js", js.grad[name][i]], ["tfjs", tfjs.grad[name][i]]] as const)
          expect(Math.abs(g - fd), `${what} ${name}[${i}] analytic ${g} central ${fd}`).toBeLessThan(1e-6 + 1e-3 * Math.abs(fd));
      }
    }
    expect(nonzero).toBeGreaterThan(15); // of 28 (gkb's 4 are 0; a dead ReLU feature zeroes some rows of the weights)
  });
});
