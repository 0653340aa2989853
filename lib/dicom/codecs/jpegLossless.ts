/**
 * JPEG Lossless, Non-Hierarchical, First-Order Prediction (process 14, selection value 1;
 * DICOM 1.2.840.10008.1.2.4.70), one grey component.
 *
 * Encoder: hand-written because no npm encoder for lossless JPEG is known. It is small: predictor
 * 1 (left neighbour; the row above for a row's first pixel; 2^(P-1) for the first pixel), point
 * transform 0, no restart intervals, and one optimal Huffman table for the difference categories
 * built with the procedure of ITU-T T.81 Annex K.2 (code lengths limited to 16 bits, the all-ones
 * code kept free).
 * Decoder: jpeg-lossless-decoder-js (handles every predictor, so .57 files decode too).
 */
import { readJpegFrameHeader } from "./jpegHeader";

const NSYM = 17; // difference categories 0..16
const RESERVED = NSYM; // one extra symbol that reserves the all-ones code (Annex K.2)

/** Code length per category (0 = unused), per ITU-T T.81 Figures K.1-K.3. */
function huffmanCodeLengths(freqIn: number[]): number[] {
  const freq = [...freqIn, 1];
  const n = freq.length;
  const codesize = new Array<number>(n).fill(0);
  const others = new Array<number>(n).fill(-1);
  for (;;) {
    let v1 = -1;
    for (let i = 0; i < n; i++) if (freq[i] > 0 && (v1 < 0 || freq[i] <= freq[v1])) v1 = i;
    let v2 = -1;
    for (let i = 0; i < n; i++) if (i !== v1 && freq[i] > 0 && (v2 < 0 || freq[i] <= freq[v2])) v2 = i;
    if (v2 < 0) break;
    freq[v1] += freq[v2];
    freq[v2] = 0;
    codesize[v1]++;
    let k = v1;
    while (others[k] >= 0) {
      k = others[k];
      codesize[k]++;
    }
    others[k] = v2;
    codesize[v2]++;
    k = v2;
    while (others[k] >= 0) {
      k = others[k];
      codesize[k]++;
    }
  }
  // BITS[l] = number of codes of length l; limit to 16 (Figure K.3)
  const bits = new Array<number>(64).fill(0);
  for (let i = 0; i < n; i++) if (codesize[i] > 0) bits[codesize[i]]++;
  for (let i = 63; i > 16; i--) {
    while (bits[i] > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i] -= 2;
      bits[i - 1]++;
      bits[j + 1] += 2;
      bits[j]--;
    }
  }
  // symbols in order of (original) code size, then value; then hand out the adjusted lengths
  const order: number[] = [];
  for (let len = 1; len < 64; len++) for (let i = 0; i < n; i++) if (codesize[i] === len) order.push(i);
  const lengths = new Array<number>(n).fill(0);
  let idx = 0;
  for (let len = 1; len <= 16; len++) for (let c = 0; c < bits[len]; c++) lengths[order[idx++]] = len;
  // the reserved symbol is last in `order` (largest size, or largest index among equals): drop it
  lengths[RESERVED] = 0;
  return lengths.slice(0, NSYM);
}

interface HuffTable {
  lengths: number[];
  codes: number[];
  /** symbols in table order (by length, then value) */
  huffval: number[];
  counts: number[]; // BITS[1..16]
}

function buildTable(lengths: number[]): HuffTable {
  const huffval: number[] = [];
  const counts = new Array<number>(17).fill(0);
  for (let len = 1; len <= 16; len++) for (let s = 0; s < NSYM; s++) if (lengths[s] === len) {
    huffval.push(s);
    counts[len]++;
  }
  const codes = new Array<number>(NSYM).fill(0);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let c = 0; c < counts[len]; c++) codes[huffval[k++]] = code++;
    code <<= 1;
  }
  return { lengths, codes, huffval, counts };
}

/** The category (SSSS) of each pixel's difference, and the difference itself (mod 2^16). */
function differences(px: Uint16Array, rows: number, columns: number, precision: number): Int32Array {
  const d = new Int32Array(rows * columns);
  const first = 1 << (precision - 1);
  for (let r = 0; r < rows; r++) {
    const o = r * columns;
    for (let c = 0; c < columns; c++) {
      const pred = c > 0 ? px[o + c - 1] : r > 0 ? px[o - columns] : first;
      let diff = (px[o + c] - pred) & 0xffff;
      if (diff > 32768) diff -= 65536;
      d[o + c] = diff;
    }
  }
  return d;
}

function category(diff: number): number {
  if (diff === 0) return 0;
  if (diff === 32768) return 16;
  return 32 - Math.clz32(diff < 0 ? -diff : diff);
}

/**
 * Encode one frame as a JPEG Lossless SV1 codestream. Samples are taken modulo 2^precision
 * (unsigned values in [0, 2^precision), or signed ones as their two's complement bit pattern).
 */
export function encodeJpegLosslessSv1(pixels: Uint16Array | Int16Array, rows: number, columns: number, precision: number): Uint8Array {
  if (precision < 2 || precision > 16) throw new Error(`JPEG lossless precision must be 2..16, got ${precision}`);
  if (rows < 1 || columns < 1 || rows > 65535 || columns > 65535) throw new Error(`JPEG lossless cannot code ${rows} x ${columns}`);
  const mask = precision === 16 ? 0xffff : (1 << precision) - 1;
  const px = new Uint16Array(pixels.length);
  for (let i = 0; i < px.length; i++) px[i] = pixels[i] & mask;
  const diffs = differences(px, rows, columns, precision);
  const freq = new Array<number>(NSYM).fill(0);
  for (let i = 0; i < diffs.length; i++) freq[category(diffs[i])]++;
  const table = buildTable(huffmanCodeLengths(freq));
  let totalBits = 0;
  for (let s = 0; s < NSYM; s++) totalBits += freq[s] * (table.lengths[s] + (s === 16 ? 0 : s));

  const header: number[] = [0xff, 0xd8];
  // SOF3: lossless, Huffman
  header.push(0xff, 0xc3, 0, 11, precision, rows >> 8, rows & 0xff, columns >> 8, columns & 0xff, 1, 1, 0x11, 0);
  // DHT: class 0 (DC/lossless), id 0
  const dhtLen = 2 + 1 + 16 + table.huffval.length;
  header.push(0xff, 0xc4, dhtLen >> 8, dhtLen & 0xff, 0x00);
  for (let len = 1; len <= 16; len++) header.push(table.counts[len]);
  header.push(...table.huffval);
  // SOS: one component, table 0, Ss = predictor 1, Se = 0, Ah/Al = 0 (point transform 0)
  header.push(0xff, 0xda, 0, 8, 1, 1, 0x00, 1, 0, 0);

  // worst case every byte of entropy-coded data is 0xFF and gets a stuffed 0x00
  const out = new Uint8Array(header.length + 2 * Math.ceil(totalBits / 8) + 8);
  out.set(header);
  let pos = header.length;
  let acc = 0; // bit accumulator (up to 24 pending bits, fits in a 32-bit int)
  let nAcc = 0;
  const put = (value: number, nBits: number): void => {
    // nBits <= 16
    acc = (acc << nBits) | (value & ((1 << nBits) - 1));
    nAcc += nBits;
    while (nAcc >= 8) {
      const byte = (acc >>> (nAcc - 8)) & 0xff;
      out[pos++] = byte;
      if (byte === 0xff) out[pos++] = 0;
      nAcc -= 8;
    }
    acc &= (1 << nAcc) - 1;
  };
  for (let i = 0; i < diffs.length; i++) {
    const d = diffs[i];
    const s = category(d);
    put(table.codes[s], table.lengths[s]);
    if (s > 0 && s < 16) put(d > 0 ? d : d + (1 << s) - 1, s);
  }
  if (nAcc > 0) put((1 << (8 - nAcc)) - 1, 8 - nAcc); // pad with 1 bits
  out[pos++] = 0xff;
  out[pos++] = 0xd9;
  return out.slice(0, pos);
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
}
interface LosslessModule {
  Decoder: new () => LosslessDecoder;
}
let losslessModule: LosslessModule | null = null;

/**
 * Decode a JPEG Lossless (process 14, any predictor) frame of one grey component into unsigned
 * samples. The frame header is checked against the expected size before decoding.
 */
export function decodeJpegLossless(data: Uint8Array, expect: { width: number; height: number }): Uint16Array {
  const sof = readJpegFrameHeader(data);
  if (sof.marker !== 0xffc3 && sof.marker !== 0xffc7) {
    throw new Error(`JPEG frame type ${sof.marker.toString(16).toUpperCase()} is not lossless (SOF3)`);
  }
  if (sof.rows !== expect.height || sof.columns !== expect.width) {
    throw new Error(`JPEG lossless frame is ${sof.columns} x ${sof.rows}, the dataset says ${expect.width} x ${expect.height}`);
  }
  if (sof.components !== 1) throw new Error(`JPEG lossless frame has ${sof.components} components, expected 1`);
  if (sof.precision < 2 || sof.precision > 16) throw new Error(`JPEG lossless precision ${sof.precision} is out of range`);
  if (!losslessModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    losslessModule = require("jpeg-lossless-decoder-js") as LosslessModule;
  }
  const copy = data.slice(); // the decoder wants an ArrayBuffer it may keep
  const decoded = new losslessModule.Decoder().decode(copy.buffer, 0, copy.length, 2);
  const n = expect.width * expect.height;
  if (!(decoded instanceof Uint16Array) || decoded.length < n) {
    throw new Error(`JPEG lossless frame decoded to ${decoded.length} samples, expected ${n}`);
  }
  return decoded.length === n ? decoded : decoded.slice(0, n);
}
