import type { Laterality } from "../types";

/**
 * Orientation: the breast must touch the LEFT edge of the working image.
 *
 * Tag rule (mammography display convention): a left breast is stored with its chest wall on the
 * left edge, a right breast with its chest wall on the right edge, so "R" means flip. The tag is
 * confirmed by column sums (the half of the image holding more intensity is the breast side);
 * when the two disagree and the sums are decisive, the sums win and the disagreement is recorded.
 */
export interface OrientationDecision {
  flip: boolean;
  /** What decided: the tag alone, the sums alone (no tag), sums against the tag, or a default. */
  source: "tag+sums" | "tag" | "sums" | "sums-over-tag" | "default";
  /** Flip suggested by the laterality tag (null: no tag). */
  flipFromTag: boolean | null;
  /** Flip suggested by the column sums (null: inconclusive). */
  flipFromSums: boolean | null;
  /** (left - right) / (left + right) of intensity, in [-1, 1]. */
  sumsBalance: number;
}

/** Relative left/right imbalance below which the column sums are called inconclusive. */
export const SUMS_DECISIVE_BALANCE = 0.1;

export function decideOrientation(
  pixels: ArrayLike<number>,
  widthPx: number,
  heightPx: number,
  laterality: Laterality | null | undefined,
): OrientationDecision {
  let left = 0;
  let right = 0;
  const half = widthPx / 2;
  for (let y = 0; y < heightPx; y++) {
    const row = y * widthPx;
    for (let x = 0; x < widthPx; x++) {
      const v = pixels[row + x];
      // The middle column of an odd width counts for neither side.
      if (x + 0.5 < half) left += v;
      else if (x + 0.5 > half) right += v;
    }
  }
  const total = left + right;
  const sumsBalance = total > 0 ? (left - right) / total : 0;
  const flipFromSums = Math.abs(sumsBalance) >= SUMS_DECISIVE_BALANCE ? sumsBalance < 0 : null;
  const flipFromTag = laterality === "R" ? true : laterality === "L" ? false : null;
  if (flipFromTag === null) {
    return flipFromSums === null
      ? { flip: false, source: "default", flipFromTag, flipFromSums, sumsBalance }
      : { flip: flipFromSums, source: "sums", flipFromTag, flipFromSums, sumsBalance };
  }
  if (flipFromSums === null) return { flip: flipFromTag, source: "tag", flipFromTag, flipFromSums, sumsBalance };
  if (flipFromSums === flipFromTag) return { flip: flipFromTag, source: "tag+sums", flipFromTag, flipFromSums, sumsBalance };
  return { flip: flipFromSums, source: "sums-over-tag", flipFromTag, flipFromSums, sumsBalance };
}
