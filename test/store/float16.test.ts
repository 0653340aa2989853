import { describe, expect, it } from "vitest";
import { float16ArrayToFloat32, float16BitsToFloat32, float32ArrayToFloat16, float32ToFloat16Bits } from "../../lib/store/float16";
import { Rng } from "../../lib/util/rng";

describe("float16 conversion", () => {
  it("encodes hand-picked values with round-to-nearest-even", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [1 / 3, 0x3555], // 0.333251953125
      [65504, 0x7bff], // largest finite half
      [65519, 0x7bff], // below the halfway point to 65536
      [65520, 0x7c00], // exact tie between 65504 and 2^16 -> even (Infinity)
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie between 0 and 2^-24 -> even (0)
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units -> even (2)
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // tie -> even mantissa 0
      [1 + 3 * 2 ** -11, 0x3c02], // tie between mantissa 1 and 2 -> 2
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [-(2 ** -26), 0x8000], // underflows to negative zero
    ];
    for (const [v, bits] of cases) expect([v, float32ToFloat16Bits(v)]).toEqual([v, bits]);
    const nan = float32ToFloat16Bits(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
  });

  it("decodes exactly", () => {
    expect(float16BitsToFloat32(0x3555)).toBe(0.333251953125);
    expect(float16BitsToFloat32(0x7bff)).toBe(65504);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(float16BitsToFloat32(0x7e00))).toBe(true);
  });

  it("every finite half round-trips bit-exactly", () => {
    for (let h = 0; h < 65536; h++) {
      const e = (h >>> 10) & 0x1f;
      if (e === 31) continue;
      const back = float32ToFloat16Bits(float16BitsToFloat32(h));
      if (back !== h) throw new Error(`half 0x${h.toString(16)} -> 0x${back.toString(16)}`);
    }
  });

  it("matches a brute-force nearest-even search on random values", () => {
    // Independent reference: all non-negative finite halves sorted by value; pick the nearest,
    // ties to the even bit pattern.
    const values: number[] = [];
    for (let h = 0; h < 0x7c00; h++) values.push(float16BitsToFloat32(h));
    const rng = new Rng(7);
    const src = new Float32Array(3000);
    for (let i = 0; i < src.length; i++) src[i] = (rng.uniform() < 0.5 ? -1 : 1) * Math.exp(rng.range(-20, 11));
    const got = float32ArrayToFloat16(src);
    for (let i = 0; i < src.length; i++) {
      const a = Math.abs(src[i]);
      let lo = 0;
      let hi = values.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid] <= a) lo = mid;
        else hi = mid;
      }
      let best: number;
      if (a >= values[values.length - 1]) best = a - 65504 < 65520 - a ? 0x7bff : 0x7c00;
      else {
        const dLo = a - values[lo];
        const dHi = values[hi] - a;
        best = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
      }
      const expected = best | (src[i] < 0 ? 0x8000 : 0);
      if (got[i] !== expected) throw new Error(`${src[i]}: got 0x${got[i].toString(16)}, expected 0x${expected.toString(16)}`);
    }
    const back = float16ArrayToFloat32(got);
    for (let i = 0; i < src.length; i++) {
      if (Math.abs(src[i]) >= 2 ** -14 && Math.abs(src[i]) < 65504) {
        expect(Math.abs(back[i] - src[i])).toBeLessThanOrEqual(Math.abs(src[i]) * 2 ** -11);
      }
    }
  });
  it("decodes all 65536 half values bit-exactly against an independent bit-level reference", () => {
    // Reference: build the float32 bit pattern field by field (rebias the exponent, normalise
    // subnormals by hand), independent of the table's arithmetic construction.
    const refBits = (h: number): number | null => {
      const sign = (h & 0x8000) << 16;
      const e = (h >>> 10) & 0x1f;
      const m = h & 0x3ff;
      if (e === 31) return m === 0 ? (sign | 0x7f800000) | 0 : null; // null: any NaN
      if (e === 0) {
        if (m === 0) return sign | 0;
        let k = 9;
        while (!(m & (1 << k))) k--;
        return (sign | ((k + 103) << 23) | ((m - (1 << k)) << (23 - k))) | 0;
      }
      return (sign | ((e + 112) << 23) | (m << 13)) | 0;
    };
    const all = new Uint16Array(65536).map((_, i) => i);
    // decode into an offset view of a larger buffer, so the Int32 view's byteOffset is exercised
    const backing = new Float32Array(65536 + 3);
    const out = float16ArrayToFloat32(all, backing.subarray(3));
    const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
    expect(backing[0]).toBe(0);
    for (let h = 0; h < 65536; h++) {
      const want = refBits(h);
      if (want === null) {
        if (!Number.isNaN(out[h])) throw new Error(`half 0x${h.toString(16)}: expected NaN, got ${out[h]}`);
      } else if (bits[h] !== want) {
        throw new Error(`half 0x${h.toString(16)}: bits 0x${(bits[h] >>> 0).toString(16)}, expected 0x${(want >>> 0).toString(16)}`);
      }
      if (want !== null && float16BitsToFloat32(h) !== out[h] && !Object.is(float16BitsToFloat32(h), out[h])) throw new Error(`scalar/array decode differ at 0x${h.toString(16)}`);
    }
    expect(() => float16ArrayToFloat32(all, new Float32Array(5))).toThrow(/length mismatch/);
  });
});
