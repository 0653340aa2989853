/**
 * A small DICOM data-element encoder (the writer's half; reading goes through dicom-parser).
 * Hand-written because no maintained npm package writes Part-10 files from Node without pulling
 * a large toolkit; the format is simple (tag, VR, length, value) and this covers what we write.
 */

export type DicomVr =
  | "AE" | "AS" | "CS" | "DA" | "DS" | "DT" | "IS" | "LO" | "LT" | "PN" | "SH" | "ST" | "TM" | "UI" | "UT"
  | "US" | "SS" | "UL" | "SL" | "FL" | "FD"
  | "OB" | "OW" | "SQ" | "UN";

/** One element to write. `tag` is (group << 16) | element, e.g. 0x00280010 for Rows. */
export interface DicomElement {
  tag: number;
  vr: DicomVr;
  /** Strings for text VRs (multiple values joined by "\\"), numbers for binary numeric VRs,
   * bytes for OB/UN, 16-bit words for OW, items (each a list of elements) for SQ. */
  value: string | number[] | Uint8Array | Uint16Array | Int16Array | DicomElement[][];
}

export interface ElementEncoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

const LONG_VRS = new Set<string>(["OB", "OW", "SQ", "UN", "UT"]);
const TEXT_VRS = new Set<string>(["AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UI", "UT"]);

/** Growable byte buffer with endian-aware integer writes. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number, le: boolean): void {
    this.ensure(2);
    this.view.setUint16(this.length, v, le);
    this.length += 2;
  }
  u32(v: number, le: boolean): void {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0, le);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  ascii(s: string): void {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    this.bytes(b);
  }
  setU32At(pos: number, v: number, le: boolean): void {
    this.view.setUint32(pos, v >>> 0, le);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** The value bytes of one element (already padded to even length), in the given byte order. */
export function encodeValue(el: DicomElement, enc: ElementEncoding): Uint8Array {
  const le = enc.littleEndian;
  const v = el.value;
  if (TEXT_VRS.has(el.vr)) {
    if (typeof v !== "string") throw new Error(`element ${tagText(el.tag)} ${el.vr}: expected a string value`);
    let s = v;
    if (s.length % 2 === 1) s += el.vr === "UI" ? "\0" : " ";
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
    return out;
  }
  if (el.vr === "OB" || el.vr === "UN") {
    if (!(v instanceof Uint8Array)) throw new Error(`element ${tagText(el.tag)} ${el.vr}: expected bytes`);
    if (v.length % 2 === 0) return v;
    const out = new Uint8Array(v.length + 1);
    out.set(v);
    return out;
  }
  if (el.vr === "OW") {
    if (!(v instanceof Uint16Array || v instanceof Int16Array)) throw new Error(`element ${tagText(el.tag)} OW: expected 16-bit words`);
    const out = new Uint8Array(v.length * 2);
    if (le && isHostLittleEndian()) {
      out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else {
      const dv = new DataView(out.buffer);
      for (let i = 0; i < v.length; i++) dv.setUint16(2 * i, v[i] & 0xffff, le);
    }
    return out;
  }
  if (el.vr === "SQ") throw new Error("encodeValue: sequences are encoded by encodeElement");
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) {
    throw new Error(`element ${tagText(el.tag)} ${el.vr}: expected numbers`);
  }
  const nums = v as number[];
  const size = el.vr === "US" || el.vr === "SS" ? 2 : el.vr === "FD" ? 8 : 4;
  const out = new Uint8Array(nums.length * size);
  const dv = new DataView(out.buffer);
  nums.forEach((x, i) => {
    const p = i * size;
    switch (el.vr) {
      case "US": dv.setUint16(p, x, le); break;
      case "SS": dv.setInt16(p, x, le); break;
      case "UL": dv.setUint32(p, x, le); break;
      case "SL": dv.setInt32(p, x, le); break;
      case "FL": dv.setFloat32(p, x, le); break;
      case "FD": dv.setFloat64(p, x, le); break;
      default: throw new Error(`element ${tagText(el.tag)}: cannot encode numbers as ${el.vr}`);
    }
  });
  return out;
}

function writeTag(w: ByteWriter, tag: number, le: boolean): void {
  w.u16(tag >>> 16, le);
  w.u16(tag & 0xffff, le);
}

/** Append one element (tag, VR, length, value) to `w`. Sequences are written with defined lengths. */
export function encodeElement(w: ByteWriter, el: DicomElement, enc: ElementEncoding): void {
  const le = enc.littleEndian;
  let value: Uint8Array;
  if (el.vr === "SQ") {
    const items = el.value as DicomElement[][];
    const inner = new ByteWriter();
    for (const item of items) {
      const body = new ByteWriter();
      for (const sub of [...item].sort((a, b) => a.tag - b.tag)) encodeElement(body, sub, enc);
      writeTag(inner, 0xfffee000, le);
      inner.u32(body.length, le);
      inner.bytes(body.result());
    }
    value = inner.result();
  } else {
    value = encodeValue(el, enc);
  }
  writeTag(w, el.tag, le);
  if (enc.explicitVr) {
    w.ascii(el.vr);
    if (LONG_VRS.has(el.vr)) {
      w.u16(0, le);
      w.u32(value.length, le);
    } else {
      if (value.length > 0xffff) throw new Error(`element ${tagText(el.tag)} ${el.vr}: value too long (${value.length} bytes)`);
      w.u16(value.length, le);
    }
  } else {
    w.u32(value.length, le);
  }
  w.bytes(value);
}

/** Encode a list of elements (sorted by tag, as the standard requires). */
export function encodeDataset(elements: DicomElement[], enc: ElementEncoding): Uint8Array {
  const w = new ByteWriter();
  for (const el of [...elements].sort((a, b) => a.tag - b.tag)) encodeElement(w, el, enc);
  return w.result();
}

/**
 * Encapsulated pixel data (PS3.5 A.4): undefined-length OB element, a Basic Offset Table item,
 * one fragment item per frame, sequence delimiter. Always explicit VR little endian.
 */
export function encodeEncapsulatedPixelData(frames: Uint8Array[]): Uint8Array {
  const w = new ByteWriter();
  writeTag(w, 0x7fe00010, true);
  w.ascii("OB");
  w.u16(0, true);
  w.u32(0xffffffff, true);
  writeTag(w, 0xfffee000, true);
  w.u32(4 * frames.length, true);
  let offset = 0;
  for (const f of frames) {
    w.u32(offset, true);
    offset += 8 + f.length + (f.length % 2);
  }
  for (const f of frames) {
    writeTag(w, 0xfffee000, true);
    w.u32(f.length + (f.length % 2), true);
    w.bytes(f);
    if (f.length % 2) w.u8(0);
  }
  writeTag(w, 0xfffee0dd, true);
  w.u32(0, true);
  return w.result();
}

export function tagText(tag: number): string {
  const h = (tag >>> 0).toString(16).padStart(8, "0").toUpperCase();
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

let hostLe: boolean | null = null;
export function isHostLittleEndian(): boolean {
  if (hostLe === null) hostLe = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return hostLe;
}
