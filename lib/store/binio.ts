import type { Hash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { float16ArrayToFloat32, float32ArrayToFloat16 } from "./float16";
import type { StoreDtype } from "./format";

/** Bytes per stored element. */
export function dtypeBytes(dtype: StoreDtype): number {
  return dtype === "float16" ? 2 : 4;
}

/** The store is little-endian on disk; typed arrays use the host order, so refuse big-endian hosts. */
export function assertLittleEndianHost(): void {
  if (os.endianness() !== "LE") throw new Error("embedding store: big-endian hosts are not supported");
}

const CHUNK_ELEMS = 1 << 20;
const MAX_IO_BYTES = 1 << 30;

/** Write all bytes of a view at the fd's current position (loops over partial writes). */
export function writeAll(fd: number, bytes: Uint8Array, hash?: Hash): void {
  hash?.update(bytes);
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, Math.min(bytes.length - off, MAX_IO_BYTES));
}

/** Append a float32 matrix to a file in the store's dtype (float16 converted chunk by chunk). */
export function writeMatrix(fd: number, values: Float32Array, dtype: StoreDtype, hash?: Hash): void {
  if (dtype === "float32") {
    writeAll(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), hash);
    return;
  }
  const half = new Uint16Array(Math.min(CHUNK_ELEMS, values.length));
  for (let i = 0; i < values.length; i += CHUNK_ELEMS) {
    const n = Math.min(CHUNK_ELEMS, values.length - i);
    const dst = n === half.length ? half : half.subarray(0, n);
    float32ArrayToFloat16(values.subarray(i, i + n), dst);
    writeAll(fd, new Uint8Array(dst.buffer, dst.byteOffset, n * 2), hash);
  }
}

export function writeInt32(fd: number, values: Int32Array, hash?: Hash): void {
  writeAll(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), hash);
}

/** Read exactly `bytes.length` bytes at `position` (throws naming the file on a short read). */
export function readExact(fd: number, file: string, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) {
    const n = fs.readSync(fd, bytes, off, Math.min(bytes.length - off, MAX_IO_BYTES), position + off);
    if (n === 0) throw new Error(`${file}: unexpected end of file at byte ${position + off}`);
    off += n;
  }
}

/** Read `count` elements starting at element `start` of a matrix file, as float32. */
export function readMatrixElements(file: string, dtype: StoreDtype, start: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (count === 0) return out;
  const fd = fs.openSync(file, "r");
  try {
    if (dtype === "float32") {
      readExact(fd, file, new Uint8Array(out.buffer), start * 4);
    } else {
      const half = new Uint16Array(Math.min(CHUNK_ELEMS, count));
      for (let i = 0; i < count; i += CHUNK_ELEMS) {
        const n = Math.min(CHUNK_ELEMS, count - i);
        const h = n === half.length ? half : half.subarray(0, n);
        readExact(fd, file, new Uint8Array(h.buffer, 0, n * 2), (start + i) * 2);
        float16ArrayToFloat32(h, out.subarray(i, i + n));
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** Read a whole int32 file. */
export function readInt32File(file: string): Int32Array {
  const size = fs.statSync(file).size;
  if (size % 4 !== 0) throw new Error(`${file}: size ${size} is not a multiple of 4 bytes (int32 rows)`);
  const out = new Int32Array(size / 4);
  const fd = fs.openSync(file, "r");
  try {
    readExact(fd, file, new Uint8Array(out.buffer), 0);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** Index of the first non-finite value (NaN/Inf) in raw little-endian float32/float16 bytes, or -1. */
export function firstNonFinite(bytes: Uint8Array, dtype: StoreDtype): number {
  if (dtype === "float32") {
    const n = bytes.length >> 2;
    const u = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, n) : new Uint32Array(bytes.slice(0, n * 4).buffer);
    for (let i = 0; i < n; i++) if ((u[i] & 0x7f800000) === 0x7f800000) return i;
    return -1;
  }
  const n = bytes.length >> 1;
  const u = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice(0, n * 2).buffer);
  for (let i = 0; i < n; i++) if ((u[i] & 0x7c00) === 0x7c00) return i;
  return -1;
}
