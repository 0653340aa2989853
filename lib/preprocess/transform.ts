import type { BoxPx, ImageTransform, LesionBox } from "../types";

/**
 * Exact mapping between the original DICOM pixel frame and the working frame.
 *
 * Coordinates are continuous with pixel i covering [i, i + 1) (a pixel centre is i + 0.5), so
 * box edges map to box edges. The chain original -> working is:
 *   flip (x -> originalWidthPx - x when `flipped`), crop (minus crop.x0 / crop.y0),
 *   pad (plus padXPx / padYPx, inside the square of side squareSizePx), scale (x `scale`).
 * Every step is affine, so the inverse is exact up to floating point.
 */

export interface PointPx {
  xPx: number;
  yPx: number;
}

function checkTransform(t: ImageTransform): void {
  if (!(t.scale > 0) || !(t.squareSizePx > 0)) throw new Error(`ImageTransform: bad scale ${t.scale} / square ${t.squareSizePx}`);
}

export function originalToWorking(pt: PointPx, t: ImageTransform): PointPx {
  checkTransform(t);
  const xf = t.flipped ? t.originalWidthPx - pt.xPx : pt.xPx;
  return {
    xPx: (xf - t.crop.x0 + t.padXPx) * t.scale,
    yPx: (pt.yPx - t.crop.y0 + t.padYPx) * t.scale,
  };
}

export function workingToOriginal(pt: PointPx, t: ImageTransform): PointPx {
  checkTransform(t);
  const xf = pt.xPx / t.scale - t.padXPx + t.crop.x0;
  return {
    xPx: t.flipped ? t.originalWidthPx - xf : xf,
    yPx: pt.yPx / t.scale - t.padYPx + t.crop.y0,
  };
}

function boxFromCorners(a: PointPx, b: PointPx): BoxPx {
  return {
    x0: Math.min(a.xPx, b.xPx),
    y0: Math.min(a.yPx, b.yPx),
    x1: Math.max(a.xPx, b.xPx),
    y1: Math.max(a.yPx, b.yPx),
  };
}

export function boxOriginalToWorking(box: BoxPx, t: ImageTransform): BoxPx {
  return boxFromCorners(originalToWorking({ xPx: box.x0, yPx: box.y0 }, t), originalToWorking({ xPx: box.x1, yPx: box.y1 }, t));
}

export function boxWorkingToOriginal(box: BoxPx, t: ImageTransform): BoxPx {
  return boxFromCorners(workingToOriginal({ xPx: box.x0, yPx: box.y0 }, t), workingToOriginal({ xPx: box.x1, yPx: box.y1 }, t));
}

/** Clip a box to [0, sizePx]^2; null when nothing is left. */
export function clipBox(box: BoxPx, sizePx: number): BoxPx | null {
  const c = {
    x0: Math.max(0, box.x0),
    y0: Math.max(0, box.y0),
    x1: Math.min(sizePx, box.x1),
    y1: Math.min(sizePx, box.y1),
  };
  return c.x1 > c.x0 && c.y1 > c.y0 ? c : null;
}

/** Map lesion boxes from the original frame into the working frame (clipped to the working
 * image; lesions entirely outside the crop are dropped). */
export function lesionsToWorking(lesions: readonly LesionBox[], t: ImageTransform): LesionBox[] {
  const out: LesionBox[] = [];
  for (const l of lesions) {
    const b = clipBox(boxOriginalToWorking(l, t), t.workingSizePx);
    if (b) out.push({ ...l, ...b });
  }
  return out;
}

/**
 * The transform for a crop (in the flipped frame) placed in a square: the breast stays against
 * the left edge (padXPx = 0, padding on the right) and is centred vertically.
 */
export function makeTransform(opts: {
  originalWidthPx: number;
  originalHeightPx: number;
  flipped: boolean;
  crop: BoxPx;
  workingSizePx: number;
  /** Breast in the top-left corner (padding below), as the authors' preprocessing; default: centred vertically. */
  alignTop?: boolean;
}): ImageTransform {
  const w = opts.crop.x1 - opts.crop.x0;
  const h = opts.crop.y1 - opts.crop.y0;
  if (!(w > 0 && h > 0)) throw new Error(`makeTransform: empty crop ${JSON.stringify(opts.crop)}`);
  const squareSizePx = Math.max(w, h);
  return {
    originalWidthPx: opts.originalWidthPx,
    originalHeightPx: opts.originalHeightPx,
    flipped: opts.flipped,
    crop: { ...opts.crop },
    squareSizePx,
    padXPx: 0,
    padYPx: opts.alignTop ? 0 : Math.floor((squareSizePx - h) / 2),
    workingSizePx: opts.workingSizePx,
    scale: opts.workingSizePx / squareSizePx,
  };
}
