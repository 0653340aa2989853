import sharp, { type Sharp } from "sharp";
import type { DicomImage } from "./types";
import { toPresentation, type PresentationOptions } from "./voi";

export interface PreviewOptions extends PresentationOptions {
  /** 8 (default) or 16 bits per pixel. */
  bits?: 8 | 16;
  /** Downscale (keeping the aspect ratio) so the longer side is at most this many pixels. */
  maxSidePx?: number;
}

/** A windowed greyscale PNG of the image (presentation values: bright = dense). */
export async function previewPng(img: DicomImage, opts: PreviewOptions = {}): Promise<Uint8Array> {
  const y = toPresentation(img, opts);
  const bits = opts.bits ?? 8;
  const raw = { width: img.columns, height: img.rows, channels: 1 as const };
  let pipeline: Sharp;
  if (bits === 16) {
    const px = new Uint16Array(y.length);
    for (let i = 0; i < y.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, y[i])) * 65535);
    pipeline = sharp(px, { raw }).toColourspace("grey16");
  } else {
    const px = Buffer.alloc(y.length);
    for (let i = 0; i < y.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, y[i])) * 255);
    pipeline = sharp(px, { raw }).toColourspace("b-w");
  }
  if (opts.maxSidePx && Math.max(img.rows, img.columns) > opts.maxSidePx) {
    pipeline = pipeline.resize({ width: opts.maxSidePx, height: opts.maxSidePx, fit: "inside", kernel: "lanczos3" });
  }
  return new Uint8Array(await pipeline.png({ compressionLevel: 6 }).toBuffer());
}
