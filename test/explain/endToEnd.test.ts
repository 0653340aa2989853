import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadEncoder } from "../../lib/embed/loadEncoder";
import { explainBag, type ExplainImageInput } from "../../lib/explain/explainBag";
import { FULL_CONFIG } from "../../lib/head/config";
import { loadHead, saveHead } from "../../lib/head/deploy";
import { initParams } from "../../lib/head/params";
import { makeTransform } from "../../lib/preprocess/transform";
import { Rng } from "../../lib/util/rng";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-explain-e2e-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("end to end with the built-in encoder and a saved MIL-PF head", () => {
  it("scores a two-view bag: attention is one softmax over both views, maps stay within the tile values", async () => {
    const dim = 256; // the built-in encoder's dimension
    const headDir = path.join(tmp, "train", "best");
    saveHead(headDir, { config: FULL_CONFIG, dim, seed: 3, params: initParams(FULL_CONFIG, dim, 3) });
    const head = loadHead(headDir);
    const encoder = await loadEncoder("builtin", { builtinFolder: path.join(tmp, "builtin") });
    try {
      expect(encoder.dim).toBe(dim);
      const N = 256;
      const S = encoder.inputSizePx;
      const views: ExplainImageInput[] = [0, 1].map((k) => {
        const rng = new Rng(k);
        const working = Uint16Array.from({ length: N * N }, () => Math.round(65535 * (0.2 + 0.6 * rng.uniform())));
        return {
          imageId: `v${k}`,
          working,
          workingSizePx: N,
          mask: new Uint8Array(N * N).fill(1),
          globalView: new Float32Array(S * S).fill(0.4),
          lesionsWorking: [],
          transform: makeTransform({ originalWidthPx: N, originalHeightPx: N, flipped: k === 1, crop: { x0: 0, y0: 0, x1: N, y1: N }, workingSizePx: N }),
        };
      });
      const tileSizePx = S; // tiles at the encoder input
      const r = await explainBag(views, encoder, head, {
        overlap: 0.75,
        tiling: { tileSizePx, tissueRule: "maskFraction", minTissueFraction: 0, meanIntensityFactor: 0.05 },
      });
      const perView = ((N - tileSizePx) / (tileSizePx / 4) + 1) ** 2;
      expect(r.images.map((i) => i.tiles.length)).toEqual([perView, perView]);
      const sum = r.images.reduce((s, im) => s + im.attention.reduce((a, b) => a + b, 0), 0);
      expect(sum).toBeCloseTo(1, 5);
      expect(r.probability).toBeGreaterThan(0);
      expect(r.probability).toBeLessThan(1);
      for (const im of r.images) {
        const lo = Math.min(...im.attention);
        const hi = Math.max(...im.attention);
        for (const v of im.attentionMap) {
          expect(v).toBeGreaterThanOrEqual(lo - 1e-9);
          expect(v).toBeLessThanOrEqual(hi + 1e-9);
        }
      }
    } finally {
      await encoder.close();
    }
  }, 60000);
});
