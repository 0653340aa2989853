import type { ImageRecord } from "../types";
import { readDicom } from "../dicom";
import { presentationAndMaskValues } from "../preprocess/dicomImage";
import type { PresentationImage } from "../preprocess/preprocess";

/**
 * Decode one dataset image to presentation values through lib/dicom (rescale, VOI, MONOCHROME1
 * inverted, padding set to 0), plus linear min-max values for the mask (the display window may
 * clip the skin line to black). The laterality comes from the dataset table, else the DICOM tag;
 * preprocessing confirms it with column sums either way. (Same as preprocessImage, but the
 * table's laterality wins.) Both as 16-bit values (presentationAndMaskValues).
 */
export async function loadPresentation(record: ImageRecord): Promise<PresentationImage> {
  const img = await readDicom(record.filePath);
  return {
    ...presentationAndMaskValues(img),
    widthPx: img.columns,
    heightPx: img.rows,
    laterality: record.laterality ?? img.laterality,
    source: record.filePath,
  };
}
