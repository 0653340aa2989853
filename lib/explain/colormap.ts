/**
 * The "jet" colour map as a 256-entry RGB lookup table, written by hand from its piecewise-linear
 * definition (blue -> cyan -> yellow -> red): r = clip(1.5 - |4v - 3|), g = clip(1.5 - |4v - 2|),
 * b = clip(1.5 - |4v - 1|) for v in [0, 1]. Hand-written: no colour-map package is installed.
 */
export const JET_LUT: Uint8Array = buildJet();

function buildJet(): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  const c = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, v)));
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    lut[i * 3] = c(1.5 - Math.abs(4 * v - 3));
    lut[i * 3 + 1] = c(1.5 - Math.abs(4 * v - 2));
    lut[i * 3 + 2] = c(1.5 - Math.abs(4 * v - 1));
  }
  return lut;
}

/** RGB of a value in [0, 1] (clipped; NaN -> 0). */
export function jet(v: number): [number, number, number] {
  const i = Number.isFinite(v) ? Math.round(Math.min(1, Math.max(0, v)) * 255) : 0;
  return [JET_LUT[i * 3], JET_LUT[i * 3 + 1], JET_LUT[i * 3 + 2]];
}
