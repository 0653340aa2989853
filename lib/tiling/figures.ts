import * as path from "node:path";
import sharp from "sharp";
import type { ManifestImage, Split, TileManifest } from "../types";
import { decodeGrey16Png, decodeMaskPng } from "../preprocess/grey16";

/**
 * Pictures and summaries of a tile manifest, for notebook 01 (the notebook only calls these).
 */

/** Outline of a 0/1 mask: set pixels with a 4-neighbour outside the mask. */
export function maskOutline(mask: Uint8Array, widthPx: number, heightPx: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < heightPx; y++)
    for (let x = 0; x < widthPx; x++) {
      const i = y * widthPx + x;
      if (!mask[i]) continue;
      if (x === 0 || y === 0 || x === widthPx - 1 || y === heightPx - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - widthPx] || !mask[i + widthPx]) out[i] = 1;
    }
  return out;
}

/**
 * One working image (8-bit rendering) with its mask outline (yellow), kept tiles (cyan boxes)
 * and lesion boxes (red), at sizePx x sizePx. Returns PNG bytes.
 */
export async function renderTilingOverlay(manifestDir: string, img: ManifestImage, sizePx = 384): Promise<Buffer> {
  const w = await decodeGrey16Png(path.join(manifestDir, img.workingImageFile));
  const N = w.widthPx;
  const grey = await sharp(w.pixels, { raw: { width: N, height: N, channels: 1 } })
    .resize(sizePx, sizePx, { kernel: "linear" })
    .toColourspace("b-w")
    .raw()
    .toBuffer();
  const rgba = Buffer.alloc(sizePx * sizePx * 4);
  for (let i = 0; i < sizePx * sizePx; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = grey[i];
    rgba[4 * i + 3] = 255;
  }
  if (img.maskFile) {
    const m = await decodeMaskPng(path.join(manifestDir, img.maskFile));
    // Nearest-neighbour mask at the picture's size, then its outline.
    const small = new Uint8Array(sizePx * sizePx);
    for (let y = 0; y < sizePx; y++)
      for (let x = 0; x < sizePx; x++) small[y * sizePx + x] = m.mask[Math.floor(((y + 0.5) * m.heightPx) / sizePx) * m.widthPx + Math.floor(((x + 0.5) * m.widthPx) / sizePx)];
    const edge = maskOutline(small, sizePx, sizePx);
    for (let i = 0; i < edge.length; i++)
      if (edge[i]) {
        rgba[4 * i] = 255;
        rgba[4 * i + 1] = 220;
        rgba[4 * i + 2] = 0;
      }
  }
  const s = sizePx / N;
  const rect = (x0: number, y0: number, x1: number, y1: number, colour: string, width: number): string =>
    `<rect x="${(x0 * s).toFixed(1)}" y="${(y0 * s).toFixed(1)}" width="${((x1 - x0) * s).toFixed(1)}" height="${((y1 - y0) * s).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${width}"/>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${sizePx}" height="${sizePx}">` +
    img.tiles.map((t) => rect(t.xPx + 0.5, t.yPx + 0.5, t.xPx + t.sizePx - 0.5, t.yPx + t.sizePx - 0.5, "rgba(0,220,255,0.8)", 1)).join("") +
    img.lesionsWorking.map((l) => rect(l.x0, l.y0, l.x1, l.y1, "rgb(255,40,40)", 2)).join("") +
    `</svg>`;
  return sharp(rgba, { raw: { width: sizePx, height: sizePx, channels: 4 } })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .png()
    .toBuffer();
}

/** Several overlays side by side (one row), with a gap. */
export async function renderTilingGallery(manifestDir: string, images: readonly ManifestImage[], sizePx = 320, gapPx = 8): Promise<Buffer> {
  if (images.length === 0) throw new Error("renderTilingGallery: no images");
  const tiles = await Promise.all(images.map((m) => renderTilingOverlay(manifestDir, m, sizePx)));
  const width = images.length * sizePx + (images.length - 1) * gapPx;
  return sharp({ create: { width, height: sizePx, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(tiles.map((input, k) => ({ input, left: k * (sizePx + gapPx), top: 0 })))
    .png()
    .toBuffer();
}

/** Up to n images chosen to show variety: both lateralities, both labels, first lesioned ones. */
export function pickExamples(manifest: TileManifest, n = 4): ManifestImage[] {
  const out: ManifestImage[] = [];
  const add = (pred: (m: ManifestImage) => boolean): void => {
    const m = manifest.images.find((x) => pred(x) && !out.includes(x));
    if (m && out.length < n) out.push(m);
  };
  add((m) => m.lesionsWorking.length > 0 && m.laterality === "L");
  add((m) => m.lesionsWorking.length > 0 && m.laterality === "R");
  add((m) => m.label === 0 && m.view === "MLO");
  add((m) => m.label === 0 && m.view === "CC");
  for (const m of manifest.images) if (out.length < n && !out.includes(m)) out.push(m);
  return out;
}

/** Plotly histogram of kept tiles per view (one trace per view position). */
export function tilesPerViewFigure(manifest: TileManifest): { data: object[]; layout: Record<string, unknown> } {
  const views = [...new Set(manifest.images.map((m) => m.view))].sort();
  return {
    data: views.map((v) => ({
      type: "histogram",
      name: v,
      x: manifest.images.filter((m) => m.view === v).map((m) => m.tiles.length),
      // One bin per tile count, the same bins for every view.
      xbins: { size: 1 },
      autobinx: false,
      opacity: 0.6,
    })),
    layout: {
      title: { text: `Kept tiles per image (${manifest.params.tileSizePx} px tiles on ${manifest.params.workingSizePx} px, overlap ${manifest.params.overlap})` },
      barmode: "overlay",
      xaxis: { title: { text: "tiles per image" } },
      yaxis: { title: { text: "images" } },
      width: 720,
      height: 400,
    },
  };
}

/** Rows: per split and label, images, breasts (bags), patients, tiles, mean tiles per image. */
export function countsBySplitAndLabel(manifest: TileManifest): Record<string, string | number>[] {
  const rows: Record<string, string | number>[] = [];
  const splits: Split[] = ["train", "val", "test"];
  for (const split of splits)
    for (const label of [0, 1] as const) {
      const ims = manifest.images.filter((m) => m.split === split && m.label === label);
      if (ims.length === 0) continue;
      const tiles = ims.reduce((a, m) => a + m.tiles.length, 0);
      rows.push({
        split,
        label,
        images: ims.length,
        breasts: new Set(ims.map((m) => m.breastId)).size,
        patients: new Set(ims.map((m) => m.patientId)).size,
        tiles,
        tilesPerImage: Math.round((tiles / ims.length) * 10) / 10,
      });
    }
  return rows;
}
