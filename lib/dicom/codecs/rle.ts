/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header (segment count + 15 offsets), then one
 * PackBits segment per byte plane, most significant plane first. Hand-written: it is small and
 * no maintained npm decoder/encoder fits (the cornerstone packages only ship it inside a browser
 * image loader).
 */

/** PackBits-encode one row of bytes, appending to `out` (a plain array for simplicity). */
function packBitsRow(src: Uint8Array, start: number, end: number, out: number[]): void {
  let i = start;
  while (i < end) {
    // length of the replicate run starting at i
    let run = 1;
    while (i + run < end && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 3 || (run === 2 && i + run >= end)) {
      out.push((257 - run) & 0xff, src[i]); // -run+1 as a signed byte
      i += run;
      continue;
    }
    // literal run: up to the next run of 3 equal bytes
    let litEnd = i;
    while (litEnd < end && litEnd - i < 128) {
      if (litEnd + 2 < end && src[litEnd] === src[litEnd + 1] && src[litEnd] === src[litEnd + 2]) break;
      litEnd++;
    }
    if (litEnd === i) litEnd = i + 1;
    out.push(litEnd - i - 1);
    for (let k = i; k < litEnd; k++) out.push(src[k]);
    i = litEnd;
  }
}

/**
 * Encode one frame of `bytesPerSample`-byte samples (1 or 2), given as little-endian bytes of
 * rows x columns samples. Returns the RLE frame (header + segments).
 */
export function encodeRleFrame(samplesLe: Uint8Array, rows: number, columns: number, bytesPerSample: number): Uint8Array {
  const nSeg = bytesPerSample;
  const segments: Uint8Array[] = [];
  const plane = new Uint8Array(rows * columns);
  for (let s = 0; s < nSeg; s++) {
    const byteIndex = bytesPerSample - 1 - s; // most significant byte first
    for (let p = 0; p < plane.length; p++) plane[p] = samplesLe[p * bytesPerSample + byteIndex];
    const out: number[] = [];
    for (let r = 0; r < rows; r++) packBitsRow(plane, r * columns, (r + 1) * columns, out);
    if (out.length % 2) out.push(0x80); // pad with a no-op byte to even length
    segments.push(Uint8Array.from(out));
  }
  const total = 64 + segments.reduce((a, b) => a + b.length, 0);
  const frame = new Uint8Array(total);
  const dv = new DataView(frame.buffer);
  dv.setUint32(0, nSeg, true);
  let off = 64;
  segments.forEach((seg, i) => {
    dv.setUint32(4 + 4 * i, off, true);
    frame.set(seg, off);
    off += seg.length;
  });
  return frame;
}

/**
 * Decode one RLE frame into little-endian samples (`bytesPerSample` bytes each). Throws a plain
 * Error (the caller adds the file name) on a malformed header or segments that decode short.
 */
export function decodeRleFrame(frame: Uint8Array, rows: number, columns: number, bytesPerSample: number): Uint8Array {
  if (frame.length < 64) throw new Error(`RLE frame is ${frame.length} bytes, shorter than its 64-byte header`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nSeg = dv.getUint32(0, true);
  if (nSeg !== bytesPerSample) {
    throw new Error(`RLE header has ${nSeg} segments, expected ${bytesPerSample} for one ${8 * bytesPerSample}-bit sample per pixel`);
  }
  const n = rows * columns;
  const out = new Uint8Array(n * bytesPerSample);
  for (let s = 0; s < nSeg; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < nSeg ? dv.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start) {
      throw new Error(`RLE segment ${s + 1} has offsets ${start}..${end} outside the ${frame.length}-byte frame`);
    }
    const byteIndex = bytesPerSample - 1 - s;
    let p = 0; // pixel index
    let i = start;
    while (p < n && i < end) {
      const h = frame[i++];
      if (h < 128) {
        const count = h + 1;
        if (i + count > end) throw new Error(`RLE segment ${s + 1}: literal run past the end of the segment`);
        const take = Math.min(n - p, count);
        for (let k = 0; k < take; k++) out[(p + k) * bytesPerSample + byteIndex] = frame[i + k];
        p += take;
        i += count;
      } else if (h > 128) {
        if (i >= end) throw new Error(`RLE segment ${s + 1}: replicate run past the end of the segment`);
        const count = 257 - h;
        const value = frame[i++];
        const stop = Math.min(n, p + count);
        for (; p < stop; p++) out[p * bytesPerSample + byteIndex] = value;
      }
      // h === 128: no-op
    }
    if (p < n) throw new Error(`RLE segment ${s + 1} decodes to ${p} bytes, expected ${n}`);
  }
  return out;
}
