import * as zlib from "node:zlib";
import { writeFileAtomicAsync } from "../util/atomic";
import { encodeRleFrame } from "./codecs/rle";
import { encodeJpeg2000, encodeJpegLs } from "./codecs/wasm";
import { encodeJpegLosslessSv1 } from "./codecs/jpegLossless";
import {
  type DicomElement,
  type ElementEncoding,
  ByteWriter,
  encodeDataset,
  encodeEncapsulatedPixelData,
  encodeElement,
  isHostLittleEndian,
} from "./elements";
import {
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  MG_FOR_PRESENTATION_SOP_CLASS,
  TRANSFER_SYNTAX_UIDS,
  type WritableTransferSyntax,
} from "./uids";
import { concatTyped } from "../util/arrays";

/** Tags writeDicom fills in. Optional ones are left out of the file when absent. */
export interface DicomWriteTags {
  patientId: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** ImageLaterality (0020,0062). */
  laterality: "L" | "R" | null;
  /** ViewPosition (0018,5101): CC, MLO, ... */
  viewPosition: string;
  windowCenter?: number | number[];
  windowWidth?: number | number[];
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** PixelSpacing (0028,0030): [row spacing, column spacing] in mm. */
  pixelSpacingMm?: [number, number];
  /** "FOR PRESENTATION" or "FOR PROCESSING". */
  presentationIntentType?: string;
  pixelPaddingValue?: number;
  voiLutFunction?: "LINEAR" | "LINEAR_EXACT" | "SIGMOID";
  /** One VOI LUT Sequence item (0028,3010): first stored value mapped, output bits, table. */
  voiLut?: { firstMapped: number; bits: number; data: Uint16Array };
  patientName?: string;
  studyDate?: string;
  studyId?: string;
  accessionNumber?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  sopClassUid?: string;
  modality?: string;
  /** Any further elements, written as given (must not repeat a tag written above). */
  extra?: DicomElement[];
}

export interface DicomWriteInput {
  /** Stored values, rows x columns (x numberOfFrames), row-major. Int16Array with pixelRepresentation 1. */
  pixels: Uint16Array | Int16Array;
  rows: number;
  columns: number;
  /** 12, 14 or 16 (any 1..16 is accepted); BitsAllocated is always 16. */
  bitsStored: number;
  photometric: "MONOCHROME1" | "MONOCHROME2";
  transferSyntax: WritableTransferSyntax;
  tags: DicomWriteTags;
  /** 0 = unsigned (default), 1 = two's complement. */
  pixelRepresentation?: 0 | 1;
  /** Default 1. Frames follow each other in `pixels`. */
  numberOfFrames?: number;
}

/** Format a number for a DS element (max 16 characters). */
export function formatDs(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} as a decimal string`);
  let s = String(x);
  if (s.length > 16) s = x.toPrecision(10).replace(/\.?0+(e|$)/, "$1");
  if (s.length > 16) s = x.toExponential(8);
  return s;
}

function dsList(v: number | number[]): string {
  return (Array.isArray(v) ? v : [v]).map(formatDs).join("\\");
}

function validate(img: DicomWriteInput): void {
  const { rows, columns, bitsStored } = img;
  const frames = img.numberOfFrames ?? 1;
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1 || rows > 65535 || columns > 65535) {
    throw new Error(`writeDicom: rows x columns must be integers in 1..65535, got ${rows} x ${columns}`);
  }
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > 16) throw new Error(`writeDicom: bitsStored must be 1..16, got ${bitsStored}`);
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`writeDicom: numberOfFrames must be a positive integer, got ${frames}`);
  if (img.pixels.length !== rows * columns * frames) {
    throw new Error(`writeDicom: pixels has ${img.pixels.length} values, expected rows x columns x frames = ${rows * columns * frames}`);
  }
  const signed = (img.pixelRepresentation ?? 0) === 1;
  if (signed !== img.pixels instanceof Int16Array) {
    throw new Error(`writeDicom: pixelRepresentation ${signed ? 1 : 0} needs ${signed ? "an Int16Array" : "a Uint16Array"}`);
  }
  const lo = signed ? -(2 ** (bitsStored - 1)) : 0;
  const hi = signed ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
  for (let i = 0; i < img.pixels.length; i++) {
    const v = img.pixels[i];
    if (v < lo || v > hi) throw new Error(`writeDicom: pixel ${i} = ${v} does not fit in ${bitsStored} stored bits`);
  }
  if (!(img.transferSyntax in TRANSFER_SYNTAX_UIDS)) throw new Error(`writeDicom: unknown transfer syntax ${String(img.transferSyntax)}`);
}

function datasetElements(img: DicomWriteInput, sopClassUid: string): DicomElement[] {
  const t = img.tags;
  const signed = (img.pixelRepresentation ?? 0) === 1;
  const frames = img.numberOfFrames ?? 1;
  const el: DicomElement[] = [
    { tag: 0x00080016, vr: "UI", value: sopClassUid },
    { tag: 0x00080018, vr: "UI", value: t.sopInstanceUid },
    { tag: 0x00080060, vr: "CS", value: t.modality ?? "MG" },
    { tag: 0x00100020, vr: "LO", value: t.patientId },
    { tag: 0x00100010, vr: "PN", value: t.patientName ?? t.patientId },
    { tag: 0x0020000d, vr: "UI", value: t.studyInstanceUid },
    { tag: 0x0020000e, vr: "UI", value: t.seriesInstanceUid },
    { tag: 0x00185101, vr: "CS", value: t.viewPosition },
    { tag: 0x00280002, vr: "US", value: [1] },
    { tag: 0x00280004, vr: "CS", value: img.photometric },
    { tag: 0x00280010, vr: "US", value: [img.rows] },
    { tag: 0x00280011, vr: "US", value: [img.columns] },
    { tag: 0x00280100, vr: "US", value: [16] },
    { tag: 0x00280101, vr: "US", value: [img.bitsStored] },
    { tag: 0x00280102, vr: "US", value: [img.bitsStored - 1] },
    { tag: 0x00280103, vr: "US", value: [signed ? 1 : 0] },
    { tag: 0x00282110, vr: "CS", value: "00" },
  ];
  if (t.laterality) el.push({ tag: 0x00200062, vr: "CS", value: t.laterality });
  if (frames > 1) el.push({ tag: 0x00280008, vr: "IS", value: String(frames) });
  if (t.presentationIntentType) el.push({ tag: 0x00080068, vr: "CS", value: t.presentationIntentType });
  if (t.studyDate) el.push({ tag: 0x00080020, vr: "DA", value: t.studyDate });
  if (t.accessionNumber) el.push({ tag: 0x00080050, vr: "SH", value: t.accessionNumber });
  if (t.studyId) el.push({ tag: 0x00200010, vr: "SH", value: t.studyId });
  if (t.seriesNumber !== undefined) el.push({ tag: 0x00200011, vr: "IS", value: String(t.seriesNumber) });
  if (t.instanceNumber !== undefined) el.push({ tag: 0x00200013, vr: "IS", value: String(t.instanceNumber) });
  if (t.pixelSpacingMm) el.push({ tag: 0x00280030, vr: "DS", value: dsList(t.pixelSpacingMm) });
  if (t.pixelPaddingValue !== undefined) el.push({ tag: 0x00280120, vr: signed ? "SS" : "US", value: [t.pixelPaddingValue] });
  if (t.windowCenter !== undefined) el.push({ tag: 0x00281050, vr: "DS", value: dsList(t.windowCenter) });
  if (t.windowWidth !== undefined) el.push({ tag: 0x00281051, vr: "DS", value: dsList(t.windowWidth) });
  if (t.rescaleIntercept !== undefined || t.rescaleSlope !== undefined) {
    el.push({ tag: 0x00281052, vr: "DS", value: formatDs(t.rescaleIntercept ?? 0) });
    el.push({ tag: 0x00281053, vr: "DS", value: formatDs(t.rescaleSlope ?? 1) });
    el.push({ tag: 0x00281054, vr: "LO", value: "US" });
  }
  if (t.voiLutFunction) el.push({ tag: 0x00281056, vr: "CS", value: t.voiLutFunction });
  if (t.voiLut) {
    const lut = t.voiLut;
    el.push({
      tag: 0x00283010,
      vr: "SQ",
      value: [[
        { tag: 0x00283002, vr: "US", value: [lut.data.length === 65536 ? 0 : lut.data.length, lut.firstMapped, lut.bits] },
        { tag: 0x00283006, vr: "OW", value: lut.data },
      ]],
    });
  }
  if (t.extra) el.push(...t.extra);
  const seen = new Set<number>();
  for (const e of el) {
    if (seen.has(e.tag)) throw new Error(`writeDicom: element ${e.tag.toString(16)} given twice`);
    seen.add(e.tag);
  }
  return el;
}

/** Little-endian bytes of one frame of 16-bit samples. */
function frameBytesLe(pixels: Uint16Array | Int16Array, frame: number, n: number): Uint8Array {
  const sub = pixels.subarray(frame * n, (frame + 1) * n);
  if (isHostLittleEndian()) return new Uint8Array(sub.buffer, sub.byteOffset, sub.byteLength).slice();
  const out = new Uint8Array(2 * n);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) dv.setUint16(2 * i, sub[i] & 0xffff, true);
  return out;
}

async function encodeFrames(img: DicomWriteInput): Promise<Uint8Array[]> {
  const n = img.rows * img.columns;
  const frames = img.numberOfFrames ?? 1;
  const signed = (img.pixelRepresentation ?? 0) === 1;
  const out: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    const le = frameBytesLe(img.pixels, f, n);
    const info = { width: img.columns, height: img.rows, bitsPerSample: img.bitsStored, componentCount: 1, isSigned: signed };
    switch (img.transferSyntax) {
      case "rle":
        out.push(encodeRleFrame(le, img.rows, img.columns, 2));
        break;
      case "jpeg2000-lossless":
        out.push(await encodeJpeg2000(le, info));
        break;
      case "jpegls-lossless":
        out.push(await encodeJpegLs(le, info));
        break;
      case "jpeg-lossless-sv1":
        // signed values are coded as their BitsStored-bit two's complement pattern (the reader sign-extends)
        out.push(encodeJpegLosslessSv1(img.pixels.subarray(f * n, (f + 1) * n), img.rows, img.columns, img.bitsStored));
        break;
      default:
        throw new Error(`encodeFrames: ${img.transferSyntax} is not encapsulated`);
    }
  }
  return out;
}

/** The bytes of a Part-10 file for `img` (what writeDicom writes). */
export async function encodeDicom(img: DicomWriteInput): Promise<Uint8Array> {
  validate(img);
  const syntax = img.transferSyntax;
  const tsUid = TRANSFER_SYNTAX_UIDS[syntax];
  const sopClassUid = img.tags.sopClassUid ?? MG_FOR_PRESENTATION_SOP_CLASS;
  const elements = datasetElements(img, sopClassUid);

  const enc: ElementEncoding =
    syntax === "implicit-le"
      ? { explicitVr: false, littleEndian: true }
      : syntax === "explicit-be"
        ? { explicitVr: true, littleEndian: false }
        : { explicitVr: true, littleEndian: true };
  let body: Uint8Array;
  const encapsulated = syntax === "rle" || syntax.startsWith("jpeg");
  if (encapsulated) {
    const head = encodeDataset(elements, enc);
    const pixelData = encodeEncapsulatedPixelData(await encodeFrames(img));
    body = concatTyped([head, pixelData], Uint8Array);
  } else {
    const w = new ByteWriter();
    w.bytes(encodeDataset(elements, enc));
    encodeElement(w, { tag: 0x7fe00010, vr: "OW", value: img.pixels }, enc);
    body = w.result();
    if (syntax === "deflated-le") body = zlib.deflateRawSync(body, { level: 6 });
  }

  // File meta information (group 0002), always explicit VR little endian, with its group length.
  const metaLe: ElementEncoding = { explicitVr: true, littleEndian: true };
  const meta = encodeDataset(
    [
      { tag: 0x00020001, vr: "OB", value: new Uint8Array([0, 1]) },
      { tag: 0x00020002, vr: "UI", value: sopClassUid },
      { tag: 0x00020003, vr: "UI", value: img.tags.sopInstanceUid },
      { tag: 0x00020010, vr: "UI", value: tsUid },
      { tag: 0x00020012, vr: "UI", value: IMPLEMENTATION_CLASS_UID },
      { tag: 0x00020013, vr: "SH", value: IMPLEMENTATION_VERSION_NAME },
    ],
    metaLe,
  );
  const groupLength = new ByteWriter();
  encodeElement(groupLength, { tag: 0x00020000, vr: "UL", value: [meta.length] }, metaLe);

  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128); // "DICM"
  return concatTyped([preamble, groupLength.result(), meta, body], Uint8Array);
}

/**
 * Write `img` as a DICOM Part-10 file (Digital Mammography X-Ray Image - For Presentation,
 * modality MG) in the requested transfer syntax. The file appears atomically.
 */
export async function writeDicom(file: string, img: DicomWriteInput): Promise<void> {
  const bytes = await encodeDicom(img);
  await writeFileAtomicAsync(file, bytes);
}
