/** The one error type lib/dicom throws for bad input: the message always starts with the file name. */
export class DicomError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "DicomError";
  }
}
