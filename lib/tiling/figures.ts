import * as path from "node:path";
import sharp from "sharp";
import type { ManifestImage, Split, TileManifest } from "../types";
import { decodeGrey16Png, decodeMaskPng } from "../preprocess/grey16";
import { FONT_FAMILY, axis, baseLayout, legendStrip, seriesColour, withTitle } from "../plot/style";

/** Overlay colours of the tiling pictures (bright, to stand out on a grey mammogram); the legend uses the same. */
export const OVERLAY_COLOURS = { mask: "#FFDC00", tile: "#00DCFF", lesion: "#FF2828" } as const;
const rgbOf = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

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
 * and lesion boxes (red), at sizePx x sizePx (OVERLAY_COLOURS). Returns PNG bytes.
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
        [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]] = rgbOf(OVERLAY_COLOURS.mask);
      }
  }
  const s = sizePx / N;
  const rect = (x0: number, y0: number, x1: number, y1: number, colour: string, width: number): string =>
    `<rect x="${(x0 * s).toFixed(1)}" y="${(y0 * s).toFixed(1)}" width="${((x1 - x0) * s).toFixed(1)}" height="${((y1 - y0) * s).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${width}"/>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${sizePx}" height="${sizePx}">` +
    img.tiles.map((t) => rect(t.xPx + 0.5, t.yPx + 0.5, t.xPx + t.sizePx - 0.5, t.yPx + t.sizePx - 0.5, OVERLAY_COLOURS.tile, 1)).join("") +
    img.lesionsWorking.map((l) => rect(l.x0, l.y0, l.x1, l.y1, OVERLAY_COLOURS.lesion, 2)).join("") +
    `</svg>`;
  return sharp(rgba, { raw: { width: sizePx, height: sizePx, channels: 4 } })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .png()
    .toBuffer();
}

/** The caption under an image of the gallery: view, label and tile count. */
export function overlayCaption(img: ManifestImage): string {
  const label = img.label === null ? "unlabelled" : img.label === 1 ? "label 1" : "label 0";
  return `${img.laterality} ${img.view}, ${label}, ${img.tiles.length} tiles${img.lesionsWorking.length ? `, ${img.lesionsWorking.length} lesion${img.lesionsWorking.length > 1 ? "s" : ""}` : ""}`;
}

/**
 * Several overlays side by side (one row), each with a caption, under a title, over a legend of
 * the mask outline, the kept tiles and the lesion boxes. Returns PNG bytes.
 */
export async function renderTilingGallery(manifestDir: string, images: readonly ManifestImage[], sizePx = 320, gapPx = 8): Promise<Buffer> {
  if (images.length === 0) throw new Error("renderTilingGallery: no images");
  const tiles = await Promise.all(images.map((m) => renderTilingOverlay(manifestDir, m, sizePx)));
  const width = images.length * sizePx + (images.length - 1) * gapPx;
  const font = Math.max(11, Math.round(sizePx / 24));
  const captionH = Math.ceil(font * 1.8);
  const esc = (t: string): string => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const captions =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${captionH}">` +
    images.map((m, k) => `<text x="${k * (sizePx + gapPx) + sizePx / 2}" y="${(font * 1.25).toFixed(1)}" text-anchor="middle" font-family="${FONT_FAMILY}" font-size="${font}" fill="#222">${esc(overlayCaption(m))}</text>`).join("") +
    `</svg>`;
  const legend = await legendStrip(width, [
    { colour: OVERLAY_COLOURS.mask, label: "breast-mask outline", kind: "line" },
    { colour: OVERLAY_COLOURS.tile, label: "kept tile", kind: "box" },
    { colour: OVERLAY_COLOURS.lesion, label: "lesion box (ground truth)", kind: "box" },
  ], { fontPx: font });
  const legendMeta = await sharp(legend).metadata();
  const totalW = Math.max(width, legendMeta.width ?? width);
  const body = await sharp({ create: { width: totalW, height: sizePx + captionH + (legendMeta.height ?? 0), channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      ...tiles.map((input, k) => ({ input, left: k * (sizePx + gapPx), top: 0 })),
      { input: Buffer.from(captions), left: 0, top: sizePx },
      { input: legend, left: 0, top: sizePx + captionH },
    ])
    .png()
    .toBuffer();
  return withTitle(body, "Working images after preprocessing: breast mask, kept tiles and lesions", { fontPx: font + 2, subtitle: "Every breast is oriented to the left edge, cropped to its mask, padded to a square and resized to the working size." });
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

/** Plotly histogram of kept tiles per image, one trace per view position (fixed series colours). */
export function tilesPerViewFigure(manifest: TileManifest): { data: object[]; layout: Record<string, unknown> } {
  const views = [...new Set(manifest.images.map((m) => m.view))].sort();
  const p = manifest.params;
  return {
    data: views.map((v, i) => ({
      type: "histogram",
      name: v,
      x: manifest.images.filter((m) => m.view === v).map((m) => m.tiles.length),
      // One bin per tile count, the same bins for every view.
      xbins: { size: 1 },
      autobinx: false,
      opacity: 0.65,
      marker: { color: seriesColour(i), line: { color: "white", width: 0.3 } },
    })),
    layout: {
      ...baseLayout({ title: "Tiles kept per image, by view", width: "column", height: 220 }),
      margin: { l: 40, r: 8, t: 28, b: 56 },
      barmode: "overlay",
      xaxis: axis(`tiles per image (${p.tileSizePx} px on ${p.workingSizePx} px, overlap ${p.overlap})`),
      yaxis: axis("images"),
      legend: { orientation: "h", x: 0, xanchor: "left", y: -0.3, yanchor: "top", font: { size: 7 }, title: { text: "view ", font: { size: 7 } } },
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
        tilesPerImage: tiles / ims.length,
      });
    }
  return rows;
}

/**
 * The notebook's closing "what you saw" paragraph (Markdown), with the numbers of this run: images,
 * breasts, patients, time (wall clock), tiles per image by view, splits and labels, notes, skips.
 */
export function describeTiling(manifest: TileManifest, stats: { images: number; processed: number; reused: number; skipped: number; tiles: number; seconds: number; workers: number }, manifestFile?: string): string {
  const ims = manifest.images;
  const p = manifest.params;
  const breasts = new Set(ims.map((m) => m.breastId));
  const patients = new Set(ims.map((m) => m.patientId));
  const counts = ims.map((m) => m.tiles.length);
  const mean = counts.length ? counts.reduce((a, b) => a + b, 0) / counts.length : 0;
  const views = [...new Set(ims.map((m) => m.view))].sort();
  const perView = views.map((v) => {
    const c = ims.filter((m) => m.view === v).map((m) => m.tiles.length);
    return `${v} ${(c.reduce((a, b) => a + b, 0) / c.length).toFixed(1)}`;
  });
  const bagsBy = (split: Split): number => new Set(ims.filter((m) => m.split === split).map((m) => m.breastId)).size;
  const positiveBags = new Set(ims.filter((m) => m.label === 1).map((m) => m.breastId)).size;
  const lesions = ims.reduce((a, m) => a + m.lesionsWorking.length, 0);
  const noted = ims.filter((m) => m.notes?.length).length;
  const rate = stats.seconds > 0 ? stats.processed / stats.seconds : 0;
  const parts = [
    `**What you saw.** ${ims.length} labelled images of ${breasts.size} breasts from ${patients.size} patients went through the preprocessing ` +
      `in ${stats.seconds.toFixed(1)} s wall clock (${stats.processed} processed at ${rate.toFixed(1)} images/s on ${stats.workers} worker${stats.workers === 1 ? "" : "s"}, ${stats.reused} reused from an earlier run, ${stats.skipped} skipped).`,
    `They gave ${stats.tiles} tiles of ${p.tileSizePx} px on ${p.workingSizePx} px working images: ${mean.toFixed(1)} per image on average (${counts.length ? Math.min(...counts) : 0} to ${counts.length ? Math.max(...counts) : 0}; by view: ${perView.join(", ")}), plus one ${p.globalSizePx} px global view per image.`,
    `Bags (breasts) per split: train ${bagsBy("train")}, val ${bagsBy("val")}, test ${bagsBy("test")}; ${positiveBags} of ${breasts.size} are positive, with ${lesions} lesion box${lesions === 1 ? "" : "es"} mapped into the working frame.`,
    noted ? `${noted} image${noted === 1 ? " has" : "s have"} a preprocessing note (e.g. the laterality tag overridden by the column sums).` : "No image needed a laterality correction.",
    manifestFile ? `The manifest is \`${manifestFile}\`; stage 2 (\`02_embed\`) reads it.` : "Stage 2 (`02_embed`) reads the manifest.",
  ];
  return parts.join(" ");
}
