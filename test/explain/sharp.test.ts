import { describe, expect, it } from "vitest";
import { boxesFromHeatmap, iou } from "../../lib/explain/boxes";
import { attentionHeatmap, attentionHeatmapWithCoverage, type TileRect } from "../../lib/explain/heatmap";
import { growToSide, momentBox, peakRegions, PROTOCOL_LIKE, redistributedMap, SHARP_DEFAULTS, sharpBoxes } from "../../lib/explain/sharp";
import { distinctTopTiles } from "../../lib/explain/runExplain";

/** Tiles of side t at stride s over an n x n image (the 75 % overlap grid when s = t / 4). */
function grid(n: number, t: number, s: number): TileRect[] {
  const out: TileRect[] = [];
  for (let y = 0; y + t <= n; y += s) for (let x = 0; x + t <= n; x += s) out.push({ xPx: x, yPx: y, sizePx: t });
  return out;
}

/** Attention of a tile: a flat baseline plus the fraction of the lesion the tile contains, normalised to sum 1 (a softmax-like bag). */
function lesionAttention(tiles: TileRect[], les: { x0: number; y0: number; x1: number; y1: number }, baseline: number): Float32Array {
  const area = (les.x1 - les.x0) * (les.y1 - les.y0);
  const a = tiles.map((t) => {
    const w = Math.max(0, Math.min(t.xPx + t.sizePx, les.x1) - Math.max(t.xPx, les.x0));
    const h = Math.max(0, Math.min(t.yPx + t.sizePx, les.y1) - Math.max(t.yPx, les.y0));
    return baseline + (w * h) / area;
  });
  const s = a.reduce((p, q) => p + q, 0);
  return Float32Array.from(a, (v) => v / s);
}

describe("sharp boxes of a single synthetic lesion", () => {
  // 1024 px working frame, 128 px tiles (the synthetic pipeline's sizes), a 48 x 60 px lesion;
  // the protocol's tiles at 75 % overlap (stride 32), the sharp default's at 87.5 % (stride 16)
  const n = 1024;
  const tiles = grid(n, 128, 32);
  const lesion = { x0: 420, y0: 500, x1: 468, y1: 560 };
  const attention = lesionAttention(tiles, lesion, 0.05);

  it("has IoU >= 0.5 with the truth (the protocol's box, the blob of all tiles around it, does not)", () => {
    expect(SHARP_DEFAULTS.overlap).toBe(0.875);
    const fine = grid(n, 128, 16);
    // attention linear in the lesion share of a tile: the grid entry 30 EM steps, half of each peak, sqrt(3) sigma
    const linearEntry = { ...SHARP_DEFAULTS, iterations: 30, peakFraction: 0.5, momentK: Math.sqrt(3), scoreBy: "mass" as const };
    const { boxes } = sharpBoxes(n, fine, lesionAttention(fine, lesion, 0.05), linearEntry, 0.9);
    expect(boxes.length).toBeGreaterThan(0);
    expect(iou(boxes[0], lesion)).toBeGreaterThanOrEqual(0.5);
    // attention that saturates (a softmax over scores that stop growing once a tile holds half the
    // lesion, as the trained heads' do): the defaults (60 EM steps, 2.5 sigma, chosen on the paper preset)
    const big = { x0: 400, y0: 480, x1: 464, y1: 544 };
    const raw = fine.map((t) => {
      const w = Math.max(0, Math.min(t.xPx + t.sizePx, big.x1) - Math.max(t.xPx, big.x0));
      const h = Math.max(0, Math.min(t.yPx + t.sizePx, big.y1) - Math.max(t.yPx, big.y0));
      return Math.exp(6 * Math.min(1, (2 * w * h) / (64 * 64)));
    });
    const z = raw.reduce((p, q) => p + q, 0);
    const sat = sharpBoxes(n, fine, Float32Array.from(raw, (v) => v / z), SHARP_DEFAULTS, 0.9).boxes;
    expect(iou(sat[0], big)).toBeGreaterThanOrEqual(0.5);
    // ... where the linear entry collapses onto the lesion's centre
    expect(iou(sharpBoxes(n, fine, Float32Array.from(raw, (v) => v / z), linearEntry, 0.9).boxes[0], big)).toBeLessThan(0.5);
    // the protocol on the same attention
    const m = attentionHeatmapWithCoverage(n, tiles, attention);
    const prot = boxesFromHeatmap(m.values, n, { quantile: 0.95, minAreaPx: 64, mask: m.coverage });
    expect(iou(prot[0], lesion)).toBeLessThan(0.5);
  });

  it("reproduces the protocol's boxes with every option off at full resolution", () => {
    const m = attentionHeatmapWithCoverage(n, tiles, attention);
    const prot = boxesFromHeatmap(m.values, n, { quantile: 0.95, minAreaPx: 64, mask: m.coverage });
    const { boxes } = sharpBoxes(n, tiles, attention, PROTOCOL_LIKE);
    expect(boxes.map(({ x0, y0, x1, y1 }) => [x0, y0, x1, y1])).toEqual(prot.map(({ x0, y0, x1, y1 }) => [x0, y0, x1, y1]));
  });
});

describe("per-tile normalisation (EM / Richardson-Lucy)", () => {
  const tiles = grid(64, 16, 4);
  const les = { x0: 30, y0: 20, x1: 36, y1: 26 };
  const a = lesionAttention(tiles, les, 0.01);

  it("is the plain overlap mean after one step", () => {
    const r = redistributedMap(64, tiles, a, { outSizePx: 64, iterations: 1 });
    expect(Array.from(r.values)).toEqual(Array.from(attentionHeatmap(64, tiles, a)));
  });

  it("moves each tile's attention so that the tiles' means approach their values, and concentrates it on the lesion", () => {
    const meanErr = (s: Float32Array): number => {
      let e = 0;
      tiles.forEach((t, i) => {
        let m = 0;
        for (let y = t.yPx; y < t.yPx + t.sizePx; y++) for (let x = t.xPx; x < t.xPx + t.sizePx; x++) m += s[y * 64 + x];
        e += Math.abs(m / (t.sizePx * t.sizePx) - a[i]);
      });
      return e;
    };
    const inside = (s: Float32Array): number => {
      let i = 0;
      let all = 0;
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
        all += s[y * 64 + x];
        if (x >= les.x0 && x < les.x1 && y >= les.y0 && y < les.y1) i += s[y * 64 + x];
      }
      return i / all;
    };
    const one = redistributedMap(64, tiles, a, { outSizePx: 64, iterations: 1 }).values;
    const many = redistributedMap(64, tiles, a, { outSizePx: 64, iterations: 30 }).values;
    expect(meanErr(many)).toBeLessThan(meanErr(one) / 2);
    expect(inside(many)).toBeGreaterThan(2 * inside(one));
  });

  it("refuses negative values and bad iteration counts", () => {
    expect(() => redistributedMap(64, tiles.slice(0, 1), [-1], { outSizePx: 64, iterations: 2 })).toThrow(/tile value 0 is -1/);
    expect(() => redistributedMap(64, tiles, a, { outSizePx: 64, iterations: 0 })).toThrow(/iterations must be an integer >= 1/);
  });
});

describe("peak-relative regions and moment boxes", () => {
  it("grows one region per maximum down to a fraction of its own height; a shoulder plateau is no maximum", () => {
    // 1-row-thick profile in a 8 x 8 map: peak 10 at x=1, shoulder plateau 6,6 at x=2..3, second peak 4 at x=6
    const n = 8;
    const map = new Float32Array(n * n);
    const row = [2, 10, 6, 6, 1, 1, 4, 1];
    for (let x = 0; x < n; x++) map[3 * n + x] = row[x];
    const mask = new Uint8Array(n * n).fill(1);
    const regions = peakRegions(map, n, mask, 0.5, 0);
    expect(regions.map((r) => r.peak)).toEqual([10, 4]);
    // peak 10: level 5 -> x = 1, 2, 3; peak 4: level 2 -> x = 6 (x=5, 7 are 1)
    expect(regions[0].pixels.map((p) => p % n).sort()).toEqual([1, 2, 3]);
    expect(regions[1].pixels.map((p) => p % n)).toEqual([6]);
  });

  it("gives back a uniform rectangle with k = sqrt(3)", () => {
    const n = 32;
    const px: number[] = [];
    for (let y = 5; y < 15; y++) for (let x = 8; x < 28; x++) px.push(y * n + x);
    const b = momentBox(px, px.map(() => 1), n, Math.sqrt(3));
    expect(b.x0).toBeCloseTo(8, 9);
    expect(b.x1).toBeCloseTo(28, 9);
    expect(b.y0).toBeCloseTo(5, 9);
    expect(b.y1).toBeCloseTo(15, 9);
  });
});

describe("top-tile gallery", () => {
  it("skips tiles overlapping one already shown in the same view", () => {
    const t = (x: number, y: number): TileRect => ({ xPx: x, yPx: y, sizePx: 10 });
    const sorted = [
      { view: 0, t: t(0, 0) },
      { view: 0, t: t(5, 0) }, // overlaps the first
      { view: 1, t: t(5, 0) }, // other view: kept
      { view: 0, t: t(10, 0) }, // touches, does not overlap: kept
      { view: 0, t: t(30, 30) },
    ];
    expect(distinctTopTiles(sorted, 3)).toEqual([sorted[0], sorted[2], sorted[3]]);
  });
});

describe("minimum box side (the size prior)", () => {
  it("grows a box about its centre to the side, clipped to the image, and leaves larger boxes alone", () => {
    expect(growToSide({ x0: 40, y0: 10, x1: 50, y1: 90 }, 30, 100)).toEqual({ x0: 30, y0: 10, x1: 60, y1: 90 });
    expect(growToSide({ x0: 0, y0: 95, x1: 4, y1: 99 }, 20, 100)).toEqual({ x0: 0, y0: 87, x1: 12, y1: 100 });
    const big = { x0: 5, y0: 5, x1: 60, y1: 70 };
    expect(growToSide(big, 30, 100)).toEqual(big);
  });

  it("is scaled from 4096 px: a lesion whose attention saturates gets a box near its size instead of its centre", () => {
    // attention of a saturating head: a tile holding at least half of the 72 x 72 px lesion is as hot as one holding all of it
    const n = 1024;
    const fine = grid(n, 128, 16);
    const lesion = { x0: 400, y0: 480, x1: 472, y1: 552 };
    const area = 72 * 72;
    const raw = fine.map((t) => {
      const w = Math.max(0, Math.min(t.xPx + t.sizePx, lesion.x1) - Math.max(t.xPx, lesion.x0));
      const h = Math.max(0, Math.min(t.yPx + t.sizePx, lesion.y1) - Math.max(t.yPx, lesion.y0));
      return Math.exp(6 * Math.min(1, (2 * w * h) / area));
    });
    const sum = raw.reduce((a, b) => a + b, 0);
    const a = Float32Array.from(raw, (v) => v / sum);
    const collapsing = { ...SHARP_DEFAULTS, iterations: 30, peakFraction: 0.5, momentK: Math.sqrt(3) };
    const plain = sharpBoxes(n, fine, a, collapsing, 1).boxes[0];
    const sized = sharpBoxes(n, fine, a, { ...collapsing, minSideProtocolPx: 256 }, 1).boxes[0];
    expect(iou(plain, lesion)).toBeLessThan(0.25); // collapsed onto the centre
    expect(sized.x1 - sized.x0).toBeGreaterThanOrEqual(64); // 256 px at 4096 = 64 px at 1024
    expect(iou(sized, lesion)).toBeGreaterThanOrEqual(0.5);
  });
});
