import * as fs from "node:fs";
import * as zlib from "node:zlib";
import * as dicomParser from "dicom-parser";
import { decodeRleFrame } from "./codecs/rle";
import { isHostLittleEndian } from "./elements";
import { decodeJpeg2000, decodeJpegLs } from "./codecs/wasm";
import { decodeJpeg2000Native } from "./codecs/native";
import { decodeJpegLossless } from "./codecs/jpegLossless";
import { DicomError } from "./errors";
import type { DicomImage } from "./types";
import { READABLE_TRANSFER_SYNTAX_UIDS, TRANSFER_SYNTAX_UIDS as TS, transferSyntaxLabel } from "./uids";

/** Larger images than this (pixels) are refused rather than allocated. */
export const MAX_PIXELS = 2 ** 28;

const VRS = new Set(
  "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split(" "),
);

/**
 * A file without the 128-byte preamble and "DICM" is read only when its first element is an
 * unambiguous dataset start: an even group number in 0002..0028, and either a valid VR
 * (explicit VR little endian) or a 32-bit length that fits in the file (implicit VR little endian).
 */
function detectRawSyntax(bytes: Uint8Array): string | null {
  if (bytes.length < 8) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const group = dv.getUint16(0, true);
  // a dataset starts with a low, even group (0008 Identifying in practice; 0002..0028 accepted)
  if (group % 2 !== 0 || group < 0x0002 || group > 0x0028) return null;
  const vr = String.fromCharCode(bytes[4], bytes[5]);
  if (VRS.has(vr)) return TS["explicit-le"];
  const len = dv.getUint32(4, true);
  if (len === 0xffffffff || 8 + len <= bytes.length) return group === 0x0002 ? null : TS["implicit-le"];
  return null;
}

function describeParseError(e: unknown): string {
  const inner = typeof e === "object" && e !== null && "exception" in e ? (e as { exception: unknown }).exception : e;
  const msg = inner instanceof Error ? inner.message : String(inner);
  return msg.replace(/^dicomParser[.:][A-Za-z0-9]+: ?/, "").replace(/^[A-Za-z]+ByteArrayParser\.[A-Za-z0-9]+: /, "");
}

function looksTruncated(msg: string): boolean {
  return /overrun|overread|past end|past the end|end of buffer|beyond|premature|truncat|outside/i.test(msg);
}

function parseDataset(bytes: Uint8Array, file: string, untilPixelData = false): { ds: dicomParser.DataSet; part10: boolean } {
  if (bytes.length < 8) throw new DicomError(file, `not a DICOM file (only ${bytes.length} bytes)`);
  const part10 = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  let rawSyntax: string | null = null;
  if (!part10) {
    rawSyntax = detectRawSyntax(bytes);
    if (!rawSyntax) throw new DicomError(file, "not a DICOM file (no \"DICM\" at byte 128 and no recognisable dataset at the start)");
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const ds = dicomParser.parseDicom(buf, {
      ...(rawSyntax ? { TransferSyntaxUID: rawSyntax } : {}),
      ...(untilPixelData ? { untilTag: "x7fe00010" } : {}),
      inflater: (arr: Uint8Array, position: number): Uint8Array => {
        let inflated: Buffer;
        try {
          inflated = zlib.inflateRawSync(arr.subarray(position), { maxOutputLength: 2 ** 30 });
        } catch (e) {
          throw new DicomError(file, `truncated or corrupt deflated dataset (${(e as Error).message})`);
        }
        const out = Buffer.alloc(position + inflated.length);
        out.set(arr.subarray(0, position), 0);
        out.set(inflated, position);
        return out;
      },
    } as dicomParser.ParseDicomOptions);
    return { ds, part10 };
  } catch (e) {
    if (e instanceof DicomError) throw e;
    const inner = typeof e === "object" && e !== null && "exception" in e ? (e as { exception: unknown }).exception : e;
    if (inner instanceof DicomError) throw inner;
    const msg = describeParseError(e);
    throw new DicomError(file, looksTruncated(msg) ? `truncated or corrupt file (${msg})` : `cannot parse the DICOM dataset (${msg})`);
  }
}

function str(ds: dicomParser.DataSet, tag: string): string | null {
  const v = ds.string(tag);
  if (v === undefined) return null;
  const t = v.replace(/\0+$/, "").trim();
  return t.length ? t : null;
}

function num(ds: dicomParser.DataSet, tag: string, index = 0): number | null {
  const v = ds.floatString(tag, index);
  return v === undefined || !Number.isFinite(v) ? null : v;
}

function uint16(ds: dicomParser.DataSet, tag: string, index = 0): number | null {
  const el = ds.elements[tag];
  if (!el || el.length < 2 * (index + 1)) return null;
  const v = ds.uint16(tag, index);
  return v === undefined ? null : v;
}

/** A US/SS value whose VR may be unknown (implicit VR): signed when the pixel data is. */
function pixelValue(ds: dicomParser.DataSet, tag: string, signed: boolean): number | null {
  const v = uint16(ds, tag);
  if (v === null) return null;
  return signed && v > 32767 ? v - 65536 : v;
}

/** The bytes of the single frame of encapsulated pixel data. */
function encapsulatedFrame(ds: dicomParser.DataSet, el: dicomParser.Element, file: string, tsUid: string): Uint8Array {
  if (!el.encapsulatedPixelData || !el.fragments) {
    throw new DicomError(file, `pixel data is not encapsulated, as transfer syntax ${transferSyntaxLabel(tsUid)} requires`);
  }
  if (el.fragments.length === 0) throw new DicomError(file, "encapsulated pixel data has no fragments");
  for (const f of el.fragments) {
    if (f.position + f.length > ds.byteArray.length) throw new DicomError(file, "truncated file: a pixel data fragment runs past the end of the file");
  }
  const data = dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments.length);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

interface Geometry {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
}

/** Native (uncompressed) pixel data, 8 or 16 bits allocated, little or big endian. */
function nativeSamples(ds: dicomParser.DataSet, el: dicomParser.Element, g: Geometry, bigEndian: boolean, file: string): Uint16Array {
  if (el.encapsulatedPixelData || el.length === 0xffffffff) {
    throw new DicomError(file, "pixel data is encapsulated but the transfer syntax is a native (uncompressed) one");
  }
  const n = g.rows * g.columns;
  const needed = (n * g.bitsAllocated) / 8;
  if (el.length < needed) {
    throw new DicomError(file, `pixel data has ${el.length} bytes, shorter than rows x columns x bits = ${g.rows} x ${g.columns} x ${g.bitsAllocated} / 8 = ${needed}`);
  }
  const available = ds.byteArray.length - el.dataOffset;
  if (available < needed) throw new DicomError(file, `truncated file: pixel data needs ${needed} bytes, only ${Math.max(0, available)} present`);
  const src = ds.byteArray;
  if (g.bitsAllocated === 16 && !bigEndian && isHostLittleEndian()) {
    // one copy: the file's little-endian words are the host's
    const start = src.byteOffset + el.dataOffset;
    return new Uint16Array(src.buffer.slice(start, start + needed));
  }
  const out = new Uint16Array(n);
  if (g.bitsAllocated === 8) {
    for (let i = 0; i < n; i++) out[i] = src[el.dataOffset + i];
  } else {
    const dv = new DataView(src.buffer, src.byteOffset + el.dataOffset, needed);
    const le = !bigEndian;
    for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, le);
  }
  return out;
}

function samplesFromLeBytes(bytes: Uint8Array, n: number, bytesPerSample: number): Uint16Array {
  const out = new Uint16Array(n);
  if (bytesPerSample === 1) for (let i = 0; i < n; i++) out[i] = bytes[i];
  else for (let i = 0; i < n; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}

/** Keep the BitsStored low bits (unsigned) or sign-extend them (signed). */
/** Whether any sample has a bit outside `m` set; two samples per 32-bit word where aligned (half the iterations). */
function highBitsSet(raw: Uint16Array, m: number): boolean {
  // (an Int32Array view needs a 4-byte aligned start even when empty: none is made otherwise)
  const words = raw.byteOffset % 4 === 0 ? raw.length >> 1 : 0;
  let any = 0;
  if (words > 0) {
    const w = new Int32Array(raw.buffer, raw.byteOffset, words);
    for (let k = 0; k < words; k++) any |= w[k];
  }
  for (let i = 2 * words; i < raw.length; i++) any |= raw[i];
  return ((any | (any >>> 16)) & ~m & 0xffff) !== 0;
}

function storedValues(raw: Uint16Array, bitsStored: number, signed: boolean, mask: boolean): Uint16Array | Int16Array {
  if (!signed) {
    if (mask && bitsStored < 16) {
      const m = (1 << bitsStored) - 1;
      // a read-only pass first: high bits are almost never set, and writing every pixel back costs more
      if (highBitsSet(raw, m)) for (let i = 0; i < raw.length; i++) raw[i] &= m;
    }
    return raw;
  }
  const out = new Int16Array(raw.buffer, raw.byteOffset, raw.length);
  if (bitsStored < 16) {
    const shift = 32 - bitsStored;
    for (let i = 0; i < raw.length; i++) out[i] = (raw[i] << shift) >> shift;
  }
  return out;
}

async function decodePixels(ds: dicomParser.DataSet, g: Geometry, tsUid: string, file: string): Promise<Uint16Array | Int16Array> {
  const el = ds.elements.x7fe00010;
  if (!el) {
    const other = ds.elements.x7fe00008 ? " (it has Float Pixel Data, which is not supported)" : "";
    throw new DicomError(file, `no pixel data element (7FE0,0010)${other}`);
  }
  const n = g.rows * g.columns;
  const expect = { width: g.columns, height: g.rows };
  const fail = (e: unknown): never => {
    if (e instanceof DicomError) throw e;
    throw new DicomError(file, `cannot decode ${transferSyntaxLabel(tsUid)} pixel data: ${e instanceof Error ? e.message : String(e)}`);
  };
  switch (tsUid) {
    case TS["implicit-le"]:
    case TS["explicit-le"]:
    case TS["deflated-le"]:
      return storedValues(nativeSamples(ds, el, g, false, file), g.bitsStored, g.signed, true);
    case TS["explicit-be"]:
      return storedValues(nativeSamples(ds, el, g, g.bitsAllocated === 16, file), g.bitsStored, g.signed, true);
    case TS.rle: {
      const frame = encapsulatedFrame(ds, el, file, tsUid);
      try {
        const bytes = decodeRleFrame(frame, g.rows, g.columns, g.bitsAllocated / 8);
        return storedValues(samplesFromLeBytes(bytes, n, g.bitsAllocated / 8), g.bitsStored, g.signed, true);
      } catch (e) {
        return fail(e);
      }
    }
    case TS["jpeg2000-lossless"]:
    case TS.jpeg2000:
    case TS["jpegls-lossless"]:
    case TS["jpegls-near-lossless"]: {
      const frame = encapsulatedFrame(ds, el, file, tsUid);
      try {
        const isJ2k = tsUid === TS["jpeg2000-lossless"] || tsUid === TS.jpeg2000;
        // JPEG 2000: the native OpenJPEG tool when it is installed (codecs/native.ts), else (or when it fails) the wasm build
        const dec = isJ2k ? ((await decodeJpeg2000Native(frame, expect)) ?? (await decodeJpeg2000(frame, expect))) : await decodeJpegLs(frame, expect);
        const bps = dec.info.bitsPerSample > 8 ? 2 : 1;
        if (dec.bytes.length < n * bps) throw new Error(`decoded ${dec.bytes.length} bytes, expected ${n * bps}`);
        const raw = samplesFromLeBytes(dec.bytes, n, bps);
        if (g.signed && dec.info.isSigned && bps === 2) return new Int16Array(raw.buffer);
        if (g.signed && dec.info.isSigned && bps === 1) return Int16Array.from(raw, (v) => (v << 24) >> 24);
        return storedValues(raw, g.bitsStored, g.signed, false);
      } catch (e) {
        return fail(e);
      }
    }
    case TS["jpeg-lossless"]:
    case TS["jpeg-lossless-sv1"]: {
      const frame = encapsulatedFrame(ds, el, file, tsUid);
      try {
        const raw = decodeJpegLossless(frame, expect).slice();
        return storedValues(raw, g.bitsStored, g.signed, false);
      } catch (e) {
        return fail(e);
      }
    }
    default:
      throw new DicomError(file, `unsupported transfer syntax ${transferSyntaxLabel(tsUid)}`);
  }
}

function readVoiLut(ds: dicomParser.DataSet, signed: boolean): DicomImage["voiLut"] {
  const seq = ds.elements.x00283010;
  const item = seq?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const count = uint16(item, "x00283002", 0);
  let first = uint16(item, "x00283002", 1);
  const bits = uint16(item, "x00283002", 2);
  const dataEl = item.elements.x00283006;
  if (count === null || first === null || bits === null || !dataEl) return undefined;
  if (signed && first > 32767) first -= 65536;
  const entries = count === 0 ? 65536 : count;
  const words = Math.min(entries, Math.floor(dataEl.length / 2), Math.floor((item.byteArray.length - dataEl.dataOffset) / 2));
  const data = new Uint16Array(words);
  for (let i = 0; i < words; i++) data[i] = item.byteArrayParser.readUint16(item.byteArray, dataEl.dataOffset + 2 * i);
  if (words === 0) return undefined;
  return { firstMapped: first, bits, data };
}

function readTags(ds: dicomParser.DataSet, file: string, tsUid: string): Omit<DicomImage, "pixels"> {
  const rows = uint16(ds, "x00280010");
  const columns = uint16(ds, "x00280011");
  if (rows === null || columns === null) throw new DicomError(file, "missing Rows (0028,0010) or Columns (0028,0011): not an image");
  if (rows === 0 || columns === 0) throw new DicomError(file, `image has ${rows} rows and ${columns} columns`);
  if (rows * columns > MAX_PIXELS) throw new DicomError(file, `image of ${rows} x ${columns} pixels is larger than the ${MAX_PIXELS}-pixel limit`);
  const bitsAllocated = uint16(ds, "x00280100");
  if (bitsAllocated === null) throw new DicomError(file, "missing Bits Allocated (0028,0100)");
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw new DicomError(file, `Bits Allocated ${bitsAllocated} is not supported (8 or 16)`);
  const bitsStored = uint16(ds, "x00280101") ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new DicomError(file, `Bits Stored ${bitsStored} does not fit Bits Allocated ${bitsAllocated}`);
  const highBit = uint16(ds, "x00280102") ?? bitsStored - 1;
  const pr = uint16(ds, "x00280103") ?? 0;
  if (pr !== 0 && pr !== 1) throw new DicomError(file, `Pixel Representation ${pr} is neither 0 nor 1`);
  const samplesPerPixel = uint16(ds, "x00280002") ?? 1;
  if (samplesPerPixel !== 1) throw new DicomError(file, `${samplesPerPixel} samples per pixel: only grey (1-sample) images are supported`);
  const photometric = str(ds, "x00280004") ?? "MONOCHROME2";
  const framesText = str(ds, "x00280008");
  const numberOfFrames = framesText === null ? 1 : Number.parseInt(framesText, 10);
  if (!Number.isFinite(numberOfFrames) || numberOfFrames < 1) throw new DicomError(file, `Number of Frames "${framesText}" is not a positive integer`);
  if (numberOfFrames > 1) throw new DicomError(file, `multi-frame image (${numberOfFrames} frames) where one frame is expected`);
  const signed = pr === 1;

  const windows: { center: number; width: number }[] = [];
  const nw = Math.min(ds.numStringValues("x00281050") ?? 0, ds.numStringValues("x00281051") ?? 0);
  for (let i = 0; i < nw; i++) {
    const c = num(ds, "x00281050", i);
    const w = num(ds, "x00281051", i);
    if (c !== null && w !== null) windows.push({ center: c, width: w });
  }
  const fn = (str(ds, "x00281056") ?? "LINEAR").toUpperCase();
  const voiLutFunction = fn === "LINEAR_EXACT" || fn === "SIGMOID" ? fn : "LINEAR";
  const lat = (str(ds, "x00200062") ?? str(ds, "x00200060"))?.toUpperCase() ?? null;
  const spacingTag = ds.elements.x00280030 ? "x00280030" : "x00181164";
  const sr = num(ds, spacingTag, 0);
  const sc = num(ds, spacingTag, 1);
  const voiLut = readVoiLut(ds, signed);
  return {
    file,
    transferSyntaxUid: tsUid,
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: signed ? 1 : 0,
    samplesPerPixel,
    photometric,
    numberOfFrames,
    rescaleSlope: num(ds, "x00281053") ?? 1,
    rescaleIntercept: num(ds, "x00281052") ?? 0,
    windows,
    voiLutFunction,
    ...(voiLut ? { voiLut } : {}),
    pixelPaddingValue: pixelValue(ds, "x00280120", signed),
    pixelPaddingRangeLimit: pixelValue(ds, "x00280121", signed),
    presentationIntentType: str(ds, "x00080068"),
    laterality: lat === "L" || lat === "R" ? lat : null,
    viewPosition: str(ds, "x00185101"),
    patientId: str(ds, "x00100020"),
    studyInstanceUid: str(ds, "x0020000d"),
    seriesInstanceUid: str(ds, "x0020000e"),
    sopInstanceUid: str(ds, "x00080018"),
    pixelSpacingMm: sr !== null && sc !== null && sr > 0 && sc > 0 ? [sr, sc] : null,
    modality: str(ds, "x00080060"),
    patientOrientation: orientation(str(ds, "x00200020")),
  };
}

function orientation(v: string | null): [string, string] | null {
  const parts = v?.split("\\").map((p) => p.trim()) ?? [];
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : null;
}

/** The transfer syntax of a parsed dataset (checked against what we decode). */
function transferSyntaxOf(ds: dicomParser.DataSet, file: string): string {
  const ts = str(ds, "x00020010");
  if (!ts) throw new DicomError(file, "missing Transfer Syntax UID (0002,0010) in the file meta information");
  if (!READABLE_TRANSFER_SYNTAX_UIDS.includes(ts)) throw new DicomError(file, `unsupported transfer syntax ${transferSyntaxLabel(ts)}`);
  return ts;
}

/**
 * Decode a single-frame grey DICOM image held in memory. `nameForErrors` starts every error
 * message. Only DicomError is thrown.
 */
export async function readDicomBytes(bytes: Uint8Array, nameForErrors: string): Promise<DicomImage> {
  const file = nameForErrors;
  try {
    const { ds } = parseDataset(bytes, file);
    const tsUid = transferSyntaxOf(ds, file);
    const tags = readTags(ds, file, tsUid);
    const pixels = await decodePixels(
      ds,
      { rows: tags.rows, columns: tags.columns, bitsAllocated: tags.bitsAllocated, bitsStored: tags.bitsStored, signed: tags.pixelRepresentation === 1 },
      tsUid,
      file,
    );
    return { ...tags, pixels };
  } catch (e) {
    if (e instanceof DicomError) throw e;
    throw new DicomError(file, `cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Read and decode a single-frame grey DICOM file. Only DicomError is thrown. */
export async function readDicom(file: string): Promise<DicomImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DicomError(file, code === "ENOENT" ? "no such file" : `cannot read the file (${(e as Error).message})`);
  }
  return readDicomBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/** Read only the tags (no pixel decoding). Only DicomError is thrown. */
export function readDicomTagsBytes(bytes: Uint8Array, nameForErrors: string): Omit<DicomImage, "pixels"> {
  const file = nameForErrors;
  try {
    const { ds } = parseDataset(bytes, file, true);
    return readTags(ds, file, transferSyntaxOf(ds, file));
  } catch (e) {
    if (e instanceof DicomError) throw e;
    throw new DicomError(file, `cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * Read only the tags of a DICOM file, reading as little of it as needed (the bytes up to the
 * pixel data: 256 KB first, more only when the header is longer). Same checks and errors as
 * readDicom, without decoding pixels. Only DicomError is thrown.
 */
export async function readDicomTags(file: string): Promise<Omit<DicomImage, "pixels">> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DicomError(file, code === "ENOENT" ? "no such file" : `cannot read the file (${(e as Error).message})`);
  }
  try {
    const size = (await handle.stat()).size;
    let n = Math.min(size, 256 * 1024);
    for (;;) {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await handle.read(buf, 0, n, 0);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
      const whole = bytesRead >= size;
      let ds: dicomParser.DataSet | null = null;
      try {
        ds = parseDataset(bytes, file, true).ds;
      } catch (e) {
        // more bytes cannot help a file that does not even start like DICOM
        if (whole || !(e instanceof DicomError) || e.problem.startsWith("not a DICOM file")) throw e;
      }
      // stopped at the pixel data (or read everything): the header is complete
      if (ds && (whole || ds.elements.x7fe00010)) return readTags(ds, file, transferSyntaxOf(ds, file));
      n = Math.min(size, n * 4);
    }
  } catch (e) {
    if (e instanceof DicomError) throw e;
    throw new DicomError(file, `cannot read (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    await handle.close();
  }
}
