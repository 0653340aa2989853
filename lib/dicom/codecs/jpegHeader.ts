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
  /** JPEG 2000 only: the first component's samples are signed (Ssiz bit 7). */
  signed?: boolean;
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

/**
 * The SIZ segment of a JPEG 2000 codestream (ITU-T T.800 A.5.1): image size and the first
 * component's precision. A JP2 file (boxes) is searched for its codestream first.
 */
export function readJ2kSize(data: Uint8Array): JpegFrameHeader {
  let i = 0;
  if (!(data.length >= 2 && data[0] === 0xff && data[1] === 0x4f)) {
    // JP2 wrapper: find the contiguous codestream (SOC + SIZ)
    i = -1;
    for (let k = 0; k + 3 < data.length && k < 4096; k++) {
      if (data[k] === 0xff && data[k + 1] === 0x4f && data[k + 2] === 0xff && data[k + 3] === 0x51) {
        i = k;
        break;
      }
    }
    if (i < 0) throw new Error("JPEG 2000 frame does not start with an SOC marker");
  }
  const s = i + 2;
  if (s + 42 > data.length || data[s] !== 0xff || data[s + 1] !== 0x51) throw new Error("JPEG 2000 codestream has no SIZ segment after SOC");
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const xsiz = dv.getUint32(s + 6);
  const ysiz = dv.getUint32(s + 10);
  const xo = dv.getUint32(s + 14);
  const yo = dv.getUint32(s + 18);
  const csiz = dv.getUint16(s + 38);
  const ssiz = data[s + 40];
  return { marker: 0xff51, precision: (ssiz & 0x7f) + 1, rows: ysiz - yo, columns: xsiz - xo, components: csiz, signed: (ssiz & 0x80) !== 0 };
}
