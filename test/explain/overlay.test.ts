import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { DIVERGING_LUT, JET_LUT, jet } from "../../lib/explain/colormap";
import { renderOverlay, tileGallery } from "../../lib/explain/overlay";

describe("jet colour map", () => {
  it("runs blue -> green -> red", () => {
    expect(jet(0)).toEqual([0, 0, 128]); // b = 1.5 - 1 = 0.5
    // 0.5 -> LUT index 128, v = 128/255: r = 1.5 - |4v - 3| = 0.50784 -> 129.5 -> 130,
    // g = 1.5 - |4v - 2| > 1 -> 255, b = 1.5 - |4v - 1| = 0.49216 -> 125.5 -> 126
    expect(jet(0.5)).toEqual([130, 255, 126]);
    expect(jet(1)).toEqual([128, 0, 0]);
    expect(JET_LUT.length).toBe(768);
  });
});

describe("diverging colour map", () => {
  it("is blue at 0, near-white in the middle, red at 1", () => {
    const at = (i: number): number[] => Array.from(DIVERGING_LUT.subarray(i * 3, i * 3 + 3));
    expect(at(0)).toEqual([33, 102, 172]);
    expect(at(255)).toEqual([178, 24, 43]);
    // index 127/128 straddle 0.5 = (247, 247, 247)
    for (const c of [...at(127), ...at(128)]) expect(Math.abs(c - 247)).toBeLessThanOrEqual(2);
  });
});

describe("overlay and gallery PNGs", () => {
  const W = 40;
  const H = 30;
  const pixels = new Float32Array(W * H).fill(0.5);

  it("blends the heat map at the set opacity and draws the boxes", async () => {
    const heat = new Float32Array(W * H);
    heat[5 * W + 5] = 1; // one hot pixel: jet(1) = (128, 0, 0)
    const png = await renderOverlay(
      { widthPx: W, heightPx: H, pixels },
      { heat, opacity: 0.5, groundTruth: [{ x0: 20, y0: 10, x1: 35, y1: 25 }], predictions: [], lineWidthPx: 1 },
    );
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([W, H]);
    const bytes = new Uint8Array(data);
    const px = (x: number, y: number): number[] => Array.from(bytes.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    // grey 0.5 -> 127.5; blend 0.5 * 127.5 + 0.5 * (128, 0, 0) = (127.75, 63.75, 63.75)
    const hot = px(5, 5);
    expect(Math.abs(hot[0] - 128)).toBeLessThanOrEqual(1);
    expect(Math.abs(hot[1] - 64)).toBeLessThanOrEqual(1);
    expect(px(2, 2)).toEqual([128, 128, 128]);
    // the green ground-truth edge at y = 10 between x 20..35
    const edge = px(27, 10);
    expect(edge[1]).toBeGreaterThan(edge[0] + 50);
  });

  it("draws zero heat where the mask says so (jet(0) = dark blue)", async () => {
    const heat = new Float32Array(W * H); // all zero
    const heatMask = new Uint8Array(W * H);
    heatMask[3 * W + 3] = 1;
    const png = await renderOverlay({ widthPx: W, heightPx: H, pixels }, { heat, heatMask, opacity: 0.5 });
    const bytes = new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer());
    const at = (x: number, y: number): number[] => Array.from(bytes.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    // 0.5 * 127.5 + 0.5 * (0, 0, 128) = (63.75, 63.75, 127.75)
    expect(at(3, 3)).toEqual([64, 64, 128]);
    expect(at(4, 3)).toEqual([128, 128, 128]); // outside the mask: grey only
  });

  it("puts the top-k tiles in a grid, best first", async () => {
    const img = new Float32Array(W * H);
    for (let i = 0; i < img.length; i++) img[i] = (i % W) / W; // brightness grows with x
    const tiles = [0, 10, 20, 30].map((x) => ({ xPx: x, yPx: 0, sizePx: 10 }));
    const { png, shown } = await tileGallery({ widthPx: W, heightPx: H, pixels: img }, tiles, [0.1, 0.4, 0.3, 0.2], { topK: 3, columns: 2, cellPx: 10 });
    expect(shown.map((s) => s.tile.xPx)).toEqual([10, 20, 30]);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([2 * 18, 2 * 18]); // cells of 10 + 2 x 4 border
  });

  it("adds a title band and a colour bar whose ends are the colour map's ends", async () => {
    const heat = new Float32Array(W * H).fill(0.5);
    const plain = await renderOverlay({ widthPx: W, heightPx: H, pixels }, { heat, outWidthPx: 200 });
    const framed = await renderOverlay(
      { widthPx: W, heightPx: H, pixels },
      { heat, outWidthPx: 200, colormap: "diverging", title: "case X\nlabel 1", colourBar: { min: -2, max: 2, label: "contribution" } },
    );
    const a = await sharp(plain).metadata();
    const b = await sharp(framed).metadata();
    expect(b.width).toBe((a.width ?? 0) + 96);
    expect(b.height).toBe((a.height ?? 0) + 8 + 2 * 16);
    const { data, info } = await sharp(framed).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number): number[] => Array.from(new Uint8Array(data).subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    // colour bar: x = 200 + 10 .. +16, from y = 40 + 10 (top = 1 = red) to the bottom (0 = blue)
    const top = px(218, 40 + 12);
    const bottom = px(218, 40 + 150 - 12);
    expect(top[0]).toBeGreaterThan(top[2] + 60); // red end
    expect(bottom[2]).toBeGreaterThan(bottom[0] + 60); // blue end
    // the diverging map's middle (heat 0.5) is near-white, blended at 0.45 over grey 127.5
    const mid = px(100, 40 + 70);
    expect(Math.abs(mid[0] - mid[2])).toBeLessThanOrEqual(3);
  });
});
