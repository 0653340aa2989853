import { toPresentationUint16Many, type DicomImage } from "../dicom";
import type { Laterality } from "../types";
import { preprocessPixels, type PreprocessOptions, type PreprocessResult } from "./preprocess";

/**
 * A decoded DICOM's 16-bit presentation values (VOI window, MONOCHROME1 inverted, padding 0:
 * the values preprocessPixels would make of toPresentation's) and its linear min-max values for
 * the mask, in one pass over the pixels. The two are the same array when they are equal.
 */
export function presentationAndMaskValues(img: DicomImage): { pixels: Uint16Array; maskPixels: Uint16Array } {
  const [pixels, maskPixels] = toPresentationUint16Many(img, [{}, { voi: "minmax" }]);
  return { pixels, maskPixels };
}

/**
 * Preprocess a decoded DICOM: the working image from the presentation values (VOI window,
 * MONOCHROME1 inverted, padding 0), orientation and mask from linear min-max values (a display
 * window may clip the skin line to black). The laterality defaults to the DICOM's tag.
 */
export async function preprocessImage(img: DicomImage, opts: PreprocessOptions & { laterality?: Laterality | null }): Promise<PreprocessResult> {
  return preprocessPixels(
    {
      ...presentationAndMaskValues(img),
      widthPx: img.columns,
      heightPx: img.rows,
      laterality: opts.laterality !== undefined ? opts.laterality : img.laterality,
      source: img.file,
    },
    opts,
  );
}
