import { describe, expect, it } from "vitest";
import { enlargeBilinear16, enlargePlaced } from "../../lib/preprocess/bilinear";
import { resizeGrey16 } from "../../lib/preprocess/grey16";
import { preprocessPixels, workingToOriginal } from "../../lib/preprocess";
import { Rng } from "../../lib/util/rng";

/**
 * Reference written from the definition, per output pixel: the centre (x + 0.5, y + 0.5) of
 * output pixel (x, y) is the point (x + 0.5) * W / outW of the input, whose pixel i has its
 * centre at i + 0.5; the four nearest input pixels (edges replicated) weighted by the products
 * of the 1-D distances.
 */
function reference(px: Uint16Array, W: number, H: number, outW: number, outH: number): Float64Array {
  const out = new Float64Array(outW * outH);
  const at = (x: number, y: number): number => px[Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))];
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const cx = ((x + 0.5) * W) / outW - 0.5;
      const cy = ((y + 0.5) * H) / outH - 0.5;
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const ax = cx - x0;
      const ay = cy - y0;
      out[y * outW + x] =
        (1 - ax) * (1 - ay) * at(x0, y0) + ax * (1 - ay) * at(x0 + 1, y0) + (1 - ax) * ay * at(x0, y0 + 1) + ax * ay * at(x0 + 1, y0 + 1);
    }
  return out;
}

describe("enlargeBilinear16 (centre-aligned bilinear)", () => {
  it("matches the per-pixel definition on noise, for integer and non-integer ratios, whole and windowed", () => {
    const rng = new Rng(11);
    for (const [W, H, outW, outH] of [
      [10, 10, 13, 13],
      [37, 29, 50, 64],
      [64, 64, 128, 128],
      [101, 77, 257, 100],
      [9, 9, 9, 9],
    ]) {
      const px = Uint16Array.from({ length: W * H }, () => Math.floor(rng.uniform() * 65536));
      const ref = reference(px, W, H, outW, outH);
      const got = enlargeBilinear16(px, W, H, outW, outH);
      let off = 0;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - ref[i]);
        // rounded half up; the two orders of the same sums may differ at an exact .5
        expect(d).toBeLessThanOrEqual(0.5 + 1e-6);
        if (Math.round(ref[i]) !== got[i]) off++;
      }
      expect(off).toBeLessThanOrEqual(Math.ceil(got.length * 1e-3));
      // a window: its pixels are the whole image's, the rest is 0
      const win = { x0: 3, y0: 2, x1: outW - 4, y1: outH - 1 };
      const part = enlargeBilinear16(px, W, H, outW, outH, win);
      for (let y = 0; y < outH; y++)
        for (let x = 0; x < outW; x++) {
          const inside = x >= win.x0 && x < win.x1 && y >= win.y0 && y < win.y1;
          expect(part[y * outW + x]).toBe(inside ? got[y * outW + x] : 0);
        }
    }
  });

  it("reproduces a plane exactly away from the edges (the geometry is centre-aligned)", () => {
    // v = 300 x + 170 y + 1000 at pixel centres; an output pixel whose taps are all inside the
    // input must be the plane at its centre mapped back: 300 ((x + 0.5) W / outW - 0.5) + ...
    const W = 50;
    const H = 40;
    const outW = 173;
    const outH = 111;
    const px = Uint16Array.from({ length: W * H }, (_, i) => 300 * (i % W) + 170 * Math.floor(i / W) + 1000);
    const got = enlargeBilinear16(px, W, H, outW, outH);
    let checked = 0;
    for (let y = 0; y < outH; y++)
      for (let x = 0; x < outW; x++) {
        const cx = ((x + 0.5) * W) / outW - 0.5;
        const cy = ((y + 0.5) * H) / outH - 0.5;
        if (cx < 0 || cy < 0 || cx > W - 1 || cy > H - 1) continue;
        expect(Math.abs(got[y * outW + x] - (300 * cx + 170 * cy + 1000))).toBeLessThanOrEqual(0.5 + 1e-6);
        checked++;
      }
    expect(checked).toBeGreaterThan(0.9 * outW * outH);
  });

  it("is what resizeGrey16 does for a linear enlargement; shrinking and other kernels stay with sharp", async () => {
    const rng = new Rng(3);
    const px = Uint16Array.from({ length: 30 * 20 }, () => Math.floor(rng.uniform() * 65536));
    const viaResize = await resizeGrey16({ pixels: px, widthPx: 30, heightPx: 20 }, 47, 33, "linear");
    expect(Array.from(viaResize)).toEqual(Array.from(enlargeBilinear16(px, 30, 20, 47, 33)));
    const cubic = await resizeGrey16({ pixels: px, widthPx: 30, heightPx: 20 }, 47, 33, "cubic");
    expect(Array.from(cubic)).not.toEqual(Array.from(viaResize));
    expect(() => enlargeBilinear16(px, 30, 20, 29, 33)).toThrow("enlargeBilinear16: 30 x 20 -> 29 x 33 is not an enlargement");
  });

  it("keeps the working image on the recorded transform: a bright spot maps back to where it was", async () => {
    // A breast-like ellipse with a small bright Gaussian spot at a known original position.
    // The spot's intensity centroid in the working image, mapped back through the transform,
    // must land on the spot (a half-pixel shift of the enlargement would move it by ~0.4 px).
    const W = 300;
    const H = 380;
    const sx = 101.3;
    const sy = 187.6;
    const pixels = new Float32Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const e = ((x + 0.5) / 220) ** 2 + ((y + 0.5 - 190) / 160) ** 2;
        const spot = Math.exp(-(((x + 0.5 - sx) ** 2 + (y + 0.5 - sy) ** 2) / (2 * 1.5 ** 2)));
        pixels[y * W + x] = e < 1 ? 0.3 + 0.6 * spot : 0;
      }
    const r = await preprocessPixels({ pixels, widthPx: W, heightPx: H, laterality: "L" }, { workingSizePx: 512, globalSizePx: 64 });
    expect(r.transform.squareSizePx).toBeLessThan(512);
    const N = r.workingSizePx;
    const c = { xPx: (sx * r.transform.scale) | 0, yPx: ((sy - r.transform.crop.y0 + r.transform.padYPx) * r.transform.scale) | 0 };
    let sw = 0;
    let mx = 0;
    let my = 0;
    let base = 65535; // the plateau around the spot
    for (let y = c.yPx - 12; y <= c.yPx + 12; y++) for (let x = c.xPx - 12; x <= c.xPx + 12; x++) base = Math.min(base, r.working[y * N + x]);
    for (let y = c.yPx - 12; y <= c.yPx + 12; y++)
      for (let x = c.xPx - 12; x <= c.xPx + 12; x++) {
        const w = Math.max(0, r.working[y * N + x] - base);
        sw += w;
        mx += w * (x + 0.5);
        my += w * (y + 0.5);
      }
    const back = workingToOriginal({ xPx: mx / sw, yPx: my / sw }, r.transform);
    expect(Math.abs(back.xPx - sx)).toBeLessThan(0.05);
    expect(Math.abs(back.yPx - sy)).toBeLessThan(0.05);
  });

  it("enlargePlaced reads a flipped, padded crop of a larger image as the square built from it would be", () => {
    const rng = new Rng(5);
    const SW = 70;
    const SH = 50;
    const src = Uint16Array.from({ length: SW * SH }, () => 1001 + Math.floor(rng.uniform() * 59000)); // above the offset below, as in a crop (offset = its min)
    for (const [S, N, x0, y0, cw, ch, padY, flipped] of [
      [45, 100, 5, 3, 40, 45, 0, false],
      [45, 131, 60, 2, 31, 29, 8, true],
      [44, 64, 69, 0, 44, 20, 12, true],
    ] as const) {
      // the square built explicitly: breast on the left (padX 0), centred vertically
      const square = new Uint16Array(S * S);
      for (let r = 0; r < ch; r++) for (let c = 0; c < cw; c++) square[(r + padY) * S + c] = src[(y0 + r) * SW + (flipped ? x0 - c : x0 + c)];
      const whole = enlargeBilinear16(square, S, S, N, N);
      const region = { x0, y0, width: cw, height: ch, padX: 0, padY, flipped };
      const placed = enlargePlaced({ source: src, sourceWidthPx: SW, widthPx: S, heightPx: S, region, offset: 0, gain: 1 }, N, N);
      expect(Array.from(placed)).toEqual(Array.from(whole));
      // a window around the crop (margin beyond the taps' reach) holds every non-zero pixel
      const scale = N / S;
      const m = Math.ceil(2 * scale) + 2;
      const win = { x0: -m, y0: padY * scale - m, x1: cw * scale + m, y1: (padY + ch) * scale + m };
      const part = enlargePlaced({ source: src, sourceWidthPx: SW, widthPx: S, heightPx: S, region, offset: 0, gain: 1 }, N, N, win);
      expect(Array.from(part)).toEqual(Array.from(whole));
      // scaling: (value - offset) x gain per tap, padding stays 0; within rounding of scaling the square first
      const offset = 1000;
      const gain = 65535 / 60000;
      const scaledSquare = square.map((v, i) => (square[i] === 0 ? 0 : Math.min(65535, Math.round((v - offset) * gain))));
      const ref = enlargeBilinear16(scaledSquare, S, S, N, N);
      const got = enlargePlaced({ source: src, sourceWidthPx: SW, widthPx: S, heightPx: S, region, offset, gain }, N, N);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(1);
    }
  });
});
