import type { ImageRecord } from "../types";
import { readDicom, storedValueHistogram, toPresentationUint16 } from "../dicom";
import type { PresentationImage } from "../preprocess/preprocess";

/**
 * Decode one dataset image to presentation values through lib/dicom (rescale, VOI, MONOCHROME1
 * inverted, padding set to 0), plus linear min-max values for the mask (the display window may
 * clip the skin line to black). The laterality comes from the dataset table, else the DICOM tag;
 * preprocessing confirms it with column sums either way. (Same as preprocessImage, but the
 * table's laterality wins.) Both as 16-bit values (toPresentationUint16: the numbers
 * preprocessing would make of toPresentation's, through one histogram of the stored values).
 */
export async function loadPresentation(record: ImageRecord): Promise<PresentationImage> {
  const img = await readDicom(record.filePath);
  const hist = storedValueHistogram(img);
  return {
    pixels: toPresentationUint16(img, {}, hist),
    maskPixels: toPresentationUint16(img, { voi: "minmax" }, hist),
    widthPx: img.columns,
    heightPx: img.rows,
    laterality: record.laterality ?? img.laterality,
    source: record.filePath,
  };
}
