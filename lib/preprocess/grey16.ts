import sharp from "sharp";
import { enlargeBilinear16 } from "./bilinear";
import { encodeGrey8PngZ } from "./png";

/**
 * 16-bit grey image I/O and resampling through sharp (libvips), except a "linear" enlargement
 * (./bilinear.ts) and writing masks (./png.ts). Pixels are row-major
 * Uint16Array, one channel; [0, 1] intensity = value / 65535.
 */

/** A 16-bit single-channel image. */
export interface Grey16Image {
  pixels: Uint16Array;
  widthPx: number;
  heightPx: number;
}

/** Resampling kernel. "linear" is a triangle filter widened by the shrink factor when shrinking
 * (libvips: an area-like average without the overshoot of lanczos), and centre-aligned bilinear
 * interpolation when enlarging both sides (./bilinear.ts). The others are libvips's. */
export type ResizeKernel = "nearest" | "linear" | "cubic" | "lanczos3";

function toUint16(buf: Buffer): Uint16Array {
  // A view of sharp's output when it is 2-byte aligned (the Buffer is ours alone: sharp makes a
  // new one per call); a Buffer at an odd byte offset (a pooled one) is copied value by value.
  if (buf.byteOffset % 2 === 0) return new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2);
  const out = new Uint16Array(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readUInt16LE(i * 2);
  return out;
}

function checkSize(pixels: Uint16Array, widthPx: number, heightPx: number, what: string): void {
  if (!Number.isInteger(widthPx) || !Number.isInteger(heightPx) || widthPx <= 0 || heightPx <= 0)
    throw new Error(`${what}: bad image size ${widthPx} x ${heightPx}`);
  if (pixels.length !== widthPx * heightPx)
    throw new Error(`${what}: ${pixels.length} pixels for a ${widthPx} x ${heightPx} image`);
}

/** "linear" enlargement of both sides: ./bilinear.ts, not sharp. */
function enlargesLinear(img: Grey16Image, outWidthPx: number, outHeightPx: number, kernel: ResizeKernel): boolean {
  return kernel === "linear" && outWidthPx >= img.widthPx && outHeightPx >= img.heightPx;
}

/** Resize a 16-bit grey image (exact output size, no aspect fitting): sharp, or ./bilinear.ts for a "linear" enlargement. */
export async function resizeGrey16(
  img: Grey16Image,
  outWidthPx: number,
  outHeightPx: number,
  kernel: ResizeKernel = "linear",
): Promise<Uint16Array> {
  checkSize(img.pixels, img.widthPx, img.heightPx, "resizeGrey16");
  if (outWidthPx === img.widthPx && outHeightPx === img.heightPx) return img.pixels.slice();
  if (enlargesLinear(img, outWidthPx, outHeightPx, kernel)) return enlargeBilinear16(img.pixels, img.widthPx, img.heightPx, outWidthPx, outHeightPx);
  const { data } = await sharp(img.pixels, { raw: { width: img.widthPx, height: img.heightPx, channels: 1 } })
    .resize(outWidthPx, outHeightPx, { fit: "fill", kernel })
    .toColourspace("grey16")
    .raw({ depth: "ushort" })
    .toBuffer({ resolveWithObject: true });
  return toUint16(data);
}

/**
 * Encode a 16-bit grey PNG, no row filter (sharp's default), zlib level `compressionLevel`
 * (default 1). On 16-bit mammograms the noise in the low bits leaves little to compress: a
 * 4096 px working image is ~22 MB at level 1, ~20 MB at level 3 and 33.6 MB at level 0 (stored),
 * and level 1 encodes in about 60% of level 3's time, level 0 in about a fifth of level 1's.
 * The pixels are the same at any level (PNG is lossless).
 */
export async function encodeGrey16Png(img: Grey16Image, opts: { compressionLevel?: number } = {}): Promise<Buffer> {
  checkSize(img.pixels, img.widthPx, img.heightPx, "encodeGrey16Png");
  return sharp(img.pixels, { raw: { width: img.widthPx, height: img.heightPx, channels: 1 } })
    .toColourspace("grey16")
    .png({ compressionLevel: opts.compressionLevel ?? 1 })
    .toBuffer();
}

/**
 * Row y of a 0/1 (any non-zero) mask as 0/255 bytes into `dst`, four bytes at a time where the
 * row's words are aligned and hold only 0s and 1s.
 */
function maskRowBytes(mask: Uint8Array, start: number, n: number, dst: Uint8Array): void {
  let i = 0;
  if ((mask.byteOffset + start) % 4 === 0 && dst.byteOffset % 4 === 0) {
    const words = n >> 2;
    const src = new Uint32Array(mask.buffer, mask.byteOffset + start, words);
    const out = new Uint32Array(dst.buffer, dst.byteOffset, words);
    for (let w = 0; w < words; w++) {
      const v = src[w];
      if ((v & 0xfefefefe) === 0) out[w] = Math.imul(v, 255);
      else for (let k = 4 * w; k < 4 * w + 4; k++) dst[k] = mask[start + k] ? 255 : 0;
    }
    i = words << 2;
  }
  for (; i < n; i++) dst[i] = mask[start + i] ? 255 : 0;
}

/** Encode an 8-bit grey PNG of a 0/1 mask (stored as 0/255; ./png.ts, zlib run-length strategy). */
export async function encodeMaskPng(mask: Uint8Array, widthPx: number, heightPx: number): Promise<Buffer> {
  if (mask.length !== widthPx * heightPx) throw new Error(`encodeMaskPng: ${mask.length} values for a ${widthPx} x ${heightPx} mask`);
  return encodeGrey8PngZ(widthPx, heightPx, (y, dst) => maskRowBytes(mask, y * widthPx, widthPx, dst));
}

/** Decode a mask PNG written by encodeMaskPng back to 0/1. */
export async function decodeMaskPng(source: string | Buffer): Promise<{ mask: Uint8Array; widthPx: number; heightPx: number }> {
  const what = typeof source === "string" ? source : "mask PNG";
  try {
    const { data, info } = await sharp(source).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const mask = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) mask[i] = data[i] >= 128 ? 1 : 0;
    return { mask, widthPx: info.width, heightPx: info.height };
  } catch (e) {
    throw new Error(`${what}: cannot decode mask PNG (${(e as Error).message})`);
  }
}

/** Decode a 16-bit grey PNG (file path or bytes) to its exact 16-bit values. */
export async function decodeGrey16Png(source: string | Buffer): Promise<Grey16Image> {
  const what = typeof source === "string" ? source : "16-bit PNG";
  try {
    const { data, info } = await sharp(source)
      .toColourspace("grey16")
      .raw({ depth: "ushort" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected 1 channel, got ${info.channels}`);
    return { pixels: toUint16(data), widthPx: info.width, heightPx: info.height };
  } catch (e) {
    throw new Error(`${what}: cannot decode 16-bit grey PNG (${(e as Error).message})`);
  }
}
