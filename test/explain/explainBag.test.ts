import { describe, expect, it } from "vitest";
import { explainBag, explainImage, scoreBagTiles, scoreBagTilesAt, type BagScorer, type ExplainImageInput, type TileEmbedder } from "../../lib/explain/explainBag";
import { softmax } from "../../lib/explain/heatmap";
import { makeTransform } from "../../lib/preprocess/transform";
import { Rng } from "../../lib/util/rng";

const N = 256;
const S = 32;

/** A working image: tissue everywhere (0.3 + noise) and, optionally, one bright disc. */
function view(id: string, blob: { cx: number; cy: number; r: number } | null, seed: number): ExplainImageInput {
  const rng = new Rng(seed);
  const working = new Uint16Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const inBlob = blob !== null && (x - blob.cx) ** 2 + (y - blob.cy) ** 2 < blob.r ** 2;
      working[y * N + x] = Math.round(65535 * (0.3 + 0.05 * rng.uniform() + (inBlob ? 0.6 : 0)));
    }
  }
  return {
    imageId: id,
    working,
    workingSizePx: N,
    mask: new Uint8Array(N * N).fill(1),
    globalView: new Float32Array(S * S).fill(0.3),
    lesionsWorking: blob ? [{ x0: blob.cx - blob.r, y0: blob.cy - blob.r, x1: blob.cx + blob.r, y1: blob.cy + blob.r, kind: "Mass", birads: 5 }] : [],
    transform: makeTransform({ originalWidthPx: N, originalHeightPx: N, flipped: false, crop: { x0: 0, y0: 0, x1: N, y1: N }, workingSizePx: N }),
  };
}

/** Stand-in encoder: features [mean brightness, 1]. */
const encoder: TileEmbedder & { calls: number } = {
  inputSizePx: S,
  calls: 0,
  async embed(batch: Float32Array, count: number): Promise<Float32Array> {
    this.calls++;
    const out = new Float32Array(count * 2);
    for (let b = 0; b < count; b++) {
      let s = 0;
      for (let i = 0; i < S * S; i++) s += batch[b * S * S + i];
      out[b * 2] = s / (S * S);
      out[b * 2 + 1] = 1;
    }
    return out;
  },
};

function meanEncoder(size: number, batch: Float32Array, count: number): Promise<Float32Array> {
  const out = new Float32Array(count * 2);
  for (let b = 0; b < count; b++) {
    let s = 0;
    for (let i = 0; i < size * size; i++) s += batch[b * size * size + i];
    out[b * 2] = s / (size * size);
    out[b * 2 + 1] = 1;
  }
  return Promise.resolve(out);
}

/** Stand-in head: attention = softmax(30 x brightness) over all tiles of the bag. */
const head: BagScorer = {
  scoreBag(_g, _ng, tiles, nTiles) {
    const scores = Array.from({ length: nTiles }, (_, i) => 30 * tiles[i * 2]);
    const a = softmax(scores);
    const c = a.map((v, i) => v * tiles[i * 2]);
    const logit = c.reduce((s, v) => s + v, 0);
    return { logit, probability: 1 / (1 + Math.exp(-logit)), tileAttention: a, tileContribution: c };
  },
};

const params = {
  overlap: 0.75,
  tiling: { tileSizePx: S, tissueRule: "maskFraction" as const, minTissueFraction: 0.5, meanIntensityFactor: 0.05 },
  batchSize: 64,
};

describe("explainBag with a stand-in encoder and head", () => {
  it("puts the attention peak and the best box on the lesion, with bag-level attention across views", async () => {
    const bag = [view("cc", null, 1), view("mlo", { cx: 170, cy: 90, r: 14 }, 2)];
    const r = await explainBag(bag, encoder, head, params);
    // 75 % overlap: stride 8 -> (256 - 32) / 8 + 1 = 29 positions per axis, 841 tiles per view
    expect(r.images.map((i) => i.tiles.length)).toEqual([841, 841]);
    expect(r.tileCount).toBe(1682);
    // attention is a softmax over the whole bag: both views' weights sum to 1 together
    const total = r.images.reduce((s, im) => s + im.attention.reduce((a, b) => a + b, 0), 0);
    expect(total).toBeCloseTo(1, 4);
    const mlo = r.images[1];
    let best = 0;
    for (let i = 1; i < mlo.attentionMap.length; i++) if (mlo.attentionMap[i] > mlo.attentionMap[best]) best = i;
    const lesion = mlo.lesionsWorking[0];
    const [px, py] = [best % N, Math.floor(best / N)];
    expect(px >= lesion.x0 && px < lesion.x1 && py >= lesion.y0 && py < lesion.y1).toBe(true);
    const top = mlo.boxes[0];
    expect(top.x0 <= 170 && top.x1 > 170 && top.y0 <= 90 && top.y1 > 90).toBe(true);
    // the lesion-free view has much lower attention everywhere
    expect(Math.max(...r.images[0].attentionMap)).toBeLessThan(mlo.attentionMap[best] / 10);
    // identity transform: original boxes equal working boxes
    expect(mlo.boxesOriginal[0].x0).toBeCloseTo(top.x0, 9);
  });

  it("resizes tiles to a smaller encoder input like the embed stage, and still finds the lesion", async () => {
    const small: TileEmbedder = { inputSizePx: 16, resampleKernel: "linear", embed: (b, c) => meanEncoder(16, b, c) };
    const bag = [{ ...view("v", { cx: 60, cy: 190, r: 14 }, 4), globalView: new Float32Array(16 * 16) }];
    const r = await explainBag(bag, small, head, { ...params, nmsIou: 0.3 });
    const top = r.images[0].boxes[0];
    expect(top.x0 <= 60 && top.x1 > 60 && top.y0 <= 190 && top.y1 > 190).toBe(true);
  });

  it("can smooth the map before box extraction (boxes still on the lesion, map itself unchanged)", async () => {
    const bag = [view("s", { cx: 100, cy: 150, r: 14 }, 5)];
    const raw = await explainBag(bag, encoder, head, params);
    const smooth = await explainBag(bag, encoder, head, { ...params, smoothSigmaPx: 6 });
    expect(Array.from(smooth.images[0].attentionMap)).toEqual(Array.from(raw.images[0].attentionMap));
    const top = smooth.images[0].boxes[0];
    expect(top.x0 <= 100 && top.x1 > 100 && top.y0 <= 150 && top.y1 > 150).toBe(true);
    expect(smooth.images[0].boxes).not.toEqual(raw.images[0].boxes);
  });

  it("explainImage returns the asked view and rejects an unknown one", async () => {
    const bag = [view("a", { cx: 60, cy: 60, r: 12 }, 3)];
    const one = await explainImage("a", bag, encoder, head, { ...params, mapSizePx: 128 });
    expect(one.mapSizePx).toBe(128);
    expect(one.attentionMap.length).toBe(128 * 128);
    expect(one.boxes[0].x0 <= 60 && one.boxes[0].x1 > 60).toBe(true); // boxes back in working pixels
    await expect(explainImage("zz", bag, encoder, head, params)).rejects.toThrow(/zz/);
  });
});

describe("scoring a bag at several overlaps with one encoder pass", () => {
  it("gives each overlap the same tiles, attention and contribution as scoring it alone, embedding only the union", async () => {
    const bag = [view("a", { cx: 100, cy: 120, r: 12 }, 3), view("b", null, 4)];
    const tiling = { tileSizePx: S, tissueRule: "maskFraction" as const, minTissueFraction: 0, meanIntensityFactor: 0.05 };
    let tilesEmbedded = 0;
    const counting: TileEmbedder = { inputSizePx: S, embed: (b, c) => ((tilesEmbedded += c), meanEncoder(S, b, c)) };
    const both = await scoreBagTilesAt(bag, counting, head, { overlaps: [0.75, 0.875], tiling });
    const unionCount = tilesEmbedded - bag.length; // minus the global views
    for (const o of [0.75, 0.875]) {
      const alone = await scoreBagTiles(bag, counting, head, { overlap: o, tiling });
      const got = both.get(o)!;
      expect(got.tileCount).toBe(alone.tileCount);
      expect(got.probability).toBe(alone.probability);
      got.images.forEach((im, i) => {
        expect(im.tiles).toEqual(alone.images[i].tiles);
        expect(Array.from(im.attention)).toEqual(Array.from(alone.images[i].attention));
        expect(Array.from(im.contribution)).toEqual(Array.from(alone.images[i].contribution));
      });
    }
    // stride 4 divides stride 8: the union is the finer grid
    expect(unionCount).toBe(both.get(0.875)!.tileCount);
  });
});
