import type { ImageRecord } from "../types";
import { readDicom, toPresentation } from "../dicom";
import type { PresentationImage } from "../preprocess/preprocess";

/**
 * Decode one dataset image to presentation values through lib/dicom (rescale, VOI, MONOCHROME1
 * inverted, padding set to 0), plus linear values for the mask. The laterality comes from the dataset table, else the DICOM tag;
 * preprocessing confirms it with column sums either way.
 */
export async function loadPresentation(record: ImageRecord): Promise<PresentationImage> {
  const img = await readDicom(record.filePath);
  const pixels = toPresentation(img);
  // Linear values (min-max over non-padding pixels, MONOCHROME1 inverted) for the mask: the
  // display window may clip the skin line to black.
  const maskPixels = toPresentation(img, { voi: "minmax" });
  return {
    pixels,
    maskPixels,
    widthPx: img.columns,
    heightPx: img.rows,
    laterality: record.laterality ?? img.laterality,
    source: record.filePath,
  };
}
