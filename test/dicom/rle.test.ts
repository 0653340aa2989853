import { describe, expect, it } from "vitest";
import { decodeRleFrame, encodeRleFrame } from "../../lib/dicom/codecs/rle";
import { Rng } from "../../lib/util/rng";

function frameWith(segment: number[]): Uint8Array {
  const f = new Uint8Array(64 + segment.length);
  const dv = new DataView(f.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(4, 64, true);
  f.set(segment, 64);
  return f;
}

describe("RLE (PackBits segments)", () => {
  it("decodes the classic PackBits example", () => {
    // packed: FE AA | 02 80 00 2A | FD AA | 03 80 00 2A 22 | F7 AA
    const packed = [0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa];
    const expected = [
      0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22,
      0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    ];
    expect(Array.from(decodeRleFrame(frameWith(packed), 1, 24, 1))).toEqual(expected);
  });

  it("-128 is a no-op and a short segment is an error", () => {
    expect(Array.from(decodeRleFrame(frameWith([0x80, 0x01, 5, 6]), 1, 2, 1))).toEqual([5, 6]);
    expect(() => decodeRleFrame(frameWith([0x01, 5, 6]), 1, 3, 1)).toThrow(/decodes to 2 bytes, expected 3/);
    expect(() => decodeRleFrame(frameWith([0x05, 5]), 1, 3, 1)).toThrow(/literal run past the end/);
  });

  it("round-trips runs longer than 128, alternations, pairs, single-column rows", () => {
    const rng = new Rng(4);
    const rows: number[][] = [
      new Array(300).fill(7),
      Array.from({ length: 300 }, (_, i) => i % 2),
      Array.from({ length: 300 }, (_, i) => Math.floor(i / 2) % 3),
      Array.from({ length: 300 }, () => rng.int(0, 255)),
      Array.from({ length: 300 }, (_, i) => (i < 129 ? 1 : i < 131 ? 2 : rng.int(0, 3))),
    ];
    for (const row of rows) {
      const bytes = Uint8Array.from(row);
      const frame = encodeRleFrame(bytes, 1, bytes.length, 1);
      expect((frame.length - 64) % 2).toBe(0);
      expect(Array.from(decodeRleFrame(frame, 1, bytes.length, 1))).toEqual(row);
    }
    const col = Uint8Array.from({ length: 50 }, (_, i) => i * 5);
    expect(Array.from(decodeRleFrame(encodeRleFrame(col, 50, 1, 1), 50, 1, 1))).toEqual(Array.from(col));
    // constant runs really are compressed: 300 equal bytes -> 3 runs of 2 bytes
    expect(encodeRleFrame(Uint8Array.from(rows[0]), 1, 300, 1).length - 64).toBe(6);
  });
});
