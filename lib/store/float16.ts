/**
 * IEEE 754 half precision (binary16) conversion. Node 20 has no Float16Array, so this is written
 * by hand: float32 -> float16 rounds to nearest, ties to even (overflow to +/-Infinity, NaN kept
 * as a quiet NaN, subnormals handled); float16 -> float32 is exact and uses a 64 K lookup table.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Float16 bits (ties to even) of the float32 whose bit pattern is `x`. */
function halfBitsOfFloatBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero) in half precision: value = m * 2^-24 with m = full mantissa >> shift.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (rem > half || (rem === half && (r & 1) === 1) ? r + 1 : r);
  }
  const r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and 0x7bff + 1 = Infinity).
  return sign | (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1) ? r + 1 : r);
}

/** The float16 bit pattern nearest to `value` (ties to even). */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  return halfBitsOfFloatBits(u32[0]);
}

let table: Float32Array | null = null;
let tableBits: Int32Array | null = null;

function halfTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m === 0 ? s * Infinity : NaN;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  table = t;
  tableBits = new Int32Array(t.buffer);
  return t;
}

/** The float32 value of a float16 bit pattern (exact). */
export function float16BitsToFloat32(bits: number): number {
  return halfTable()[bits & 0xffff];
}

/** Convert `src` to float16 bits into `dst` (same length). */
export function float32ArrayToFloat16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (dst.length !== src.length) throw new Error("float32ArrayToFloat16: length mismatch");
  // Read the float bits through a Uint32 view of the same memory (no per-element scratch copy).
  const bits = src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, src.length) : new Uint32Array(src.slice().buffer);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const exp = (x >>> 23) & 0xff;
    // fast path: results that are normal halves (the common case for embeddings)
    if (exp > 112 && exp < 143) {
      const mant = x & 0x7fffff;
      const r = ((exp - 112) << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      dst[i] = ((x >>> 16) & 0x8000) | (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1) ? r + 1 : r);
    } else {
      dst[i] = halfBitsOfFloatBits(x);
    }
  }
  return dst;
}

/**
 * Convert float16 bits to float32 into `dst` (same length). The 64 K table holds the float32 BIT
 * PATTERNS and the copy runs on Int32 views: V8 then moves 32-bit integers instead of widening
 * each float32 to a double and back, which is ~2-3x faster (>= 1 GB/s of float16 read on one
 * core; `npm run bench -- float16`).
 */
export function float16ArrayToFloat32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (dst.length !== src.length) throw new Error("float16ArrayToFloat32: length mismatch");
  halfTable();
  const t = tableBits as Int32Array;
  const out = new Int32Array(dst.buffer, dst.byteOffset, dst.length);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = t[src[i]];
  return dst;
}
