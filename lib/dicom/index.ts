// The public API of lib/dicom (filled by its stage).
export {};
