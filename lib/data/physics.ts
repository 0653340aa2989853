import { Rng } from "../util/rng";
import type { BreastShape, LesionSpec, MassShape, ViewPosition } from "./phantom";

/**
 * Generator v3: lesions and normal anatomy at the physical scale of mammography
 * (reference mil-pf.md section 12).
 *
 * Pixel size: the paper works at 4096 px, about 0.1 mm per pixel, so an image of height H
 * has H / 409.6 px per mm (1024 px -> 0.4 mm per pixel). Sizes below are in mm and become
 * pixels through `pxPerMm(H)`. The global view is 8x coarser than the tiles (1024 px working
 * image, 128 px tiles and a 128 px global view; 4096 / 518 in the paper), so:
 *
 * - calcification specks (0.1-0.5 mm = 0.25-1.25 px at 1024) are rendered with their
 *   partial-volume area coverage: a tile pixel keeps a bright speck, a global-view pixel
 *   (3.2 mm at 1024 / 128) averages 5-30 specks of a 5-15 mm cluster with 60+ times as much
 *   tissue, and the cluster vanishes into the texture;
 * - masses (5-30 mm) are about as bright as normal structures that look like findings at
 *   global scale (dense islands, lymph nodes); what marks them malignant is the margin
 *   (spiculated, obscured/microlobulated), a sub-millimetre feature the tiles resolve;
 * - every breast, negative or not, carries normal anatomy: dense islands, vessels (some with
 *   coarse benign "tram-track" calcifications), intramammary and axillary lymph nodes (bright
 *   ovals with a fatty hilum, axillary ones on the MLO), and skin folds.
 */

/** Pixels per millimetre for an image of height `heightPx` (0.1 mm per pixel at 4096 px). */
export function pxPerMm(heightPx: number): number {
  return heightPx / 409.6;
}

/** `LesionSpec.size1024Px` is in px at 1024 px height, i.e. 2.5 px per mm. */
export const PX1024_PER_MM = 1024 / 409.6;

export type MarginV3 = "circumscribed" | "obscured" | "spiculated";

export type AnatomyKind = "island" | "node" | "vessel" | "fold";

/** A normal structure (present in negatives as in positives). */
export interface AnatomySpec {
  kind: AnatomyKind;
  /** Breast-relative position (as for lesions): fraction chest wall -> skin, signed fraction of half-height. */
  a: number;
  v: number;
  /** Main size in mm: island / node diameter, vessel width, fold width. */
  sizeMm: number;
  /** Length in mm (vessels, folds); 0 otherwise. */
  lengthMm: number;
  angleRad: number;
  aspect: number;
  /** Added intensity (fraction of full range). */
  contrast: number;
  /** Which views show it ("axillary" nodes: MLO only; folds: one view). */
  views: ViewPosition[] | "all";
  /** Axillary node: placed next to the pectoral muscle on the MLO instead of at (a, v). */
  axillary: boolean;
  /** Vessel with coarse benign calcifications along a stretch of its walls. */
  benignCalcs: boolean;
  detailSeed: number;
}

/** Hermite smoothstep from e0 to e1 (either order): 0 before, 1 after, 3t^2 - 2t^3 between. */
export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function emptyBox(): Box {
  return { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
}

export function grow(box: Box, x: number, y: number): void {
  if (x < box.x0) box.x0 = x;
  if (y < box.y0) box.y0 = y;
  if (x + 1 > box.x1) box.x1 = x + 1;
  if (y + 1 > box.y1) box.y1 = y + 1;
}

// ---------------------------------------------------------------------------------------------
// Sampling

/** A v3 finding. `kind` decides the VinDr finding category (Mass / Suspicious Calcification). */
export function sampleLesionV3(rng: Rng, birads: number, kind: "mass" | "calcification"): LesionSpec {
  const suspicious = birads >= 4;
  const base = { a: rng.range(0.15, 0.8), v: rng.range(-0.75, 0.75), angleRad: rng.range(0, Math.PI), detailSeed: rng.nextUint32(), birads };
  if (kind === "calcification") {
    // a suspicious cluster: 5-30 specks within 5-15 mm; more specks in larger clusters
    const sizeMm = rng.range(5, 15);
    const maxCount = Math.round(5 + 25 * ((sizeMm - 5) / 10));
    return {
      ...base,
      kind: "calcification",
      shape: null,
      size1024Px: sizeMm * PX1024_PER_MM,
      aspect: rng.range(0.6, 1),
      contrast: rng.range(0.6, 1.0),
      count: rng.int(5, Math.max(5, maxCount)),
      margin: null,
      version: 3,
    };
  }
  // masses: suspicious ones mostly 6-25 mm with a malignant margin; benign ones circumscribed
  const margin: MarginV3 = suspicious ? (rng.bernoulli(birads >= 5 ? 0.75 : 0.55) ? "spiculated" : "obscured") : "circumscribed";
  const sizeMm = suspicious ? 5 + 25 * Math.pow(rng.uniform(), 1.6) : rng.range(6, 22);
  const shape: MassShape = margin === "spiculated" ? "spiculated" : rng.pick(["round", "oval"] as const);
  return {
    ...base,
    kind: "mass",
    shape,
    size1024Px: sizeMm * PX1024_PER_MM,
    aspect: shape === "oval" ? rng.range(0.55, 0.85) : rng.range(0.85, 1),
    // overlapping dense islands and lymph nodes (0.07-0.16), brighter on average: brightness is a
    // weak sign (a large or bright mass shows in the global view); the margin is the strong one
    contrast: suspicious ? rng.range(0.14, 0.26) : rng.range(0.1, 0.18),
    count: margin === "spiculated" ? rng.int(10, 22) : margin === "obscured" ? rng.int(12, 20) : 0,
    margin,
    version: 3,
  };
}

/** Which findings a suspicious (BI-RADS 4-6) breast gets: calcification-only, mass-only, or both. */
export function suspiciousFindingKinds(rng: Rng): ("mass" | "calcification")[] {
  const u = rng.uniform();
  const extra = rng.bernoulli(0.15);
  if (u < 0.45) return extra ? ["calcification", "calcification"] : ["calcification"];
  if (u < 0.85) return extra ? ["mass", "mass"] : ["mass"];
  return ["mass", "calcification"];
}

/** Normal anatomy of one breast (every breast gets some, whatever its BI-RADS). */
export function sampleAnatomy(rng: Rng, density: "A" | "B" | "C" | "D", views: ViewPosition[]): AnatomySpec[] {
  const out: AnatomySpec[] = [];
  const base = (): Pick<AnatomySpec, "a" | "v" | "angleRad" | "detailSeed"> => ({ a: rng.range(0.12, 0.85), v: rng.range(-0.8, 0.8), angleRad: rng.range(0, Math.PI), detailSeed: rng.nextUint32() });
  const islands = { A: [0, 1], B: [1, 2], C: [1, 3], D: [2, 4] }[density];
  const nIslands = rng.int(islands[0], islands[1]);
  for (let k = 0; k < nIslands; k++) {
    out.push({ ...base(), kind: "island", sizeMm: rng.range(6, 24), lengthMm: 0, aspect: rng.range(0.5, 1), contrast: rng.range(0.07, 0.15), views: "all", axillary: false, benignCalcs: false });
  }
  // intramammary lymph node (upper outer breast), both views
  if (rng.bernoulli(0.35)) {
    out.push({ ...base(), a: rng.range(0.2, 0.6), v: -rng.range(0.3, 0.75), kind: "node", sizeMm: rng.range(5, 12), lengthMm: 0, aspect: rng.range(0.5, 0.75), contrast: rng.range(0.1, 0.16), views: "all", axillary: false, benignCalcs: false });
  }
  // axillary lymph nodes: on the MLO, next to the pectoral muscle
  if (views.includes("MLO") && rng.bernoulli(0.75)) {
    const n = rng.int(1, 2);
    for (let k = 0; k < n; k++) {
      out.push({ ...base(), kind: "node", sizeMm: rng.range(6, 15), lengthMm: 0, aspect: rng.range(0.5, 0.75), contrast: rng.range(0.1, 0.16), views: ["MLO"], axillary: true, benignCalcs: false });
    }
  }
  // vessels: from the chest wall towards the nipple; some with coarse benign calcifications
  const nVessels = rng.int(1, 3);
  const calcified = rng.bernoulli(0.25);
  for (let k = 0; k < nVessels; k++) {
    out.push({ ...base(), a: 0, kind: "vessel", sizeMm: rng.range(0.8, 2), lengthMm: rng.range(30, 70), aspect: 1, contrast: rng.range(0.04, 0.08), views: "all", axillary: false, benignCalcs: calcified && k === 0 });
  }
  // skin fold in one view
  if (rng.bernoulli(0.25)) {
    out.push({ ...base(), a: rng.range(0.8, 0.95), kind: "fold", sizeMm: rng.range(0.6, 1.2), lengthMm: rng.range(20, 50), aspect: 1, contrast: rng.range(0.05, 0.1), views: [rng.bernoulli(0.7) ? "MLO" : "CC"], axillary: false, benignCalcs: false });
  }
  return out;
}

/**
 * Visits the pixels inside the mask of the window of half-size `reach` around (cx, cy), clipped to
 * the image, with the offset (dx, dy) from the centre and (u, v): the offset in the frame of an
 * ellipse at `angle`, v divided by `aspect`. The one loop of every rotated-shape drawer (islands,
 * nodes, v2 and v3 masses); the arithmetic is fixed here, so the images stay bit-reproducible.
 */
export function forEllipsePixels(
  mask: Uint8Array,
  w: number,
  h: number,
  cx: number,
  cy: number,
  reach: number,
  angle: number,
  aspect: number,
  visit: (i: number, x: number, y: number, dx: number, dy: number, u: number, v: number) => void,
): void {
  const cosA = Math.cos(angle);
  const sinA = Math.sin(angle);
  for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(h - 1, Math.ceil(cy + reach)); y++) {
    for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(w - 1, Math.ceil(cx + reach)); x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const dx = x - cx;
      const dy = y - cy;
      visit(i, x, y, dx, dy, dx * cosA + dy * sinA, (-dx * sinA + dy * cosA) / aspect);
    }
  }
}

/**
 * Where (dx, dy) lies along and across a spicule: a segment on the ray at angle `theta` from the
 * centre, starting at distance `start` and `len` long. Null beyond its ends.
 */
export function alongSpicule(dx: number, dy: number, theta: number, start: number, len: number): { along: number; across: number } | null {
  const ux = Math.cos(theta);
  const uy = Math.sin(theta);
  const along = dx * ux + dy * uy - start;
  if (along < 0 || along > len) return null;
  return { along, across: Math.abs(-dx * uy + dy * ux) };
}

// ---------------------------------------------------------------------------------------------
// Drawing (canonical frame: chest wall at x = 0)

/** Adds an elliptical blob with a soft (Gaussian-like) profile: a dense island. */
function drawIsland(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, rPx: number, aspect: number, angle: number, contrast: number): void {
  forEllipsePixels(mask, w, h, cx, cy, rPx * 1.6 + 2, angle, aspect, (i, _x, _y, _dx, _dy, u, vv) => {
    const d2 = (u * u + vv * vv) / (rPx * rPx);
    if (d2 < 2.6) img[i] += contrast * Math.exp(-1.4 * d2 * d2);
  });
}

/** A lymph node: a bright oval with a sharp, smooth border and a darker fatty hilum notch. */
function drawNode(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, rPx: number, aspect: number, angle: number, contrast: number, scale: number): void {
  const soft = Math.max(0.8, 0.6 * scale);
  forEllipsePixels(mask, w, h, cx, cy, rPx + 3 * scale + 2, angle, aspect, (i, _x, _y, _dx, _dy, u, vv) => {
    const d = Math.sqrt(u * u + vv * vv);
    if (d > rPx + 2 * soft) return;
    let add = contrast * smoothstep(rPx + soft, rPx - soft, d);
    // hilum: a fatty notch entering from one side of the long axis
    const hx = u - 0.55 * rPx;
    const hilum = Math.exp(-((hx * hx) / (0.16 * rPx * rPx) + (vv * vv) / (0.05 * rPx * rPx)));
    add *= 1 - 0.75 * hilum;
    img[i] += add;
  });
}

/** A curvilinear tube (vessel, skin fold) along a gently bending path; returns its samples. */
function drawCurve(
  img: Float32Array,
  mask: Uint8Array,
  w: number,
  h: number,
  pts: { x: number; y: number }[],
  widthPx: number,
  contrast: number,
  darkRim: boolean,
): void {
  const half = widthPx / 2;
  const reach = half + (darkRim ? 2 * half + 1 : 1) + 1;
  for (let s = 0; s + 1 < pts.length; s++) {
    const p = pts[s];
    const q = pts[s + 1];
    const sx = q.x - p.x;
    const sy = q.y - p.y;
    const len2 = sx * sx + sy * sy || 1;
    for (let y = Math.max(0, Math.floor(Math.min(p.y, q.y) - reach)); y <= Math.min(h - 1, Math.ceil(Math.max(p.y, q.y) + reach)); y++) {
      for (let x = Math.max(0, Math.floor(Math.min(p.x, q.x) - reach)); x <= Math.min(w - 1, Math.ceil(Math.max(p.x, q.x) + reach)); x++) {
        const i = y * w + x;
        if (!mask[i]) continue;
        // only the segment whose projection falls inside it draws the pixel (no double adds at joints)
        const t = ((x - p.x) * sx + (y - p.y) * sy) / len2;
        if (t < 0 || t >= 1) continue;
        const d = Math.hypot(x - (p.x + t * sx), y - (p.y + t * sy));
        if (d <= half + 0.7) img[i] += contrast * Math.min(1, half + 0.7 - d) * (d < half ? 1 - 0.3 * (d / half) ** 2 : 0.7);
        else if (darkRim && d < 3 * half + 1) img[i] -= 0.4 * contrast * (1 - (d - half) / (2 * half + 1));
      }
    }
  }
}

/** Points along a gently bending path starting at (x0, y0) with direction `angle`. */
function pathPoints(rng: Rng, x0: number, y0: number, angle: number, lengthPx: number, stepPx: number, bend: number): { x: number; y: number }[] {
  const pts = [{ x: x0, y: y0 }];
  let a = angle;
  const n = Math.max(2, Math.ceil(lengthPx / stepPx));
  for (let k = 0; k < n; k++) {
    a += rng.range(-bend, bend);
    const last = pts[pts.length - 1];
    pts.push({ x: last.x + stepPx * Math.cos(a), y: last.y + stepPx * Math.sin(a) });
  }
  return pts;
}

/** Adds a partial-volume speck of diameter `dPx` (may be < 1 px) at (sx, sy): 4 x 4 supersampling. */
function drawSpeck(img: Float32Array, mask: Uint8Array, w: number, h: number, sx: number, sy: number, dPx: number, amp: number, box: Box | null): void {
  const r = dPx / 2;
  const x0 = Math.max(0, Math.floor(sx - r));
  const x1 = Math.min(w - 1, Math.floor(sx + r));
  const y0 = Math.max(0, Math.floor(sy - r));
  const y1 = Math.min(h - 1, Math.floor(sy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      let cover = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (Math.hypot(x + (b + 0.5) / 4 - sx, y + (a + 0.5) / 4 - sy) <= r) cover++;
      if (cover === 0 && r < 0.2 && x === Math.floor(sx) && y === Math.floor(sy)) cover = Math.PI * r * r * 16; // tiny speck: its exact area
      if (cover > 0) {
        img[i] += (amp * cover) / 16;
        if (box) grow(box, x, y);
      }
    }
  }
}

/** Draws one normal structure in one view. `at` is its centre (canonical frame) or null when it does not fit. */
export function drawAnatomy(
  img: Float32Array,
  mask: Uint8Array,
  w: number,
  h: number,
  s: AnatomySpec,
  at: { x: number; y: number },
): void {
  const ppm = pxPerMm(h);
  const scale = h / 1024;
  const detail = new Rng(s.detailSeed);
  switch (s.kind) {
    case "island":
      drawIsland(img, mask, w, h, at.x, at.y, (s.sizeMm * ppm) / 2, s.aspect, s.angleRad, s.contrast);
      return;
    case "node":
      drawNode(img, mask, w, h, at.x, at.y, (s.sizeMm * ppm) / 2, s.aspect, s.angleRad, s.contrast, scale);
      return;
    case "vessel": {
      const angle = detail.range(-0.35, 0.35);
      const pts = pathPoints(detail, at.x, at.y, angle, s.lengthMm * ppm, Math.max(3, 2 * ppm), 0.12);
      const widthPx = Math.max(0.8, s.sizeMm * ppm);
      drawCurve(img, mask, w, h, pts, widthPx, s.contrast, false);
      if (s.benignCalcs) {
        // coarse benign calcifications: dashed bright segments (1-4 mm long) along both walls of
        // a stretch of the vessel ("tram track"), much coarser than suspicious specks
        const from = Math.floor(pts.length * detail.range(0.2, 0.4));
        const to = Math.min(pts.length - 1, from + Math.ceil(pts.length * detail.range(0.3, 0.5)));
        for (const side of [-1, 1]) {
          let k = from;
          while (k < to) {
            const segLen = detail.int(1, 2);
            const seg = pts.slice(k, Math.min(to, k + segLen) + 1).map((p, j, arr) => {
              const q = arr[Math.min(arr.length - 1, j + 1)];
              const pPrev = arr[Math.max(0, j - 1)];
              const dx = q.x - pPrev.x;
              const dy = q.y - pPrev.y;
              const n = Math.hypot(dx, dy) || 1;
              return { x: p.x - (side * dy * (widthPx / 2 + 0.5)) / n, y: p.y + (side * dx * (widthPx / 2 + 0.5)) / n };
            });
            if (seg.length >= 2) drawCurve(img, mask, w, h, seg, Math.max(1, detail.range(0.6, 1.0) * ppm), detail.range(0.25, 0.45), false);
            k += segLen + detail.int(0, 1);
          }
        }
      }
      return;
    }
    case "fold": {
      // along the skin: a thin bright line with a dark rim, roughly parallel to the skin line
      const pts = pathPoints(detail, at.x, at.y, Math.PI / 2 + detail.range(-0.3, 0.3), s.lengthMm * ppm, Math.max(3, 2 * ppm), 0.06);
      drawCurve(img, mask, w, h, pts, Math.max(0.8, s.sizeMm * ppm), s.contrast, true);
      return;
    }
  }
}

/**
 * One mass as `paintMass` draws it: a body of contrast `contrast` whose border radius `rEdge(theta)`
 * is softened over `edgeSoft` px and drawn out to `bodyReach` x `edgeSoft` beyond the border
 * (brightness `base + innerWeight * inner`, inner = the dome profile), then `margin` adds what
 * lies outside the body (spicules, fingers), given the pixel's offset from the centre and the
 * body's value there. Generators v2 (`phantom.ts`) and v3 differ only in these parameters.
 */
export interface MassPaint {
  R: number;
  aspect: number;
  angleRad: number;
  contrast: number;
  /** how far from the centre pixels are visited (px) */
  reach: number;
  edgeSoft: number;
  bodyReach: number;
  base: number;
  innerWeight: number;
  rEdge: (theta: number) => number;
  margin: (dx: number, dy: number, add: number) => number;
}

/** Adds one mass to `img` inside `mask`; returns the box of the pixels it changed noticeably (> 10 % of its contrast). */
export function paintMass(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, m: MassPaint): Box {
  const box = emptyBox();
  const c = m.contrast;
  forEllipsePixels(mask, w, h, cx, cy, m.reach, m.angleRad, m.aspect, (i, x, y, dx, dy, u, vv) => {
    const dist = Math.sqrt(u * u + vv * vv);
    const rEdge = m.rEdge(Math.atan2(dy, dx));
    let add = 0;
    if (dist < rEdge + m.bodyReach * m.edgeSoft) {
      const inner = Math.sqrt(Math.max(0, 1 - (dist / (rEdge + m.edgeSoft)) ** 2));
      add = c * (m.base + m.innerWeight * inner) * smoothstep(rEdge + m.edgeSoft, rEdge - m.edgeSoft, dist);
    }
    add = m.margin(dx, dy, add);
    if (add > 0) {
      img[i] += add;
      if (add > 0.1 * c) grow(box, x, y);
    }
  });
  return box;
}

/** Draws a v3 mass: a smooth body of modest contrast whose margin carries the malignancy. */
export function drawMassV3(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, lesion: LesionSpec, scale: number): Box {
  const R = (lesion.size1024Px * scale) / 2;
  const aspect = lesion.shape === "oval" ? lesion.aspect : Math.min(1, lesion.aspect);
  const c = lesion.contrast;
  const detail = new Rng(lesion.detailSeed);
  const margin = lesion.margin ?? "circumscribed";
  // border modulation: microlobulation (obscured) is fine and irregular; circumscribed is smooth
  const harmonics: { k: number; amp: number; ph: number }[] = [];
  if (margin === "obscured") for (let j = 0; j < 3; j++) harmonics.push({ k: detail.int(9, 17), amp: detail.range(0.05, 0.1), ph: detail.range(0, 2 * Math.PI) });
  else if (margin === "spiculated") harmonics.push({ k: detail.int(3, 6), amp: 0.12, ph: detail.range(0, 2 * Math.PI) });
  else harmonics.push({ k: detail.int(2, 3), amp: 0.03, ph: detail.range(0, 2 * Math.PI) });
  const spicules: { theta: number; len: number; width: number }[] = [];
  if (margin === "spiculated") {
    for (let s = 0; s < lesion.count; s++) {
      spicules.push({
        theta: lesion.angleRad + (2 * Math.PI * (s + detail.range(-0.35, 0.35))) / lesion.count,
        len: R * detail.range(0.6, 1.8),
        width: Math.max(0.7, detail.range(0.5, 0.9) * scale * PX1024_PER_MM * 0.5), // 0.25-0.45 mm half-width
      });
    }
  }
  // obscured: short fuzzy fingers (indistinct margin)
  const fingers: { theta: number; len: number; width: number }[] = [];
  if (margin === "obscured") {
    for (let s = 0; s < lesion.count; s++) fingers.push({ theta: detail.range(0, 2 * Math.PI), len: R * detail.range(0.15, 0.4), width: Math.max(0.8, 0.5 * scale * PX1024_PER_MM) });
  }
  const edgeSoft = margin === "circumscribed" ? Math.max(0.6, 0.5 * scale) : margin === "obscured" ? Math.max(1, 0.12 * R) : Math.max(0.8, 0.06 * R);
  return paintMass(img, mask, w, h, cx, cy, {
    R,
    aspect,
    angleRad: lesion.angleRad,
    contrast: c,
    reach: R * (margin === "spiculated" ? 2.9 : 1.5) + 3,
    edgeSoft,
    bodyReach: 2,
    base: 0.7,
    innerWeight: 0.3,
    rEdge: (theta) => {
      let mod = 1;
      for (const hm of harmonics) mod += hm.amp * Math.sin(hm.k * theta + hm.ph);
      return R * mod;
    },
    margin: (dx, dy, add) => {
      for (const sp of spicules) {
        const at = alongSpicule(dx, dy, sp.theta, R * 0.85, sp.len);
        if (!at) continue;
        const taper = 1 - at.along / sp.len;
        const wdt = sp.width * (0.6 + 0.6 * taper);
        if (at.across < wdt + 0.7) add = Math.max(add, c * 0.9 * (0.4 + 0.6 * taper) * Math.min(1, wdt + 0.7 - at.across));
      }
      for (const f of fingers) {
        const at = alongSpicule(dx, dy, f.theta, R * 0.9, f.len);
        if (at && at.across < f.width + 0.7) add = Math.max(add, c * 0.6 * (1 - at.along / f.len) * Math.min(1, f.width + 0.7 - at.across));
      }
      return add;
    },
  });
}

/**
 * Draws a v3 calcification cluster: `count` specks of 0.1-0.5 mm inside an elliptical region of
 * `size1024Px` (5-15 mm), each rendered by its partial-volume coverage. Returns the cluster's box
 * (the specks' extent with a 1 mm rim).
 */
export function drawCalcificationsV3(img: Float32Array, mask: Uint8Array, w: number, h: number, cx: number, cy: number, lesion: LesionSpec, scale: number): Box {
  const detail = new Rng(lesion.detailSeed);
  const ppm = pxPerMm(h);
  const half = (lesion.size1024Px * scale) / 2;
  const box = emptyBox();
  const cosA = Math.cos(lesion.angleRad);
  const sinA = Math.sin(lesion.angleRad);
  for (let s = 0; s < lesion.count; s++) {
    // uniform in the ellipse
    const rr = Math.sqrt(detail.uniform()) * half;
    const th = detail.range(0, 2 * Math.PI);
    const u = rr * Math.cos(th);
    const v = rr * Math.sin(th) * lesion.aspect;
    const sx = cx + u * cosA - v * sinA;
    const sy = cy + u * sinA + v * cosA;
    const dMm = 0.1 + 0.4 * Math.pow(detail.uniform(), 0.7);
    const amp = lesion.contrast * detail.range(0.7, 1.1);
    drawSpeck(img, mask, w, h, sx, sy, dMm * ppm, amp, box);
  }
  if (box.x1 > box.x0) {
    const rim = Math.max(1, Math.round(ppm));
    box.x0 -= rim;
    box.y0 -= rim;
    box.x1 += rim;
    box.y1 += rim;
  }
  return box;
}

/** Centre of an axillary node on the MLO (canonical frame): just outside the pectoral edge, high up. */
export function axillaryNodeCenter(shape: BreastShape, widthPx: number, heightPx: number, s: AnatomySpec, edge: Float64Array): { x: number; y: number } | null {
  const pw = shape.pectoralWidthFrac * widthPx;
  const ph = shape.pectoralHeightFrac * heightPx;
  const r = (s.sizeMm * pxPerMm(heightPx)) / 2;
  const t = 0.25 + 0.5 * ((s.v + 0.8) / 1.6); // 0.25..0.75 of the pectoral height
  const y = t * ph;
  const xPect = pw * (1 - Math.pow(Math.min(1, y / ph), 1.2));
  const x = xPect + r * 1.8 + 2;
  const yi = Math.round(y);
  if (yi < 0 || yi >= heightPx || edge[yi] - x < r + 4) return null;
  return { x, y };
}
