import { storedValueHistogram, toPresentationUint16, type DicomImage } from "../dicom";
import type { Laterality } from "../types";
import { preprocessPixels, type PreprocessOptions, type PreprocessResult } from "./preprocess";

/**
 * Preprocess a decoded DICOM: the working image from the presentation values (VOI window,
 * MONOCHROME1 inverted, padding 0), orientation and mask from linear min-max values (a display
 * window may clip the skin line to black). The laterality defaults to the DICOM's tag.
 */
export async function preprocessImage(img: DicomImage, opts: PreprocessOptions & { laterality?: Laterality | null }): Promise<PreprocessResult> {
  const hist = storedValueHistogram(img);
  return preprocessPixels(
    {
      // 16-bit directly: the values preprocessPixels would make of toPresentation's
      pixels: toPresentationUint16(img, {}, hist),
      maskPixels: toPresentationUint16(img, { voi: "minmax" }, hist),
      widthPx: img.columns,
      heightPx: img.rows,
      laterality: opts.laterality !== undefined ? opts.laterality : img.laterality,
      source: img.file,
    },
    opts,
  );
}
