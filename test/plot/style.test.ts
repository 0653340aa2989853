import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ABLATION_CONFIGS } from "../../lib/head/config";
import { jet } from "../../lib/explain/colormap";
import { CONFIG_COLOURS, PALETTE, colourBarWidth, configColour, withColourBar } from "../../lib/plot/style";

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

describe("lib/plot/style", () => {
  it("gives every ablation configuration its own palette colour", () => {
    const names = ABLATION_CONFIGS.map((c) => c.name);
    expect(names.length).toBe(9);
    const colours = names.map((n) => configColour(n));
    expect(new Set(colours).size).toBe(names.length);
    for (const c of colours) expect(PALETTE).toContain(c);
    expect(Object.keys(CONFIG_COLOURS).sort()).toEqual([...names].sort());
    // unknown names take the palette's extra colours, distinct from the nine and from each other
    const extra = [configColour("a", ["a", "b"]), configColour("b", ["a", "b"])];
    expect(new Set([...colours, ...extra]).size).toBe(11);
    // known names in `others` do not use up the extras: the Table 4 rows plus global-selfattn (an
    // extra config) is 10 distinct colours, the new one the first extra whatever its position
    const withExtra = [...names.slice(0, 4), "global-selfattn", ...names.slice(4)];
    const c10 = withExtra.map((n) => configColour(n, withExtra));
    expect(new Set(c10).size).toBe(10);
    expect(configColour("global-selfattn", withExtra)).toBe("#E69F00");
  });

  it("has palette colours that are pairwise distinguishable (RGB distance)", () => {
    expect(PALETTE.length).toBeGreaterThanOrEqual(9);
    for (let i = 0; i < PALETTE.length; i++)
      for (let j = i + 1; j < PALETTE.length; j++) {
        const [a, b] = [rgb(PALETTE[i]), rgb(PALETTE[j])];
        expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]), `${PALETTE[i]} vs ${PALETTE[j]}`).toBeGreaterThan(40);
      }
  });

  it("puts a colour bar beside a picture: the strip's colours run from the map's 0 (bottom) to 1 (top)", async () => {
    const png = await sharp({ create: { width: 50, height: 200, channels: 3, background: "#808080" } }).png().toBuffer();
    const out = await withColourBar(png, { colourMap: jet, title: "attention", gapPx: 6 });
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    expect(info.height).toBe(200);
    expect(info.width).toBe(50 + 6 + colourBarWidth({}));
    const px = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const x = 50 + 6 + 4 + 7; // middle of the strip
    const near = (a: number[], b: readonly number[] | number[]): boolean => a.every((v, k) => Math.abs(v - b[k]) <= 40);
    expect(near(px(x, 200 - 12), jet(0)), `bottom ${px(x, 200 - 12)}`).toBe(true);
    expect(near(px(x, 12), jet(1)), `top ${px(x, 12)}`).toBe(true);
    expect(near(px(x, 100), jet(0.5)), `middle ${px(x, 100)}`).toBe(true);
    // the picture itself is untouched
    expect(px(10, 10)).toEqual([128, 128, 128]);
  });
});
