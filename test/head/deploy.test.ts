import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ABLATION_CONFIGS, EXTRA_CONFIGS, HEAD_FILES, OnnxHead, initParams, loadHead, saveHead, sourceFromStoreData, type HeadConfig } from "../../lib/head";
import { selectTfBackend } from "../../lib/util/backend";
import { scoreHeads } from "./batchedPath";
import { tinyStore } from "./data";

const configs: HeadConfig[] = [
  ...ABLATION_CONFIGS,
  { name: "local-mean", label: "local mean", global: null, local: "mean", instance: null },
  { name: "local-max", label: "local max", global: null, local: "max", instance: null },
  ...EXTRA_CONFIGS,
  { name: "local-selfattn", label: "local attn (Q/K/V)", global: null, local: "selfattn", instance: null },
];

describe("deployable head", () => {
  const store = tinyStore(31, 12, 16, { minTiles: 1, maxTiles: 9 });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-head-"));
  for (const [k, c] of configs.entries()) {
    it(`${c.name}: saved, reloaded; ONNX (onnxruntime) equals the tfjs head and the reference scorer`, async () => {
      const params = initParams(c, store.dim, 40 + k);
      params.fw = params.fw.map((v) => v * 3);
      const dir = path.join(tmp, c.name);
      saveHead(dir, { config: c, dim: store.dim, seed: 40 + k, params, info: { note: "test" } });
      const head = loadHead(dir);
      for (const n of Object.keys(params)) expect(head.params[n]).toEqual(params[n]);
      const onnxHead = await OnnxHead.create(path.join(dir, HEAD_FILES.onnx), store.dim);
      await selectTfBackend({ log: () => undefined });
      const [tfjsScores] = await scoreHeads(sourceFromStoreData(store, store.dim), [{ config: c, params }]);
      let g0 = 0;
      let t0 = 0;
      for (let b = 0; b < store.bags.length; b++) {
        let nG = 0;
        while (g0 + nG < store.globalRows.length / 2 && store.globalRows[(g0 + nG) * 2] === b) nG++;
        let nT = 0;
        while (t0 + nT < store.tileRows.length / 5 && store.tileRows[(t0 + nT) * 5] === b) nT++;
        const g = store.globals.slice(g0 * store.dim, (g0 + nG) * store.dim);
        const t = store.tiles.slice(t0 * store.dim, (t0 + nT) * store.dim);
        g0 += nG;
        t0 += nT;
        const ref = head.scoreBag(g, nG, t, nT);
        const o = await onnxHead.scoreBag(g, nG, t, nT);
        expect(Math.abs(o.logit - ref.logit), `${c.name} bag ${b}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.logit)));
        expect(Math.abs(o.probability - ref.probability)).toBeLessThan(1e-5);
        expect(Math.abs(o.probability - tfjsScores[b]), `onnx vs tfjs ${c.name} bag ${b}`).toBeLessThan(1e-5);
        expect(o.tileAttention.length).toBe(nT);
        for (let i = 0; i < nT; i++) expect(Math.abs(o.tileAttention[i] - ref.tileAttention[i])).toBeLessThan(1e-5);
        if (c.local !== null) {
          expect(ref.tileAttention.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
          // contributions add up to the local stream's part of the logit
          const noLocal = ref.logit - ref.tileContribution.reduce((a, v) => a + v, 0);
          const zeroLocalParams = { ...params, fw: params.fw.map((v, i) => (i >= params.fw.length - 8 ? 0 : v)) };
          const { scoreBagReference } = await import("../../lib/head/internal/float64Head");
          expect(scoreBagReference(c, zeroLocalParams, store.dim, g, nG, t, nT).logit).toBeCloseTo(noLocal, 5);
        }
      }
    });
  }
  it("rejects a weights file of the wrong size, naming the file", () => {
    const c = ABLATION_CONFIGS[8];
    const dir = path.join(tmp, "bad");
    saveHead(dir, { config: c, dim: 16, seed: 1, params: initParams(c, 16, 1) });
    fs.writeFileSync(path.join(dir, HEAD_FILES.weights), new Uint8Array(12));
    expect(() => loadHead(dir)).toThrow(/weights\.bin.*12 bytes/);
  });
});
