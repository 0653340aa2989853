import type { TileRecord } from "../types";
import { cropTile } from "../tiling/crop";
import { resizeGrey16, type Grey16Image, type ResizeKernel } from "../preprocess/grey16";

/**
 * Tile -> encoder input: the one preparation the embed stage (lib/embed/run.ts) and the explain
 * stage (lib/explain) share, so that the tiles explained are the tiles the head was trained on.
 * A square 16-bit grey image (a global view, or a tile cut from the working image) is resized to
 * the encoder's input side with sharp when its side differs (kernel from the model's
 * preprocessor_config, "linear" when the encoder names none) and written as values / 65535 in
 * [0, 1] into a packed count x S x S batch.
 */

/** What the preparation needs to know about an encoder (lib/embed's Encoder satisfies it). */
export interface EncoderInputSpec {
  /** Side S of the square input the encoder takes. */
  readonly inputSizePx: number;
  /** Kernel for resizing an input of another size to S (default "linear"). */
  readonly resampleKernel?: ResizeKernel;
}

/** Write a square 16-bit grey image as encoder input (S x S values in [0, 1]) into `out` at `offset`. */
export async function writeEncoderInput(img: Grey16Image, enc: EncoderInputSpec, out: Float32Array, offset: number): Promise<void> {
  const S = enc.inputSizePx;
  const pixels = img.widthPx === S && img.heightPx === S ? img.pixels : await resizeGrey16(img, S, S, enc.resampleKernel ?? "linear");
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i] / 65535;
}

/** Cut `tile` out of the square working image and write it as encoder input into `out` at `offset`. */
export async function writeTileEncoderInput(
  working: Uint16Array,
  workingSizePx: number,
  tile: Pick<TileRecord, "xPx" | "yPx" | "sizePx">,
  enc: EncoderInputSpec,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const crop = cropTile(working, workingSizePx, tile);
  await writeEncoderInput({ pixels: crop, widthPx: tile.sizePx, heightPx: tile.sizePx }, enc, out, offset);
}
