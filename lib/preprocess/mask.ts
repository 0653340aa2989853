import { dilate, erode, fillHoles, gaussianBlur, largestComponent, otsuThresholdBin, otsuThresholdBins3, valueHistogram } from "./morphology";

/**
 * Breast mask on a small copy of the image (the caller downsizes it, e.g. to a max side of 512).
 *
 * Steps (after the authors): Gaussian blur with a kernel of ~size/100, Otsu threshold, erosion
 * by ~size/500, dilation, largest 8-connected component, holes filled.
 *
 * Deviation: the authors dilate by ~size/10. That grows the mask by a tenth of the image side
 * all around the skin line (IoU against the true silhouette drops to ~0.7-0.8 on our phantoms),
 * so by default we dilate by the erosion radius (an opening: removes thin bright lines such as
 * labels and restores the eroded border). `dilateFraction` restores the authors' setting.
 *
 * Deviation: two-class Otsu on a dense breast splits fatty from dense tissue (the faint
 * periphery falls out of the mask: IoU ~0.85 on density D phantoms). By default we use
 * three-class Otsu and keep the LOWER threshold (air | fatty | dense), which lands in the
 * air/tissue valley for every density; `otsuClasses: 2` gives the plain rule.
 */
export interface MaskParams {
  /** Gaussian kernel size as a fraction of the larger side (authors: 1/100). */
  blurFraction: number;
  /** Erosion radius as a fraction of the larger side (authors: 1/500). */
  erodeFraction: number;
  /** Dilation radius as a fraction of the larger side (authors: 1/10; default = erodeFraction). */
  dilateFraction: number;
  /** 2 = plain Otsu; 3 = three-class Otsu, lower threshold (default). */
  otsuClasses: 2 | 3;
}

export const DEFAULT_MASK_PARAMS: MaskParams = {
  blurFraction: 1 / 100,
  erodeFraction: 1 / 500,
  dilateFraction: 1 / 500,
  otsuClasses: 3,
};

export interface MaskResult {
  mask: Uint8Array;
  /** Otsu threshold on the blurred image, in the input's units. */
  threshold: number;
}

export function breastMask(
  pixels: ArrayLike<number>,
  widthPx: number,
  heightPx: number,
  params: MaskParams = DEFAULT_MASK_PARAMS,
): MaskResult {
  const size = Math.max(widthPx, heightPx);
  // Kernel size k (odd) -> sigma as OpenCV derives it from a kernel size.
  const k = Math.max(3, 2 * Math.floor((size * params.blurFraction) / 2) + 1);
  const sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
  const blurred = gaussianBlur(pixels, widthPx, heightPx, sigma);
  const { hist, edge } = valueHistogram(blurred, params.otsuClasses === 3 ? 256 : 1024);
  const threshold = edge(params.otsuClasses === 3 ? otsuThresholdBins3(hist)[0] : otsuThresholdBin(hist));
  let mask = new Uint8Array(blurred.length);
  for (let i = 0; i < mask.length; i++) mask[i] = blurred[i] >= threshold && blurred[i] > 0 ? 1 : 0;
  const er = Math.max(0, Math.round(size * params.erodeFraction));
  const di = Math.max(0, Math.round(size * params.dilateFraction));
  mask = erode(mask, widthPx, heightPx, er);
  mask = dilate(mask, widthPx, heightPx, di);
  mask = largestComponent(mask, widthPx, heightPx);
  mask = fillHoles(mask, widthPx, heightPx);
  return { mask, threshold };
}
