/** A decoded single-frame grey DICOM image with the tags the pipeline needs. */
export interface DicomImage {
  /** The path (or name) it was read from. */
  file: string;
  transferSyntaxUid: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 = unsigned, 1 = two's complement. */
  pixelRepresentation: 0 | 1;
  samplesPerPixel: number;
  photometric: "MONOCHROME1" | "MONOCHROME2" | string;
  numberOfFrames: number;
  /** Stored values (before rescale and VOI), rows x columns, row-major. */
  pixels: Uint16Array | Int16Array;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Window center/width pairs in the order the file lists them (may be empty). */
  windows: { center: number; width: number }[];
  voiLutFunction: "LINEAR" | "LINEAR_EXACT" | "SIGMOID";
  /** First item of the VOI LUT Sequence, when present. */
  voiLut?: { firstMapped: number; bits: number; data: Uint16Array };
  pixelPaddingValue: number | null;
  /** Pixel Padding Range Limit (0028,0121), when present. */
  pixelPaddingRangeLimit: number | null;
  presentationIntentType: string | null;
  /** From ImageLaterality (0020,0062), else Laterality (0020,0060). */
  laterality: "L" | "R" | null;
  viewPosition: string | null;
  patientId: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  sopInstanceUid: string | null;
  /** PixelSpacing (0028,0030), else ImagerPixelSpacing (0018,1164): [row, column] in mm. */
  pixelSpacingMm: [number, number] | null;
  modality: string | null;
  /** PatientOrientation (0020,0020): direction of the rows and of the columns, e.g. ["A", "R"]. */
  patientOrientation: [string, string] | null;
}
