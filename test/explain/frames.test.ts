import { describe, expect, it } from "vitest";
import { heatmapToOriginal, originalBoxToWorking, workingBoxToOriginal } from "../../lib/explain/frames";
import { makeTransform } from "../../lib/preprocess/transform";
import { labelComponents } from "../../lib/preprocess/morphology";

// original 300 x 200, mirrored, breast crop x in [40, 240), y in [20, 180) -> square of 200 px
// (pad 20 px top), working 64 px (scale 0.32)
const t = makeTransform({ originalWidthPx: 300, originalHeightPx: 200, flipped: true, crop: { x0: 40, y0: 20, x1: 240, y1: 180 }, workingSizePx: 64 });

describe("working <-> original frames", () => {
  it("round-trips boxes within 1 px (both directions, with a flip)", () => {
    const b = { x0: 12.5, y0: 7, x1: 30, y1: 40, kind: "mass", birads: 4 };
    const back = originalBoxToWorking(workingBoxToOriginal(b, t), t);
    for (const k of ["x0", "y0", "x1", "y1"] as const) expect(Math.abs(back[k] - b[k])).toBeLessThan(1e-9);
    expect(back.kind).toBe("mass");
    const o = { x0: 100, y0: 50, x1: 150, y1: 90 };
    const o2 = workingBoxToOriginal(originalBoxToWorking(o, t), t);
    for (const k of ["x0", "y0", "x1", "y1"] as const) expect(Math.abs(o2[k] - o[k])).toBeLessThan(1e-9);
  });

  it("maps a box by hand: flip, crop, pad, scale", () => {
    // working [0, 3.2) x [6.4, 9.6) -> square [0,10) x [20,30) -> flipped [40,50) x [20,30)
    // -> original x = 300 - f: [250, 260)
    const o = workingBoxToOriginal({ x0: 0, y0: 6.4, x1: 3.2, y1: 9.6 }, t);
    expect(o.x0).toBeCloseTo(250, 9);
    expect(o.x1).toBeCloseTo(260, 9);
    expect(o.y0).toBeCloseTo(20, 9);
    expect(o.y1).toBeCloseTo(30, 9);
  });

  it("puts a hot block of the working map where its mapped box says, within 1 px", () => {
    const m = 64;
    const map = new Float32Array(m * m);
    const hot = { x0: 20, y0: 10, x1: 30, y1: 18 };
    for (let y = hot.y0; y < hot.y1; y++) for (let x = hot.x0; x < hot.x1; x++) map[y * m + x] = 1;
    const o = heatmapToOriginal(map, t, { fill: -1 });
    expect([o.widthPx, o.heightPx]).toEqual([300, 200]);
    const hotOriginal = Array.from(o.values, (v) => (v === 1 ? 1 : 0));
    const { components } = labelComponents(hotOriginal, 300, 200);
    expect(components).toHaveLength(1);
    const want = workingBoxToOriginal(hot, t);
    const got = components[0];
    for (const k of ["x0", "y0", "x1", "y1"] as const) expect(Math.abs(got[k] - want[k])).toBeLessThanOrEqual(1);
    // outside the crop: fill
    expect(o.values[0]).toBe(-1); // x = 0 -> flipped 300, outside [40, 240)
    expect(o.values[100 * 300 + 150]).toBe(0); // inside the breast, cold
  });
});
