// The public API of lib/dicom: read, write, present DICOM mammograms.
export { DicomError } from "./errors";
export { TRANSFER_SYNTAX_UIDS, TRANSFER_SYNTAX_NAMES, WRITABLE_TRANSFER_SYNTAXES, MG_FOR_PRESENTATION_SOP_CLASS } from "./uids";
export type { TransferSyntaxName, WritableTransferSyntax } from "./uids";
export type { DicomElement, DicomVr } from "./elements";
export { writeDicom, encodeDicom, formatDs } from "./write";
export type { DicomWriteInput, DicomWriteTags } from "./write";
export type { DicomImage } from "./types";
export { readDicom, readDicomBytes, readDicomTags, readDicomTagsBytes, MAX_PIXELS } from "./read";
export { applyWindow, applyVoiLut, isValidWindow, modalityValues, chooseVoi, toPresentation, toPresentationUint16, toPresentationUint16Many, presentationToUint16, storedValueHistogram, paddingMask } from "./voi";
export type { VoiLutFunction, Window, PresentationOptions, VoiChoice } from "./voi";
export { encodeNpy, writeNpy } from "./npy";
export type { NpyArray } from "./npy";
export { previewPng } from "./preview";
export type { PreviewOptions } from "./preview";
