import { describe, expect, it } from "vitest";
import { decodeMaskPng, encodeMaskPng } from "../../lib/preprocess/grey16";
import { Rng } from "../../lib/util/rng";

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
