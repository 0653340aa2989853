import type { LesionBox } from "../types";
import { Rng } from "../util/rng";
import { type AnatomySpec, type MarginV3, alongSpicule, axillaryNodeCenter, drawAnatomy, drawCalcificationsV3, drawMassV3, emptyBox, forEllipsePixels, grow, paintMass, sampleLesionV3, smoothstep, type Box, suspiciousFindingKinds } from "./physics";
import { powerLawTexturePair } from "./texture";

/**
 * A synthetic mammogram phantom: one view of one breast, rendered in stored-value units
 * (MONOCHROME2 sense: dense tissue bright, air dark).
 *
 * Geometry is defined in a "canonical" frame with the chest wall on the LEFT image edge (x = 0)
 * and mirrored at the end when the chest wall is on the right. For each row y the breast runs
 * from the chest wall to the skin line at x = edge(y). Lesions are placed by breast-relative
 * coordinates shared by all views of a breast: a = fraction of the way from the chest wall to
 * the skin along the row (the nipple axis direction), v = signed fraction of the breast's
 * half-height. So a lesion sits at the same relative position along the nipple axis in CC and
 * MLO, as in real paired views.
 */

export type Density = "A" | "B" | "C" | "D";
export type ViewPosition = "CC" | "MLO" | "XCCL";
export type MassShape = "round" | "oval" | "spiculated";

/** Per-breast shape parameters (fractions of the image width W or height H). */
export interface BreastShape {
  /** Chest wall to nipple, fraction of W. */
  depthFrac: number;
  ccCenterFrac: number;
  ccHalfHeightFrac: number;
  mloCenterFrac: number;
  mloHalfHeightFrac: number;
  /** Width of the axillary tissue at the top row of the MLO, fraction of W. */
  mloTopWidthFrac: number;
  pectoralWidthFrac: number;
  pectoralHeightFrac: number;
  /** Phases of the small wobble of the skin line. */
  wobblePhase: [number, number];
}

export interface LesionSpec {
  kind: "mass" | "calcification";
  shape: MassShape | null;
  /** Diameter of a mass, or side of the region of a calcification cluster, in px at 1024 px height. */
  size1024Px: number;
  /** Relative position: fraction from chest wall to skin (0..1) and signed fraction of half-height. */
  a: number;
  v: number;
  /** Orientation of an oval mass and the phase of spicules (radians). */
  angleRad: number;
  /** Minor/major axis ratio for ovals (1 for round). */
  aspect: number;
  /** Peak added intensity, in fractions of the full range. */
  contrast: number;
  /** Number of specks (calcification cluster) or spicules (spiculated mass). */
  count: number;
  birads: number | null;
  /** Seed for the lesion's own fine detail (speck positions, spicule lengths): equal in every view. */
  detailSeed: number;
  /** Generator v3 (lib/data/physics.ts): physical sizes, partial-volume specks, margins. Absent in v2. */
  version?: 3;
  /** v3 masses: the margin that carries the malignancy (null for calcifications). */
  margin?: MarginV3 | null;
}

export interface BreastSpec {
  widthPx: number;
  heightPx: number;
  view: ViewPosition;
  /** Where the chest wall is in the image. */
  chestWallSide: "left" | "right";
  density: Density;
  shape: BreastShape;
  lesions: LesionSpec[];
  bitsStored: 12 | 14 | 16;
  /** A zero-mean unit-variance texture of widthPx x heightPx; made here when absent. */
  texture?: Float32Array;
  /** Generator v3: normal structures drawn in every breast (lib/data/physics.ts). */
  anatomy?: AnatomySpec[];
}

export interface RenderedBreast {
  /** Stored values, row-major, MONOCHROME2 sense (before any MONOCHROME1 inversion). */
  pixels: Uint16Array;
  widthPx: number;
  heightPx: number;
  /** 1 = breast (skin included). */
  breastMask: Uint8Array;
  /** 1 = pectoral muscle (MLO only; all zero otherwise). */
  pectoralMask: Uint8Array;
  /** Lesion boxes in the original pixel frame, [x0, x1) x [y0, y1). */
  lesions: LesionBox[];
}

const DENSE_FRACTION: Record<Density, number> = { A: 0.08, B: 0.25, C: 0.5, D: 0.75 };

export function sampleBreastShape(rng: Rng): BreastShape {
  return {
    depthFrac: rng.range(0.6, 0.82),
    ccCenterFrac: rng.range(0.46, 0.54),
    ccHalfHeightFrac: rng.range(0.34, 0.43),
    mloCenterFrac: rng.range(0.5, 0.58),
    mloHalfHeightFrac: rng.range(0.36, 0.41),
    mloTopWidthFrac: rng.range(0.3, 0.42),
    pectoralWidthFrac: rng.range(0.18, 0.28),
    pectoralHeightFrac: rng.range(0.3, 0.5),
    wobblePhase: [rng.range(0, 2 * Math.PI), rng.range(0, 2 * Math.PI)],
  };
}

/** Skin-line position edge(y) in the canonical frame (0 where the row holds no breast). */
export function edgeForView(shape: BreastShape, view: ViewPosition, widthPx: number, heightPx: number): Float64Array {
  const edge = new Float64Array(heightPx);
  const D = shape.depthFrac * widthPx;
  const [p1, p2] = shape.wobblePhase;
  for (let y = 0; y < heightPx; y++) {
    let e = 0;
    if (view === "MLO") {
      const cy = shape.mloCenterFrac * heightPx;
      const ry = shape.mloHalfHeightFrac * heightPx;
      if (y >= cy) {
        const u = (y - cy) / ry;
        e = Math.abs(u) < 1 ? D * Math.sqrt(1 - u * u) : 0;
      } else {
        const top = shape.mloTopWidthFrac * widthPx;
        const t = y / cy;
        e = top + (D - top) * Math.pow(Math.sin((Math.PI / 2) * t), 0.7);
      }
    } else {
      const cy = (view === "XCCL" ? shape.ccCenterFrac + 0.06 : shape.ccCenterFrac) * heightPx;
      const ry = shape.ccHalfHeightFrac * heightPx;
      const u = (y - cy) / ry;
      e = Math.abs(u) < 1 ? (view === "XCCL" ? 1.05 : 1) * D * Math.sqrt(1 - u * u) : 0;
    }
    const s = y / heightPx;
    if (e > 0) e *= 1 + 0.025 * Math.sin(7 * s + p1) + 0.015 * Math.sin(17 * s + p2);
    edge[y] = Math.min(widthPx, Math.max(0, e));
  }
  return edge;
}

/** Is (x, y) (canonical frame) inside the pectoral triangle of an MLO view? */
function pectoralDepth(shape: BreastShape, widthPx: number, heightPx: number, x: number, y: number): number {
  const pw = shape.pectoralWidthFrac * widthPx;
  const ph = shape.pectoralHeightFrac * heightPx;
  // slightly convex edge: x/pw + (y/ph)^1.2 < 1; returns a signed depth in px (positive inside)
  const yy = Math.min(1, y / ph);
  const xEdge = pw * (1 - Math.pow(yy, 1.2));
  return xEdge - x;
}

/** Lesion centre (canonical frame) for a view; null where it does not fit in the breast. */
export function lesionCenter(
  lesion: LesionSpec,
  shape: BreastShape,
  view: ViewPosition,
  widthPx: number,
  heightPx: number,
  edge: Float64Array,
): { x: number; y: number } | null {
  const scale = heightPx / 1024;
  const r = (lesion.size1024Px * scale) / 2;
  let cy: number;
  let ry: number;
  if (view === "MLO") {
    cy = shape.mloCenterFrac * heightPx - 0.04 * heightPx;
    ry = shape.mloHalfHeightFrac * heightPx;
  } else {
    cy = (view === "XCCL" ? shape.ccCenterFrac + 0.06 : shape.ccCenterFrac) * heightPx;
    ry = shape.ccHalfHeightFrac * heightPx;
  }
  const y = cy + lesion.v * ry * 0.8;
  const yi = Math.round(y);
  if (yi < 0 || yi >= heightPx) return null;
  const x = lesion.a * edge[yi];
  // margins: whole lesion inside the breast, clear of skin, chest wall and pectoral muscle
  // spicules reach up to ~2.4 r from the centre; keep most of them inside the breast too
  const margin = r * (lesion.shape === "spiculated" ? 1.9 : 1.3) + 4 * scale;
  for (const dy of [-margin, 0, margin]) {
    const yy = Math.round(y + dy);
    if (yy < 0 || yy >= heightPx) return null;
    if (edge[yy] - x < margin) return null;
  }
  if (x < margin) return null;
  if (view === "MLO" && pectoralDepth(shape, widthPx, heightPx, x, y) > -margin) return null;
  return { x, y };
}

/** Centre of a normal structure (canonical frame), or null where it does not fit in the view. */
function anatomyCenter(a: AnatomySpec, shape: BreastShape, view: ViewPosition, widthPx: number, heightPx: number, edge: Float64Array): { x: number; y: number } | null {
  const cy = view === "MLO" ? shape.mloCenterFrac * heightPx - 0.04 * heightPx : (view === "XCCL" ? shape.ccCenterFrac + 0.06 : shape.ccCenterFrac) * heightPx;
  const ry = (view === "MLO" ? shape.mloHalfHeightFrac : shape.ccHalfHeightFrac) * heightPx;
  const y = cy + a.v * ry * 0.8;
  const yi = Math.round(y);
  if (yi < 0 || yi >= heightPx || edge[yi] <= 0) return null;
  const x = a.kind === "vessel" ? 1 : a.a * edge[yi];
  if (a.kind === "island" || a.kind === "node") {
    const r = (a.sizeMm * heightPx) / 409.6 / 2;
    if (edge[yi] - x < r + 2 || x < r) return null;
    if (view === "MLO" && pectoralDepth(shape, widthPx, heightPx, x, y) > -r) return null;
  }
  return { x, y };
}

/** Exact Euclidean-ish distance (chamfer 1/sqrt2) from each pixel to the nearest mask-0 pixel. */
function distanceToBackground(mask: Uint8Array, w: number, h: number): Float32Array {
  const INF = 1e9;
  const d = new Float32Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? INF : 0;
  const s2 = Math.SQRT2;
  // Pixels outside the image count as tissue (the breast continues past the chest-wall edge).
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = d[i];
      if (v === 0) continue;
      if (x > 0) v = Math.min(v, d[i - 1] + 1);
      if (y > 0) {
        v = Math.min(v, d[i - w] + 1);
        if (x > 0) v = Math.min(v, d[i - w - 1] + s2);
        if (x < w - 1) v = Math.min(v, d[i - w + 1] + s2);
      }
      d[i] = v;
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      let v = d[i];
      if (v === 0) continue;
      if (x < w - 1) v = Math.min(v, d[i + 1] + 1);
      if (y < h - 1) {
        v = Math.min(v, d[i + w] + 1);
        if (x < w - 1) v = Math.min(v, d[i + w + 1] + s2);
        if (x > 0) v = Math.min(v, d[i + w - 1] + s2);
      }
      d[i] = v;
    }
  }
  return d;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Adds a mass to `img` inside `mask` (canonical frame); returns the box of the pixels it changed noticeably. */
function drawMass(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, lesion: LesionSpec, scale: number): Box {
  const R = (lesion.size1024Px * scale) / 2;
  const aspect = lesion.shape === "oval" ? lesion.aspect : 1;
  const c = lesion.contrast;
  const detail = new Rng(lesion.detailSeed);
  // spiculated: irregular border and radial spicules
  const lobes = lesion.shape === "spiculated" ? 0.18 : 0.05;
  const k1 = detail.int(3, 6);
  const ph1 = detail.range(0, 2 * Math.PI);
  const spicules: { theta: number; len: number; width: number }[] = [];
  if (lesion.shape === "spiculated") {
    for (let s = 0; s < lesion.count; s++) {
      spicules.push({
        theta: lesion.angleRad + (2 * Math.PI * (s + detail.range(-0.3, 0.3))) / lesion.count,
        len: R * detail.range(0.7, 1.6),
        width: Math.max(0.8, detail.range(0.8, 1.6) * scale),
      });
    }
  }
  return paintMass(img, mask, w, h, cx, cy, {
    R,
    aspect,
    angleRad: lesion.angleRad,
    contrast: c,
    reach: R * (lesion.shape === "spiculated" ? 2.8 : 1.3) + 2,
    edgeSoft: Math.max(1.5 * scale, 0.12 * R),
    bodyReach: 1,
    base: 0.55,
    innerWeight: 0.45,
    rEdge: (theta) => R * (1 + lobes * Math.sin(k1 * theta + ph1)),
    margin: (dx, dy, add) => {
      for (const sp of spicules) {
        // distance from the spicule's segment starting at the mass border
        const at = alongSpicule(dx, dy, sp.theta, R * 0.8, sp.len);
        if (!at) continue;
        const taper = 1 - at.along / sp.len;
        const wdt = sp.width * (0.5 + taper);
        if (at.across < wdt) add = Math.max(add, c * 0.7 * taper * (1 - at.across / wdt));
      }
      return add;
    },
  });
}

/** Adds a cluster of tiny bright specks; returns their box (with a 2 px rim). */
function drawCalcifications(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, lesion: LesionSpec, scale: number): Box {
  const detail = new Rng(lesion.detailSeed);
  const half = (lesion.size1024Px * scale) / 2;
  const box: Box = emptyBox();
  for (let s = 0; s < lesion.count; s++) {
    const sx = cx + detail.range(-half, half) * 0.9;
    const sy = cy + detail.range(-half, half) * 0.9;
    const rad = Math.max(1, detail.range(1, 1.6) * scale); // 2-3 px specks at 1024 px height
    const amp = lesion.contrast * detail.range(0.75, 1.1);
    const r = Math.ceil(rad + 1);
    for (let y = Math.max(0, Math.floor(sy) - r); y <= Math.min(h - 1, Math.floor(sy) + r); y++) {
      for (let x = Math.max(0, Math.floor(sx) - r); x <= Math.min(w - 1, Math.floor(sx) + r); x++) {
        const d = Math.hypot(x + 0.5 - sx, y + 0.5 - sy);
        if (d < rad + 0.5 && mask[y * w + x]) {
          img[y * w + x] += amp * Math.min(1, rad + 0.5 - d);
          box.x0 = Math.min(box.x0, x - 2);
          box.y0 = Math.min(box.y0, y - 2);
          box.x1 = Math.max(box.x1, x + 3);
          box.y1 = Math.max(box.y1, y + 3);
        }
      }
    }
  }
  return box;
}

/**
 * Render one view of one breast. Deterministic for (spec, rng state). The returned arrays are
 * row-major, widthPx x heightPx, in the ORIGINAL image frame (mirrored when the chest wall is on
 * the right).
 */
export function renderBreast(spec: BreastSpec, rng: Rng): RenderedBreast {
  const w = spec.widthPx;
  const h = spec.heightPx;
  if (!(w >= 16 && h >= 16)) throw new Error(`renderBreast: image too small (${w} x ${h})`);
  const scale = h / 1024;
  const texture = spec.texture ?? powerLawTexturePair(w, h, rng)[0];
  if (texture.length !== w * h) throw new Error(`renderBreast: texture has ${texture.length} values, expected ${w * h}`);
  const edge = edgeForView(spec.shape, spec.view, w, h);
  const breastMask = new Uint8Array(w * h);
  const pectoralMask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const e = edge[y];
    for (let x = 0; x < e && x < w; x++) breastMask[y * w + x] = 1;
  }
  const dist = distanceToBackground(breastMask, w, h);
  const D = spec.shape.depthFrac * w;
  const skinPx = Math.max(1.5, 2.5 * scale);
  const thr = normalQuantile(1 - DENSE_FRACTION[spec.density]);
  const img = new Float32Array(w * h).fill(0.015);
  const isMlo = spec.view === "MLO";
  // sigmoid of the dense-tissue threshold as a lookup table over t - thr in [-6, 6]
  const LUT_N = 4096;
  const sig = new Float32Array(LUT_N + 1);
  for (let k = 0; k <= LUT_N; k++) sig[k] = 1 / (1 + Math.exp(-((k / LUT_N) * 12 - 6) / 0.45));
  const thick0 = 0.2 * D;
  const dense0 = 0.02 * D;
  const dense1 = 0.15 * D;
  const pw = spec.shape.pectoralWidthFrac * w;
  const ph = spec.shape.pectoralHeightFrac * h;
  const pectSoft = 2 * scale;
  const pectRamp = 0.2 * pw;
  for (let y = 0; y < h; y++) {
    const e = Math.min(w, Math.ceil(edge[y]));
    // pectoral edge on this row (see pectoralDepth)
    const xPect = isMlo ? pw * (1 - Math.pow(Math.min(1, y / ph), 1.2)) : -Infinity;
    for (let x = 0, i = y * w; x < e; x++, i++) {
      if (!breastMask[i]) continue;
      const di = dist[i];
      const thick = smoothstep(0, thick0, di);
      const t = texture[i];
      let k = Math.round(((t - thr + 6) / 12) * LUT_N);
      k = k < 0 ? 0 : k > LUT_N ? LUT_N : k;
      const dense = sig[k] * smoothstep(dense0, dense1, di);
      let v = 0.18 + 0.15 * thick + 0.22 * dense * (0.4 + 0.6 * thick) + 0.02 * t;
      if (di <= skinPx) v += 0.07 * (1 - (di - 1) / skinPx);
      if (isMlo) {
        const pd = xPect - x;
        if (pd > -pectSoft) {
          const m = smoothstep(-pectSoft, pectSoft, pd);
          v = v * (1 - m) + m * (0.62 + 0.02 * t + 0.03 * smoothstep(0, pectRamp, pd));
          if (pd > 0) pectoralMask[i] = 1;
        }
      }
      img[i] = v;
    }
  }
  for (const a of spec.anatomy ?? []) {
    if (a.views !== "all" && !a.views.includes(spec.view)) continue;
    const at = a.axillary ? axillaryNodeCenter(spec.shape, w, h, a, edge) : anatomyCenter(a, spec.shape, spec.view, w, h, edge);
    if (at) drawAnatomy(img, breastMask, w, h, a, at);
  }
  const lesions: LesionBox[] = [];
  for (const lesion of spec.lesions) {
    const at = lesionCenter(lesion, spec.shape, spec.view, w, h, edge);
    if (!at) continue; // the sampler only keeps lesions that fit every view; be safe for hand-made specs
    const b =
      lesion.version === 3
        ? lesion.kind === "mass"
          ? drawMassV3(img, breastMask, w, h, at.x, at.y, lesion, scale)
          : drawCalcificationsV3(img, breastMask, w, h, at.x, at.y, lesion, scale)
        : lesion.kind === "mass"
          ? drawMass(img, breastMask, w, h, at.x, at.y, lesion, scale)
          : drawCalcifications(img, breastMask, w, h, at.x, at.y, lesion, scale);
    if (!(b.x1 > b.x0 && b.y1 > b.y0)) continue;
    lesions.push({
      kind: lesion.kind,
      birads: lesion.birads,
      x0: Math.max(0, b.x0),
      y0: Math.max(0, b.y0),
      x1: Math.min(w, b.x1),
      y1: Math.min(h, b.y1),
    });
  }
  // quantum-like noise (uniform, sd 0.006 inside, 0.003 in air) and quantisation
  const maxVal = 2 ** spec.bitsStored - 1;
  const pixels = new Uint16Array(w * h);
  const unit = Math.sqrt(12);
  for (let i = 0; i < w * h; i++) {
    const sd = breastMask[i] ? 0.006 : 0.003;
    const v = img[i] + sd * unit * (rng.uniform() - 0.5);
    pixels[i] = Math.round(Math.min(1, Math.max(0, v)) * maxVal);
  }
  if (spec.chestWallSide === "right") {
    mirrorRows(pixels, w, h);
    mirrorRows(breastMask, w, h);
    mirrorRows(pectoralMask, w, h);
    for (const l of lesions) {
      const x0 = w - l.x1;
      l.x1 = w - l.x0;
      l.x0 = x0;
    }
  }
  return { pixels, widthPx: w, heightPx: h, breastMask, pectoralMask, lesions };
}

function mirrorRows(a: Uint16Array | Uint8Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    let l = y * w;
    let r = l + w - 1;
    while (l < r) {
      const t = a[l];
      a[l] = a[r];
      a[r] = t;
      l++;
      r--;
    }
  }
}

/** Just the breast mask of a view (cheap; no texture), in the original frame. */
export function renderBreastMask(shape: BreastShape, view: ViewPosition, chestWallSide: "left" | "right", widthPx: number, heightPx: number): Uint8Array {
  const edge = edgeForView(shape, view, widthPx, heightPx);
  const mask = new Uint8Array(widthPx * heightPx);
  for (let y = 0; y < heightPx; y++) for (let x = 0; x < edge[y] && x < widthPx; x++) mask[y * widthPx + x] = 1;
  if (chestWallSide === "right") mirrorRows(mask, widthPx, heightPx);
  return mask;
}

/**
 * Sample the lesions of a breast for its BI-RADS value. Suspicious breasts (4/5/6) get one or two
 * lesions (masses, mostly spiculated for 5/6, or a calcification cluster); benign ones (2/3) a
 * round/oval mass or a loose benign cluster; negative ones (1) none. Every lesion is checked to
 * fit every listed view; a lesion that does not fit after 60 tries is dropped.
 */
export function sampleLesions(rng: Rng, birads: number, shape: BreastShape, views: ViewPosition[], widthPx: number, heightPx: number): LesionSpec[] {
  let n = 0;
  if (birads >= 4) {
    const u = rng.uniform();
    n = u < 0.6 ? 1 : u < 0.9 ? 2 : 3;
  }
  else if (birads === 2 || birads === 3) n = 1;
  return placeLesions(Array.from({ length: n }, () => () => sampleOneLesion(rng, birads)), shape, views, widthPx, heightPx);
}

/**
 * Draw lesions one after another (each `draw` is retried up to 60 times) until each fits every
 * listed view and lies apart from the ones kept; a lesion that never fits is dropped.
 */
function placeLesions(draws: (() => LesionSpec)[], shape: BreastShape, views: ViewPosition[], widthPx: number, heightPx: number): LesionSpec[] {
  const edges = views.map((v) => edgeForView(shape, v, widthPx, heightPx));
  const out: LesionSpec[] = [];
  for (const draw of draws) {
    for (let attempt = 0; attempt < 60; attempt++) {
      const lesion = draw();
      const fits = views.every((v, j) => lesionCenter(lesion, shape, v, widthPx, heightPx, edges[j]) !== null);
      const apart = out.every((o) => Math.hypot(o.a - lesion.a, o.v - lesion.v) > 0.3);
      if (fits && apart) {
        out.push(lesion);
        break;
      }
    }
  }
  return out;
}

/**
 * Generator v3 findings (lib/data/physics.ts): suspicious breasts get calcification-only
 * (45 %), mass-only (40 %) or mass + calcification (15 %) findings at physical sizes; benign
 * (BI-RADS 2/3) breasts get one circumscribed mass; negative ones none. Each is checked to fit
 * every listed view, as in v2.
 */
export function sampleLesionsV3(rng: Rng, birads: number, shape: BreastShape, views: ViewPosition[], widthPx: number, heightPx: number): LesionSpec[] {
  const kinds: ("mass" | "calcification")[] = birads >= 4 ? suspiciousFindingKinds(rng) : birads === 2 || birads === 3 ? ["mass"] : [];
  return placeLesions(kinds.map((kind) => () => sampleLesionV3(rng, birads, kind)), shape, views, widthPx, heightPx);
}

function sampleOneLesion(rng: Rng, birads: number): LesionSpec {
  const suspicious = birads >= 4;
  const calc = rng.bernoulli(suspicious ? 0.3 : 0.35);
  const base = { a: rng.range(0.15, 0.8), v: rng.range(-0.75, 0.75), angleRad: rng.range(0, Math.PI), detailSeed: rng.nextUint32() };
  if (calc) {
    return {
      ...base,
      kind: "calcification",
      shape: null,
      size1024Px: rng.range(30, 60),
      aspect: 1,
      contrast: rng.range(0.4, 0.55),
      count: rng.int(suspicious ? 8 : 5, suspicious ? 20 : 8),
      birads: birads,
    };
  }
  const shape: MassShape = suspicious ? (rng.bernoulli(birads >= 5 ? 0.8 : 0.45) ? "spiculated" : rng.pick(["round", "oval"] as const)) : rng.pick(["round", "oval"] as const);
  return {
    ...base,
    kind: "mass",
    shape,
    size1024Px: suspicious ? rng.range(22, 80) : rng.range(15, 40),
    aspect: shape === "oval" ? rng.range(0.5, 0.8) : 1,
    contrast: suspicious ? rng.range(0.32, 0.45) : rng.range(0.2, 0.3),
    count: shape === "spiculated" ? rng.int(8, 16) : 0,
    birads,
  };
}
