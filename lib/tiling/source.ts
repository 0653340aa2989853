import type { ImageRecord } from "../types";
import type { PresentationImage } from "../preprocess/preprocess";

/** Decode one dataset image to presentation values (through lib/dicom). */
export async function loadPresentation(record: ImageRecord): Promise<PresentationImage> {
  throw new Error(`${record.filePath}: DICOM decoding (lib/dicom) not wired yet`);
}
