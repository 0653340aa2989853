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

/**
 * A diverging blue-white-red colour map (256 entries): piecewise linear through the five colours
 * of ColorBrewer's RdBu end and mid points, white at 0.5. For signed maps: map 0 to 0.5 (e.g.
 * v -> 0.5 + 0.5 v / max|v|) so that white means "no contribution".
 */
export const DIVERGING_LUT: Uint8Array = buildDiverging();

function buildDiverging(): Uint8Array {
  const stops: [number, [number, number, number]][] = [
    [0, [33, 102, 172]],
    [0.25, [103, 169, 207]],
    [0.5, [247, 247, 247]],
    [0.75, [239, 138, 98]],
    [1, [178, 24, 43]],
  ];
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    let k = 0;
    while (k < stops.length - 2 && v > stops[k + 1][0]) k++;
    const [a, ca] = stops[k];
    const [b, cb] = stops[k + 1];
    const t = (v - a) / (b - a);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(ca[c] + t * (cb[c] - ca[c]));
  }
  return lut;
}

/** The 256-entry LUT of a colour map name. */
export function colourLut(name: "jet" | "diverging"): Uint8Array {
  return name === "diverging" ? DIVERGING_LUT : JET_LUT;
}
