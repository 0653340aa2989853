import { describe, expect, it } from "vitest";
import { preprocessPixels, type PresentationImage } from "../../lib/preprocess";
import { resizeGrey16 } from "../../lib/preprocess/grey16";
import { presetMaskParams } from "../../lib/preprocess/preprocess";
import { parseSplitFractions } from "../../lib/data/splits";

/**
 * A wide, short breast (a half-ellipse against the left edge) on a background of 0.1 with a
 * little texture: wide enough that the square has padding above/below, and a background the
 * crop's corners include, so each of the authors' steps changes something measurable.
 */
function wideBreast(): PresentationImage {
  const W = 320;
  const H = 240;
  const pixels = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const dx = x / 260;
      const dy = (y - 120) / 70;
      const inside = dx * dx + dy * dy < 1;
      pixels[y * W + x] = inside ? 0.5 + 0.3 * Math.sin(x / 9) * Math.cos(y / 7) : 0.1 + 0.02 * Math.sin((x + y) / 3);
    }
  return { pixels, widthPx: W, heightPx: H, laterality: "L", source: "wide-breast" };
}

describe("preprocessing presets: milpf (default) and authors (mil-pf-core)", () => {
  it("authors: top-left placement, min-max scaling, keep_only_breast zeroing, dilation size/10", async () => {
    const img = wideBreast();
    const opts = { workingSizePx: 128, globalSizePx: 32 };
    const ours = await preprocessPixels(img, opts);
    const authors = await preprocessPixels(img, { ...opts, preset: "authors" });
    const explicitMilpf = await preprocessPixels(img, { ...opts, preset: "milpf" });
    expect(Buffer.from(explicitMilpf.working.buffer)).toEqual(Buffer.from(ours.working.buffer)); // the default is "milpf"

    // placement: the crop is wider than tall; ours centres it vertically, the authors' sits at the top
    expect(ours.transform.padYPx).toBeGreaterThan(0);
    expect(authors.transform.padYPx).toBe(0);

    // mask: the authors' dilation (size/10) grows it
    expect(presetMaskParams("authors")).toMatchObject({ dilateFraction: 0.1, otsuClasses: 2 });
    const area = (m: Uint8Array): number => m.reduce((a, v) => a + v, 0);
    expect(area(authors.mask)).toBeGreaterThan(area(ours.mask));

    // keep_only_breast: outside the mask every working pixel is 0 (ours keeps the background)
    const outside = (r: typeof ours): number[] => Array.from(r.working).filter((_, i) => r.mask[i] === 0);
    expect(Math.max(...outside(authors))).toBe(0);
    const inCropOutsideMask = Array.from(ours.working).filter((v, i) => ours.mask[i] === 0 && v > 0);
    expect(inCropOutsideMask.length).toBeGreaterThan(0);

    // scaling: ours maps the crop's max to 65535 and keeps 0 as 0 (the background stays ~0.1/0.8 of it);
    // min-max maps the crop's min to 0, so the authors' darkest in-mask pixel is darker than ours
    const inMaskMin = (r: typeof ours): number => Math.min(...Array.from(r.working).filter((_, i) => r.mask[i] === 1));
    expect(Math.max(...Array.from(authors.working))).toBeGreaterThan(60000);
    expect(inMaskMin(authors)).toBeLessThan(inMaskMin(ours));
    // the global view is made from the zeroed working image
    const fromZeroed = await resizeGrey16({ pixels: authors.working, widthPx: 128, heightPx: 128 }, 32, 32, "linear");
    expect(Buffer.from(authors.global.buffer)).toEqual(Buffer.from(fromZeroed.buffer));
  });

  it("split shares by name: the paper's 70/10/20 and the authors' code's 70/15/15", () => {
    expect(parseSplitFractions("70/15/15")).toEqual({ train: 0.7, val: 0.15, test: 0.15 });
    expect(parseSplitFractions("70/10/20")).toEqual({ train: 0.7, val: 0.1, test: 0.2 });
    expect(() => parseSplitFractions("70/10/10")).toThrow('split fractions "70/10/10": expected train/val/test percentages summing to 100');
  });
});
