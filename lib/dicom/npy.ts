/**
 * NumPy .npy (format version 1.0) for 2-D integer arrays. Hand-written: the header is one short
 * Python-dict literal and no npm package for it is installed here.
 */
import { writeFileAtomicAsync } from "../util/atomic";

export type NpyArray = Uint16Array | Int16Array | Uint8Array | Float32Array;

function descr(a: NpyArray): string {
  if (a instanceof Uint16Array) return "<u2";
  if (a instanceof Int16Array) return "<i2";
  if (a instanceof Uint8Array) return "|u1";
  return "<f4";
}

/** The bytes of a .npy file holding `data` with C-order `shape`. */
export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape.join(", ")}] holds ${count} values, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces, ending in \n, to a multiple of 64
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // little-endian payload (host order on every platform Node supports here)
  const dv = new DataView(out.buffer, total);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Uint16Array) dv.setUint16(2 * i, data[i], true);
    else if (data instanceof Int16Array) dv.setInt16(2 * i, data[i], true);
    else if (data instanceof Uint8Array) dv.setUint8(i, data[i]);
    else dv.setFloat32(4 * i, data[i], true);
  }
  return out;
}

/** Write a .npy file atomically. */
export async function writeNpy(file: string, data: NpyArray, shape: number[]): Promise<void> {
  await writeFileAtomicAsync(file, encodeNpy(data, shape));
}
