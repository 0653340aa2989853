import { describe, expect, it } from "vitest";
import { writeEncoderInput, writeTileEncoderInput } from "../../lib/embed/input";

describe("encoder input (the one tile -> input preparation of embed and explain)", () => {
  // 6 x 6 working image, pixel value = 1000 * (y * 6 + x)
  const W = 6;
  const working = Uint16Array.from({ length: W * W }, (_, i) => 1000 * i);

  it("a tile at the encoder size is cut and scaled to [0, 1]; outside the image reads 0", async () => {
    const out = new Float32Array(1 + 3 * 3).fill(-1);
    await writeTileEncoderInput(working, W, { xPx: 4, yPx: 1, sizePx: 3 }, { inputSizePx: 3 }, out, 1);
    // rows 1..3, columns 4, 5 and (outside) 6
    const want = [10, 11, -1, 16, 17, -1, 22, 23, -1].map((k) => (k < 0 ? 0 : (1000 * k) / 65535));
    expect(out[0]).toBe(-1);
    expect(Array.from(out.subarray(1))).toEqual(want.map((v) => Math.fround(v)));
  });

  it("another size is resized to the input side (a constant image stays constant)", async () => {
    const out = new Float32Array(2 * 2);
    await writeEncoderInput({ pixels: new Uint16Array(16).fill(30000), widthPx: 4, heightPx: 4 }, { inputSizePx: 2, resampleKernel: "nearest" }, out, 0);
    expect(Array.from(out)).toEqual(Array(4).fill(Math.fround(30000 / 65535)));
  });
});
