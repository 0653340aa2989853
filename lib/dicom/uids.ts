/** Transfer syntaxes this module writes (short names) and their UIDs. */
export const TRANSFER_SYNTAX_UIDS = {
  "implicit-le": "1.2.840.10008.1.2",
  "explicit-le": "1.2.840.10008.1.2.1",
  "deflated-le": "1.2.840.10008.1.2.1.99",
  "explicit-be": "1.2.840.10008.1.2.2",
  "jpeg-lossless": "1.2.840.10008.1.2.4.57",
  "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
  "jpegls-lossless": "1.2.840.10008.1.2.4.80",
  "jpegls-near-lossless": "1.2.840.10008.1.2.4.81",
  "jpeg2000-lossless": "1.2.840.10008.1.2.4.90",
  "jpeg2000": "1.2.840.10008.1.2.4.91",
  "rle": "1.2.840.10008.1.2.5",
} as const;

export type TransferSyntaxName = keyof typeof TRANSFER_SYNTAX_UIDS;

/** The transfer syntaxes writeDicom can produce. */
export type WritableTransferSyntax =
  | "explicit-le"
  | "implicit-le"
  | "explicit-be"
  | "deflated-le"
  | "rle"
  | "jpeg2000-lossless"
  | "jpegls-lossless"
  | "jpeg-lossless-sv1";

export const WRITABLE_TRANSFER_SYNTAXES: readonly WritableTransferSyntax[] = [
  "explicit-le",
  "implicit-le",
  "explicit-be",
  "deflated-le",
  "rle",
  "jpeg2000-lossless",
  "jpegls-lossless",
  "jpeg-lossless-sv1",
];

/** Human names of transfer syntaxes, including common ones we do not decode (for error messages). */
export const TRANSFER_SYNTAX_NAMES: Record<string, string> = {
  "1.2.840.10008.1.2": "Implicit VR Little Endian",
  "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
  "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
  "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
  "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
  "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
  "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
  "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)",
  "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
  "1.2.840.10008.1.2.4.81": "JPEG-LS Lossy (Near-Lossless)",
  "1.2.840.10008.1.2.4.90": "JPEG 2000 Image Compression (Lossless Only)",
  "1.2.840.10008.1.2.4.91": "JPEG 2000 Image Compression",
  "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 (Lossless Only)",
  "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)",
  "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
  "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile / Main Level",
  "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264 High Profile",
  "1.2.840.10008.1.2.5": "RLE Lossless",
};

/** The transfer syntaxes readDicom decodes. */
export const READABLE_TRANSFER_SYNTAX_UIDS: readonly string[] = [
  "1.2.840.10008.1.2",
  "1.2.840.10008.1.2.1",
  "1.2.840.10008.1.2.1.99",
  "1.2.840.10008.1.2.2",
  "1.2.840.10008.1.2.4.57",
  "1.2.840.10008.1.2.4.70",
  "1.2.840.10008.1.2.4.80",
  "1.2.840.10008.1.2.4.81",
  "1.2.840.10008.1.2.4.90",
  "1.2.840.10008.1.2.4.91",
  "1.2.840.10008.1.2.5",
];

/** SOP Class: Digital Mammography X-Ray Image Storage - For Presentation. */
export const MG_FOR_PRESENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.2";
/** Our implementation class UID (2.25 + a fixed number: a UUID-derived root needs no registration). */
export const IMPLEMENTATION_CLASS_UID = "2.25.171428572304762187013450261813495937001";
export const IMPLEMENTATION_VERSION_NAME = "MILPF_0_1";

export function transferSyntaxLabel(uid: string): string {
  const name = TRANSFER_SYNTAX_NAMES[uid];
  return name ? `${uid} (${name})` : uid;
}
