import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { WRITABLE_TRANSFER_SYNTAXES, TRANSFER_SYNTAX_UIDS, encodeDicom, readDicom, readDicomBytes, writeDicom } from "../../lib/dicom";
import { baseInput, texturedPixels } from "./helpers";

const sizes: [number, number][] = [
  [37, 29],
  [1, 1],
  [64, 3],
  [129, 130],
];

describe("round trip: pixels -> writeDicom -> readDicom is bit-exact", () => {
  for (const ts of WRITABLE_TRANSFER_SYNTAXES) {
    for (const bits of [12, 14, 16]) {
      it(`${ts}, ${bits}-bit, odd sizes`, async () => {
        for (const [rows, columns] of sizes) {
          const px = texturedPixels(rows, columns, bits, rows * 1000 + columns + bits);
          const bytes = await encodeDicom(baseInput(px, rows, columns, bits, ts));
          const img = await readDicomBytes(bytes, `${ts}-${rows}x${columns}.dcm`);
          expect(img.transferSyntaxUid).toBe(TRANSFER_SYNTAX_UIDS[ts]);
          expect(img.rows).toBe(rows);
          expect(img.columns).toBe(columns);
          expect(img.bitsStored).toBe(bits);
          expect(img.pixels).toBeInstanceOf(Uint16Array);
          expect(img.pixels.length).toBe(px.length);
          let firstDiff = -1;
          for (let i = 0; i < px.length; i++) if (img.pixels[i] !== px[i]) { firstDiff = i; break; }
          expect(firstDiff, `first differing pixel of ${rows}x${columns}`).toBe(-1);
        }
      });
    }
  }

  it("bits above Bits Stored (e.g. overlay bits in the pixel words) are cleared on reading; words without them come back as stored", async () => {
    // written with Bits Stored 16, then the header patched to Bits Stored 12 / High Bit 11
    const patch = (bytes: Uint8Array): Uint8Array => {
      const out = Uint8Array.from(bytes);
      const set = (group: number, element: number, value: number): void => {
        const tag = [group & 255, group >> 8, element & 255, element >> 8, 0x55, 0x53, 2, 0]; // (gggg,eeee) US, length 2
        for (let i = 0; i + 10 <= out.length; i++)
          if (tag.every((b, k) => out[i + k] === b)) {
            out[i + 8] = value & 255;
            out[i + 9] = value >> 8;
            return;
          }
        throw new Error(`tag (${group.toString(16)},${element.toString(16)}) not found`);
      };
      set(0x0028, 0x0101, 12);
      set(0x0028, 0x0102, 11);
      return out;
    };
    for (const [rows, columns] of [[37, 29], [4, 4], [1, 1]]) {
      const low = texturedPixels(rows, columns, 12, rows + columns);
      for (const high of [false, true]) {
        // with `high`, one pixel (the last: also the tail of the two-pixels-a-word scan) gets bit 13 set
        const px = Uint16Array.from(low, (v, i) => (high && i === low.length - 1 ? v | 0x2000 : v));
        const img = await readDicomBytes(patch(await encodeDicom(baseInput(px, rows, columns, 16, "explicit-le"))), `high-${rows}x${columns}.dcm`);
        expect(img.bitsStored).toBe(12);
        expect(Array.from(img.pixels), `${rows} x ${columns}, high bits ${high}`).toEqual(Array.from(low));
      }
      // a high bit in a pixel of the word loop (the first)
      const first = Uint16Array.from(low, (v, i) => (i === 0 ? v | 0x8000 : v));
      const img = await readDicomBytes(patch(await encodeDicom(baseInput(first, rows, columns, 16, "explicit-le"))), `high0-${rows}x${columns}.dcm`);
      expect(Array.from(img.pixels)).toEqual(Array.from(low));
    }
  });

  it("signed (pixelRepresentation 1) pixels survive every syntax", async () => {
    const rows = 23;
    const columns = 31;
    const u = texturedPixels(rows, columns, 12, 7);
    const px = Int16Array.from(u, (v) => v - 2048);
    for (const ts of WRITABLE_TRANSFER_SYNTAXES) {
      const input = { ...baseInput(new Uint16Array(0), rows, columns, 12, ts), pixels: px, pixelRepresentation: 1 as const };
      const img = await readDicomBytes(await encodeDicom(input), `signed-${ts}.dcm`);
      expect(img.pixelRepresentation).toBe(1);
      expect(img.pixels).toBeInstanceOf(Int16Array);
      expect(Array.from(img.pixels), ts).toEqual(Array.from(px));
    }
  });

  it("tags come back as written, through a real file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-dicom-"));
    const file = path.join(dir, "a.dcm");
    const px = texturedPixels(40, 30, 14, 3);
    const input = baseInput(px, 40, 30, 14, "explicit-le");
    input.photometric = "MONOCHROME1";
    input.tags.windowCenter = [8000, 9000];
    input.tags.windowWidth = [4000, 6000];
    input.tags.rescaleSlope = 0.5;
    input.tags.rescaleIntercept = -100;
    input.tags.voiLutFunction = "SIGMOID";
    input.tags.pixelPaddingValue = 16383;
    input.tags.extra = [{ tag: 0x00200020, vr: "CS", value: "A\\R" }];
    await writeDicom(file, input);
    const img = await readDicom(file);
    expect(img.file).toBe(file);
    expect(img.photometric).toBe("MONOCHROME1");
    expect(img.windows).toEqual([{ center: 8000, width: 4000 }, { center: 9000, width: 6000 }]);
    expect(img.rescaleSlope).toBe(0.5);
    expect(img.rescaleIntercept).toBe(-100);
    expect(img.voiLutFunction).toBe("SIGMOID");
    expect(img.pixelPaddingValue).toBe(16383);
    expect(img.laterality).toBe("R");
    expect(img.viewPosition).toBe("MLO");
    expect(img.patientId).toBe("P0001");
    expect(img.studyInstanceUid).toBe("1.2.826.0.1.3680043.2.1125.1");
    expect(img.seriesInstanceUid).toBe("1.2.826.0.1.3680043.2.1125.1.2");
    expect(img.sopInstanceUid).toBe("1.2.826.0.1.3680043.2.1125.1.2.3");
    expect(img.pixelSpacingMm).toEqual([0.085, 0.085]);
    expect(img.presentationIntentType).toBe("FOR PRESENTATION");
    expect(img.modality).toBe("MG");
    expect(img.patientOrientation).toEqual(["A", "R"]);
    expect(img.numberOfFrames).toBe(1);
    expect(img.bitsAllocated).toBe(16);
    expect(img.highBit).toBe(13);
    // Part-10 structure: 128-byte preamble then "DICM"
    const raw = fs.readFileSync(file);
    expect(raw.subarray(128, 132).toString("latin1")).toBe("DICM");
    expect(fs.readdirSync(dir)).toEqual(["a.dcm"]); // atomic write left no temp file
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a VOI LUT sequence is written and read back", async () => {
    const lut = Uint16Array.from({ length: 4096 }, (_, i) => Math.round((i / 4095) ** 0.5 * 255));
    const input = baseInput(texturedPixels(8, 8, 12, 1), 8, 8, 12, "implicit-le");
    input.tags.voiLut = { firstMapped: 0, bits: 8, data: lut };
    for (const ts of ["implicit-le", "explicit-be"] as const) {
      const img = await readDicomBytes(await encodeDicom({ ...input, transferSyntax: ts }), "lut.dcm");
      expect(img.voiLut?.firstMapped).toBe(0);
      expect(img.voiLut?.bits).toBe(8);
      expect(Array.from(img.voiLut?.data ?? [])).toEqual(Array.from(lut));
    }
  });

  it("a dataset without preamble and meta (raw implicit VR LE) is read", async () => {
    const px = texturedPixels(9, 11, 12, 5);
    const bytes = await encodeDicom(baseInput(px, 9, 11, 12, "implicit-le"));
    // skip preamble, DICM and the group-2 meta (group length element gives its size)
    const metaLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(132 + 8, true);
    const raw = bytes.subarray(132 + 12 + metaLen);
    const img = await readDicomBytes(raw, "raw.dcm");
    expect(img.transferSyntaxUid).toBe(TRANSFER_SYNTAX_UIDS["implicit-le"]);
    expect(Array.from(img.pixels)).toEqual(Array.from(px));
  });
});

describe("8-bit (BitsAllocated 8) files, assembled element by element", () => {
  it("native and RLE 8-bit decode to the same stored values", async () => {
    const { encodeDataset, encodeEncapsulatedPixelData } = await import("../../lib/dicom/elements");
    const { encodeRleFrame } = await import("../../lib/dicom/codecs/rle");
    const rows = 5;
    const columns = 7;
    const px8 = Uint8Array.from({ length: rows * columns }, (_, i) => (i * 37) % 256);
    const le = { explicitVr: true, littleEndian: true };
    const build = (tsUid: string, pixelData: Uint8Array | null): Uint8Array => {
      const meta = encodeDataset([{ tag: 0x00020010, vr: "UI", value: tsUid }], le);
      const body = encodeDataset(
        [
          { tag: 0x00280002, vr: "US", value: [1] },
          { tag: 0x00280004, vr: "CS", value: "MONOCHROME2" },
          { tag: 0x00280010, vr: "US", value: [rows] },
          { tag: 0x00280011, vr: "US", value: [columns] },
          { tag: 0x00280100, vr: "US", value: [8] },
          { tag: 0x00280101, vr: "US", value: [8] },
          { tag: 0x00280102, vr: "US", value: [7] },
          { tag: 0x00280103, vr: "US", value: [0] },
          ...(pixelData ? [{ tag: 0x7fe00010, vr: "OB" as const, value: pixelData }] : []),
        ],
        le,
      );
      const group = encodeDataset([{ tag: 0x00020000, vr: "UL", value: [meta.length] }], le);
      const pre = new Uint8Array(132);
      pre.set([0x44, 0x49, 0x43, 0x4d], 128);
      const parts = [pre, group, meta, body];
      const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    };
    const native = await readDicomBytes(build(TRANSFER_SYNTAX_UIDS["explicit-le"], px8), "n8.dcm");
    expect(native.bitsAllocated).toBe(8);
    expect(Array.from(native.pixels)).toEqual(Array.from(px8));
    const rleFile = build(TRANSFER_SYNTAX_UIDS.rle, null);
    const encapsulated = encodeEncapsulatedPixelData([encodeRleFrame(px8, rows, columns, 1)]);
    const whole = new Uint8Array(rleFile.length + encapsulated.length);
    whole.set(rleFile);
    whole.set(encapsulated, rleFile.length);
    const rle = await readDicomBytes(whole, "r8.dcm");
    expect(Array.from(rle.pixels)).toEqual(Array.from(px8));
  });
});

describe("readDicomTags (header only)", () => {
  it("gives the same tags as readDicom, for every syntax, reading only the header", async () => {
    const { readDicomTags } = await import("../../lib/dicom");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-tags-"));
    // 700 x 500 x 2 bytes = 700 KB of pixels: more than the first 256 KB read
    const px = texturedPixels(700, 500, 12, 8);
    for (const ts of WRITABLE_TRANSFER_SYNTAXES) {
      const file = path.join(dir, `${ts}.dcm`);
      const input = baseInput(px, 700, 500, 12, ts);
      // a long header element (300 KB private text) forces a second, larger read
      input.tags.extra = [{ tag: 0x00091010, vr: "UT", value: "x".repeat(300_000) }];
      await writeDicom(file, input);
      const { pixels: _pixels, ...full } = await readDicom(file);
      expect(await readDicomTags(file), ts).toEqual(full);
    }
    const bad = path.join(dir, "bad.dcm");
    fs.writeFileSync(bad, Buffer.alloc(1_000_000, 65));
    await expect(readDicomTags(bad)).rejects.toThrow(`${bad}: not a DICOM file`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
