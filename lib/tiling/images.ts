import * as path from "node:path";
import type { ManifestImage } from "../types";
import { decodeGrey16Png, decodeMaskPng, type Grey16Image } from "../preprocess/grey16";

/** Read an image's 16-bit working PNG (manifestDir = the manifest's folder). */
export async function readWorkingImage(manifestDir: string, img: ManifestImage): Promise<Grey16Image> {
  return decodeGrey16Png(path.join(manifestDir, img.workingImageFile));
}

/** Read an image's 16-bit global view PNG. */
export async function readGlobalView(manifestDir: string, img: ManifestImage): Promise<Grey16Image> {
  return decodeGrey16Png(path.join(manifestDir, img.globalViewFile));
}

/** Read an image's mask (0/1) in the working frame; throws when the manifest has none. */
export async function readMask(manifestDir: string, img: ManifestImage): Promise<Uint8Array> {
  if (!img.maskFile) throw new Error(`${img.imageId}: manifest image has no maskFile`);
  return (await decodeMaskPng(path.join(manifestDir, img.maskFile))).mask;
}
