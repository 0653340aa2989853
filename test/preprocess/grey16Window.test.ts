import { describe, expect, it } from "vitest";
import { decodeMaskPng, encodeMaskPng, resizeGrey16, resizeGrey16Window } from "../../lib/preprocess/grey16";
import { Rng } from "../../lib/util/rng";

describe("resizeGrey16Window", () => {
  it("equals the whole resize when the input is zero outside a rectangle (enlarging, linear)", async () => {
    const rng = new Rng(5);
    for (const [S, N, x0, y0, w, h] of [
      [90, 200, 0, 0, 60, 90],
      [90, 200, 0, 17, 90, 50],
      [101, 257, 0, 30, 73, 41],
    ]) {
      const px = new Uint16Array(S * S);
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) px[y * S + x] = 1 + Math.floor(rng.uniform() * 65534);
      const scale = N / S;
      const margin = Math.ceil(2 * scale) + 2;
      const win = { x0: x0 * scale - margin, y0: y0 * scale - margin, x1: (x0 + w) * scale + margin, y1: (y0 + h) * scale + margin };
      const whole = await resizeGrey16({ pixels: px, widthPx: S, heightPx: S }, N, N);
      const part = await resizeGrey16Window({ pixels: px, widthPx: S, heightPx: S }, N, N, win);
      expect(Buffer.from(part.buffer, part.byteOffset, part.byteLength).equals(Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength))).toBe(true);
    }
  });

  it("a window covering everything is the whole resize; an empty one is all zero", async () => {
    const px = Uint16Array.from({ length: 40 * 40 }, (_, i) => (i * 37) % 65536);
    const whole = await resizeGrey16({ pixels: px, widthPx: 40, heightPx: 40 }, 64, 64);
    expect(Array.from(await resizeGrey16Window({ pixels: px, widthPx: 40, heightPx: 40 }, 64, 64, { x0: -5, y0: -5, x1: 70, y1: 70 }))).toEqual(Array.from(whole));
    expect((await resizeGrey16Window({ pixels: px, widthPx: 40, heightPx: 40 }, 64, 64, { x0: 10, y0: 10, x1: 10, y1: 30 })).every((v) => v === 0)).toBe(true);
  });
});

describe("encodeMaskPng", () => {
  it("round trip of a 0/1 mask of odd length, and any non-zero value as inside", async () => {
    const W = 37;
    const H = 23;
    const mask = Uint8Array.from({ length: W * H }, (_, i) => (i % 7 === 0 ? 0 : i % 5 === 0 ? 3 : i % 3 === 0 ? 1 : 0));
    const back = await decodeMaskPng(await encodeMaskPng(mask, W, H));
    expect(back.widthPx).toBe(W);
    expect(Array.from(back.mask)).toEqual(Array.from(mask, (v) => (v ? 1 : 0)));
    // a mask that starts at an odd byte offset (the word path does not apply)
    const big = new Uint8Array(W * H + 1);
    big.set(mask, 1);
    const view = big.subarray(1);
    expect(Array.from((await decodeMaskPng(await encodeMaskPng(view, W, H))).mask)).toEqual(Array.from(mask, (v) => (v ? 1 : 0)));
  });
});
