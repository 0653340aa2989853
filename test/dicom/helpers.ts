import { Rng } from "../../lib/util/rng";
import type { DicomWriteInput, WritableTransferSyntax } from "../../lib/dicom";

/** A textured test image: smooth gradient + noise + a bright blob, clipped to `bitsStored` bits. */
export function texturedPixels(rows: number, columns: number, bitsStored: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  const max = 2 ** bitsStored - 1;
  const px = new Uint16Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const base = 0.3 + 0.4 * Math.sin((r * 0.11) + (c * 0.07)) * 0.5;
      const blob = Math.exp(-((r - rows / 2) ** 2 + (c - columns / 3) ** 2) / (2 * (Math.min(rows, columns) / 5 + 1) ** 2));
      const v = (base + 0.3 * blob) * max + rng.normal(0, max * 0.02);
      px[r * columns + c] = Math.max(0, Math.min(max, Math.round(v)));
    }
  }
  // a few extremes so the full range is exercised
  px[0] = 0;
  px[px.length - 1] = max;
  return px;
}

export function baseInput(pixels: Uint16Array, rows: number, columns: number, bitsStored: number, transferSyntax: WritableTransferSyntax): DicomWriteInput {
  return {
    pixels,
    rows,
    columns,
    bitsStored,
    photometric: "MONOCHROME2",
    transferSyntax,
    tags: {
      patientId: "P0001",
      studyInstanceUid: "1.2.826.0.1.3680043.2.1125.1",
      seriesInstanceUid: "1.2.826.0.1.3680043.2.1125.1.2",
      sopInstanceUid: "1.2.826.0.1.3680043.2.1125.1.2.3",
      laterality: "R",
      viewPosition: "MLO",
      windowCenter: 2 ** (bitsStored - 1),
      windowWidth: 2 ** bitsStored,
      rescaleSlope: 1,
      rescaleIntercept: 0,
      pixelSpacingMm: [0.085, 0.085],
      presentationIntentType: "FOR PRESENTATION",
      pixelPaddingValue: 0,
      voiLutFunction: "LINEAR",
    },
  };
}
