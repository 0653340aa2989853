import { describe, expect, it } from "vitest";
import { DicomError, applyWindow, chooseVoi, paddingMask, presentationToUint16, storedValueHistogram, toPresentation, toPresentationUint16, toPresentationUint16Many, type DicomImage } from "../../lib/dicom";

/** A DicomImage built in memory (1 row) for checking the presentation maths. */
function image(stored: number[], over: Partial<DicomImage> = {}): DicomImage {
  return {
    file: "mem.dcm",
    transferSyntaxUid: "1.2.840.10008.1.2.1",
    rows: 1,
    columns: stored.length,
    bitsAllocated: 16,
    bitsStored: 12,
    highBit: 11,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    photometric: "MONOCHROME2",
    numberOfFrames: 1,
    pixels: Uint16Array.from(stored),
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: [],
    voiLutFunction: "LINEAR",
    pixelPaddingValue: null,
    pixelPaddingRangeLimit: null,
    presentationIntentType: null,
    laterality: null,
    viewPosition: null,
    patientId: null,
    studyInstanceUid: null,
    seriesInstanceUid: null,
    sopInstanceUid: null,
    pixelSpacingMm: null,
    modality: "MG",
    patientOrientation: null,
    ...over,
  };
}

const close = (actual: ArrayLike<number>, expected: number[]): void => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i], `index ${i}`).toBeCloseTo(e, 6));
};

// Expected values below are worked out by hand from PS3.3 C.11.2.1.2 with ymin = 0, ymax = 1.
describe("VOI functions against the standard's formulas", () => {
  // Stored s -> modality x = 0.5 s + 50.  Stored: 79, 80, 81, 100, 119, 120 -> x: 89.5, 90, 90.5, 100, 109.5, 110
  const stored = [79, 80, 81, 100, 119, 120];

  it("LINEAR, center 100, width 21: bounds 89.5 and 109.5, slope 1/20", () => {
    // x <= 89.5 -> 0; x > 109.5 -> 1; else (x - 99.5)/20 + 0.5
    // 90 -> 0.025, 90.5 -> 0.05, 100 -> 0.525, 109.5 -> 1.0 (not above the bound), 110 -> 1
    const img = image(stored, { rescaleSlope: 0.5, rescaleIntercept: 50, windows: [{ center: 100, width: 21 }] });
    close(toPresentation(img), [0, 0.025, 0.05, 0.525, 1.0, 1]);
    expect(applyWindow(89.5, 100, 21, "LINEAR")).toBe(0);
  });

  it("LINEAR_EXACT, center 100, width 20: bounds 90 and 110, slope 1/20", () => {
    // x <= 90 -> 0; x > 110 -> 1; else (x - 100)/20 + 0.5
    // 89.5 -> 0, 90 -> 0, 90.5 -> 0.025, 100 -> 0.5, 109.5 -> 0.975, 110 -> 1.0
    const img = image(stored, { rescaleSlope: 0.5, rescaleIntercept: 50, windows: [{ center: 100, width: 20 }], voiLutFunction: "LINEAR_EXACT" });
    close(toPresentation(img), [0, 0, 0.025, 0.5, 0.975, 1.0]);
  });

  it("SIGMOID, center 100, width 20: 1 / (1 + exp(-(x - 100)/5))", () => {
    // 89.5 -> 1/(1+e^2.1) = 0.1090968, 90 -> 1/(1+e^2) = 0.1192029, 90.5 -> 1/(1+e^1.9) = 0.1301085,
    // 100 -> 0.5, 109.5 -> 1/(1+e^-1.9) = 0.8698915, 110 -> 1/(1+e^-2) = 0.8807971 (evaluated with a calculator)
    const img = image(stored, { rescaleSlope: 0.5, rescaleIntercept: 50, windows: [{ center: 100, width: 20 }], voiLutFunction: "SIGMOID" });
    close(toPresentation(img), [0.1090968, 0.1192029, 0.1301085, 0.5, 0.8698915, 0.8807971]);
  });

  it("MONOCHROME1 inverts the output (bright = dense)", () => {
    // LINEAR_EXACT values from above, then 1 - y
    const img = image(stored, {
      photometric: "MONOCHROME1",
      rescaleSlope: 0.5,
      rescaleIntercept: 50,
      windows: [{ center: 100, width: 20 }],
      voiLutFunction: "LINEAR_EXACT",
    });
    close(toPresentation(img), [1, 1, 0.975, 0.5, 0.025, 0]);
  });

  it("a VOI LUT Sequence table takes precedence and clamps outside its range", () => {
    // first mapped 10, 8-bit output, entries 0 51 102 153 204 255 for x = 10..15
    // x = 5 -> entry 0 -> 0; 12 -> 102/255 = 0.4; 15 -> 1; 40 -> last entry -> 1
    const img = image([5, 12, 15, 40], {
      windows: [{ center: 0, width: 1 }],
      voiLut: { firstMapped: 10, bits: 8, data: Uint16Array.from([0, 51, 102, 153, 204, 255]) },
    });
    close(toPresentation(img), [0, 0.4, 1, 1]);
    // forcing the window instead: LINEAR c=0 w=1: x <= -0.5 -> 0, x > -0.5 -> 1
    close(toPresentation(img, { voi: "window" }), [1, 1, 1, 1]);
  });

  it("without window or LUT, min-max of non-padding values; padding goes to 0", () => {
    // values 10, 15, 20 (padding 4095): (x - 10) / 10 -> 0, 0.5, 1
    const img = image([4095, 10, 15, 20], { pixelPaddingValue: 4095 });
    close(toPresentation(img), [0, 0, 0.5, 1]);
    // MONOCHROME1: inverted image, but padding is still background (0)
    close(toPresentation({ ...img, photometric: "MONOCHROME1" }), [0, 1, 0.5, 0]);
    close(toPresentation({ ...img, photometric: "MONOCHROME1" }, { padding: "keep" }), [-(4085 / 10) + 1, 1, 0.5, 0]);
  });
});

describe("choosing the VOI transform", () => {
  it("an explicit window overrides the file; forced modes fail clearly when absent", () => {
    const img = image([90, 100, 110], { windows: [{ center: 0, width: 1 }] });
    // LINEAR_EXACT c=100 w=20: (x - 100)/20 + 0.5 -> 0, 0.5, 1
    close(toPresentation(img, { window: { center: 100, width: 20 }, voiLutFunction: "LINEAR_EXACT" }), [0, 0.5, 1]);
    expect(() => chooseVoi(img, { voi: "lut" })).toThrow(DicomError);
    expect(() => chooseVoi(img, { voi: "lut" })).toThrow(/^mem\.dcm: no VOI LUT Sequence/);
    expect(() => chooseVoi(image([1]), { voi: "window" })).toThrow(/no valid window 0/);
    // LINEAR needs width >= 1: a 0.5-wide window is skipped in auto mode (falls to min-max)
    expect(chooseVoi(image([1, 3], { windows: [{ center: 2, width: 0.5 }] })).kind).toBe("minmax");
    expect(() => toPresentation(img, { window: { center: 1, width: 0 } })).toThrow(/window width 0 is not valid for LINEAR/);
  });
});

describe("paddingMask", () => {
  it("uses Pixel Padding Value and the range limit", () => {
    expect(Array.from(paddingMask(image([0, 1, 2, 3, 0], { pixelPaddingValue: 0 })))).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(paddingMask(image([0, 1, 2, 3, 0], { pixelPaddingValue: 2, pixelPaddingRangeLimit: 0 })))).toEqual([1, 1, 1, 0, 1]);
  });

  it("falls back to the dominant border value when it is an extreme", () => {
    // 4 x 4, border all 7 (the minimum), inside 9..12
    const px = [7, 7, 7, 7, 7, 9, 10, 7, 7, 11, 12, 7, 7, 7, 7, 7];
    const img = image(px, { rows: 4, columns: 4 });
    expect(Array.from(paddingMask(img))).toEqual(px.map((v) => (v === 7 ? 1 : 0)));
    // same border, but 7 is not an extreme (an interior 3 exists): no padding assumed
    const px2 = [...px];
    px2[5] = 3;
    expect(Array.from(paddingMask(image(px2, { rows: 4, columns: 4 })))).toEqual(new Array(16).fill(0));
  });
});

describe("toPresentationUint16", () => {
  // 8 x 8 images of pseudo-random stored values with a border of `border` (padding candidates)
  function random(seed: number, lo: number, hi: number, border: number | null, signed = false): number[] {
    let x = seed;
    const out: number[] = [];
    for (let i = 0; i < 64; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const r = i % 8 === 0 || i % 8 === 7 || i < 8 || i >= 56;
      out.push(r && border !== null ? border : lo + (x % (hi - lo + 1)));
    }
    return signed ? out : out.map((v) => Math.max(0, v));
  }
  const cases: [string, DicomImage, Parameters<typeof toPresentation>[1]][] = [
    ["window LINEAR", image(random(1, 0, 4095, null), { rows: 8, columns: 8, windows: [{ center: 2000, width: 1501 }] }), {}],
    ["window LINEAR_EXACT, rescale", image(random(2, 0, 4095, null), { rows: 8, columns: 8, rescaleSlope: 0.7, rescaleIntercept: -30, windows: [{ center: 1000, width: 800 }], voiLutFunction: "LINEAR_EXACT" }), {}],
    ["window SIGMOID, MONOCHROME1", image(random(3, 0, 4095, null), { rows: 8, columns: 8, photometric: "MONOCHROME1", windows: [{ center: 2048, width: 2000 }], voiLutFunction: "SIGMOID" }), {}],
    ["minmax, border padding", image(random(4, 100, 16383, 0), { rows: 8, columns: 8, bitsStored: 14 }), { voi: "minmax" }],
    ["minmax, padding value, negative slope", image(random(5, 0, 4095, 4095), { rows: 8, columns: 8, pixelPaddingValue: 4095, rescaleSlope: -1.5, rescaleIntercept: 7 }), { voi: "minmax" }],
    ["minmax, padding range kept, MONOCHROME1", image(random(6, 0, 4095, 3), { rows: 8, columns: 8, pixelPaddingValue: 0, pixelPaddingRangeLimit: 5, photometric: "MONOCHROME1" }), { voi: "minmax", padding: "keep" }],
    ["VOI LUT", image(random(7, 0, 300, null), { rows: 8, columns: 8, voiLut: { firstMapped: 20, bits: 12, data: Uint16Array.from({ length: 200 }, (_, i) => i * 20) } }), {}],
    ["signed, minmax, border padding", { ...image([], { rows: 8, columns: 8 }), pixelRepresentation: 1, pixels: Int16Array.from(random(8, -2000, 2000, -2048, true)) }, { voi: "minmax" }],
    ["signed, window", { ...image([], { rows: 8, columns: 8 }), pixelRepresentation: 1, pixels: Int16Array.from(random(9, -1000, 3000, null, true)), windows: [{ center: 40, width: 400 }] }, {}],
    ["constant", image(new Array(64).fill(7), { rows: 8, columns: 8 }), {}],
  ];
  for (const [name, img, opts] of cases) {
    it(`${name}: the 16-bit values of toPresentation, bit for bit`, () => {
      const want = Array.from(toPresentation(img, opts), presentationToUint16);
      expect(Array.from(toPresentationUint16(img, opts))).toEqual(want);
      expect(Array.from(toPresentationUint16(img, opts, storedValueHistogram(img)))).toEqual(want);
    });
  }
  it("several tables at once: each output is the value per pixel of toPresentation (odd sizes, pixels at a 2-byte offset, equal tables sharing one array)", () => {
    // the word loop takes two pixels at a time: an odd count leaves one for the tail, and pixels
    // that start 2 bytes into their buffer take the loop per pixel
    for (const n of [1, 2, 63, 64, 65]) {
      for (const shifted of [false, true]) {
        const values = random(10 + n, 100, 16383, 0).concat(random(11 + n, 0, 16383, 0)).slice(0, n);
        const base = new Uint16Array(n + 1);
        base.set(values, shifted ? 1 : 0);
        const pixels = shifted ? base.subarray(1) : base.subarray(0, n);
        const img = { ...image([], { rows: 1, columns: n, bitsStored: 14, windows: [{ center: 9000, width: 6001 }] }), pixels };
        const window = {};
        const minmax = { voi: "minmax" as const };
        const shiftedWindow = { windowIndex: 1 };
        const img3 = { ...img, windows: [{ center: 9000, width: 6001 }, { center: 4000, width: 3001 }] };
        // one table, two (one repeated: it shares its array) and three
        for (const [im, optsList] of [[img, [window]], [img, [window, minmax, window]], [img3, [window, minmax, shiftedWindow]]] as const) {
          const outs = toPresentationUint16Many(im, optsList);
          optsList.forEach((opts, k) => expect(Array.from(outs[k]), `n ${n}, shifted ${shifted}, ${optsList.length} tables, opts ${k}`).toEqual(Array.from(toPresentation(im, opts), presentationToUint16)));
          if (optsList.length === 3 && optsList[2] === window) expect(outs[2]).toBe(outs[0]);
        }
        expect(toPresentationUint16Many(img, [])).toEqual([]);
      }
    }
  });
  it("refuses a histogram of the wrong size", () => {
    expect(() => toPresentationUint16(image([1, 2]), {}, new Uint32Array(10))).toThrow(/histogram has 10 bins, expected 65536/);
  });
});
