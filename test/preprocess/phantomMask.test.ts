import { describe, expect, it } from "vitest";
import { renderBreast, sampleBreastShape, type Density, type ViewPosition } from "../../lib/data";
import { maskIoU, preprocessPixels, workingToOriginal } from "../../lib/preprocess";
import { Rng } from "../../lib/util/rng";

/**
 * Mask vs the synthetic generator's ground-truth silhouette (lib/data phantom), every density
 * class, both views, both chest-wall sides. The silhouette is resampled into the working frame
 * through the stored transform, so a wrong crop/flip/scale also fails here.
 */
describe("breast mask vs lib/data phantom silhouette", () => {
  const W = 416;
  const H = 512;
  const cases: { density: Density; view: ViewPosition; side: "left" | "right" }[] = [];
  for (const density of ["A", "B", "C", "D"] as const)
    for (const view of ["CC", "MLO"] as const) cases.push({ density, view, side: cases.length % 3 === 0 ? "right" : "left" });
  it.each(cases)("IoU > 0.95: density $density, $view, chest wall $side", async ({ density, view, side }) => {
    const rng = Rng.derive(5, density, view);
    const shape = sampleBreastShape(rng);
    const r = renderBreast({ widthPx: W, heightPx: H, view, chestWallSide: side, density, shape, lesions: [], bitsStored: 12 }, rng);
    const pixels = new Float32Array(r.pixels.length);
    for (let i = 0; i < pixels.length; i++) pixels[i] = r.pixels[i] / 4095;
    const laterality = side === "right" ? "R" : "L";
    const p = await preprocessPixels({ pixels, widthPx: W, heightPx: H, laterality }, { workingSizePx: 256, globalSizePx: 64 });
    expect(p.transform.flipped).toBe(side === "right");
    const N = p.workingSizePx;
    const truth = new Uint8Array(N * N);
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        const o = workingToOriginal({ xPx: x + 0.5, yPx: y + 0.5 }, p.transform);
        const xo = Math.floor(o.xPx);
        const yo = Math.floor(o.yPx);
        if (xo >= 0 && yo >= 0 && xo < W && yo < H) truth[y * N + x] = r.breastMask[yo * W + xo];
      }
    const iou = maskIoU(p.mask, truth);
    if (process.env.MILPF_PRINT_IOU) console.log(`IoU ${density} ${view} ${side}: ${iou.toFixed(4)}`);
    expect(iou).toBeGreaterThan(0.95);
  });
});
