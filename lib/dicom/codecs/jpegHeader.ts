/**
 * Find the frame header (SOFn, or SOF55 for JPEG-LS) of a JPEG-family codestream and read its
 * precision, size and component count. Used to reject a frame whose header disagrees with the
 * dataset before a decoder allocates memory for it.
 */
export interface JpegFrameHeader {
  marker: number;
  precision: number;
  rows: number;
  columns: number;
  components: number;
}

export function readJpegFrameHeader(data: Uint8Array): JpegFrameHeader {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) throw new Error("JPEG frame does not start with an SOI marker");
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) throw new Error(`JPEG marker expected at byte ${i}`);
    const marker = data[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    const len = (data[i + 2] << 8) | data[i + 3];
    const isSof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (isSof) {
      if (i + 10 > data.length || len < 8) throw new Error("JPEG frame header is truncated");
      return {
        marker: 0xff00 | marker,
        precision: data[i + 4],
        rows: (data[i + 5] << 8) | data[i + 6],
        columns: (data[i + 7] << 8) | data[i + 8],
        components: data[i + 9],
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    if (len < 2) throw new Error(`JPEG segment at byte ${i} has length ${len}`);
    i += 2 + len;
  }
  throw new Error("JPEG codestream has no frame header");
}
