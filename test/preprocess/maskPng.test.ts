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
    // a width that is a multiple of 4 (rows go four bytes at a time), with words of 0s and 1s and
    // words holding other non-zero values
    const M = Uint8Array.from({ length: 8 * 5 }, (_, i) => (i < 12 ? i % 2 : i < 24 ? 0 : i % 9 === 0 ? 7 : 1));
    const back8 = await decodeMaskPng(await encodeMaskPng(M, 8, 5));
    expect([back8.widthPx, back8.heightPx]).toEqual([8, 5]);
    expect(Array.from(back8.mask)).toEqual(Array.from(M, (v) => (v ? 1 : 0)));
    await expect(encodeMaskPng(M, 8, 4)).rejects.toThrow(/40 values for a 8 x 4 mask/);
  });
});
