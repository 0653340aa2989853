import { describe, expect, it } from "vitest";
import { createKernel } from "../../lib/head/kernel";
import type { XChunk } from "../../lib/head/source";
import { float32ArrayToFloat16 } from "../../lib/store/float16";

// X (3 x 2), W (2 x 2), dH (3 x 2) with small integers: every product is exact in float16/float32.
const X = Float32Array.from([1, 2, 3, 4, 5, 6]);
const W = Float32Array.from([1, -1, 2, 0.5]);
const dH = Float32Array.from([1, 0, 0, 1, 2, -1]);
// by hand: X W = [[1+4, -1+1], [3+8, -3+2], [5+12, -5+3]]; X^T dH = [[1+0+10, 0+3-5], [2+0+12, 0+4-6]]
const XW = [5, 0, 11, -1, 17, -2];
const XtdH = [11, -2, 14, -2];

describe("X-pass kernels (the ort one built with lib/util/onnxGraph.ts)", () => {
  for (const dtype of ["float32", "float16"] as const) {
    const x: XChunk = { data: dtype === "float32" ? X : float32ArrayToFloat16(X), dtype, rows: 3, dim: 2 };
    for (const name of ["ort", "js"] as const) {
      it(`${name} ${dtype}: X W and X^T dH equal the hand-computed products`, async () => {
        const k = createKernel(name, { threads: 1 });
        expect(Array.from(await k.project(x, W, 2))).toEqual(XW);
        expect(Array.from(await k.gradient(x, dH, 2))).toEqual(XtdH);
      });
    }
  }
});
