import sharp from "sharp";
import type { BoxPx } from "../types";
import type { ScoredBox } from "./boxes";
import { colourLut, JET_LUT } from "./colormap";
import type { TileRect } from "./heatmap";

/** A grey image in [0, 1], row-major. */
export interface GreyImage {
  widthPx: number;
  heightPx: number;
  pixels: Float32Array;
}

export interface OverlayOptions {
  /** Heat map on the same grid as the image, values in [0, 1] (use normaliseMap). */
  heat?: Float32Array;
  /** Where the heat map is drawn (non-zero = drawn, e.g. tile coverage); default where heat > 0. */
  heatMask?: ArrayLike<number>;
  /** Opacity of the heat map where it is drawn (default 0.45). */
  opacity?: number;
  groundTruth?: BoxPx[];
  predictions?: ScoredBox[];
  /** Width of the PNG (default the image's width; height keeps the aspect). */
  outWidthPx?: number;
  /** Line width in output pixels (default 2). */
  lineWidthPx?: number;
  /** Colour map of the heat (default "jet"; "diverging" = blue-white-red, white at 0.5). */
  colormap?: "jet" | "diverging";
  /** Second set of predicted boxes (the `sharp` method), drawn dashed in cyan (best: magenta). */
  secondPredictions?: ScoredBox[];
  /** Title drawn in a band above the image ("\n" separates lines). */
  title?: string;
  /** Colour bar to the right of the image: the values at heat 0 and 1, and its label. */
  colourBar?: { min: number; max: number; label: string };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c);
}

function tick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 0.01 && a < 1000 ? v.toPrecision(3) : v.toExponential(2);
}

/**
 * PNG of the image with the heat map in the jet colour map blended at `opacity` where `heatMask`
 * is set (or, without a mask, where the map is > 0), ground-truth boxes in green and predicted boxes in yellow (the best one in red), the
 * boxes drawn as an SVG composited over the raw RGB.
 */
export async function renderOverlay(img: GreyImage, opts: OverlayOptions = {}): Promise<Buffer> {
  const { widthPx: W, heightPx: H, pixels } = img;
  if (pixels.length !== W * H) throw new Error(`renderOverlay: ${pixels.length} pixels is not ${W} x ${H}`);
  if (opts.heat && opts.heat.length !== W * H) throw new Error(`renderOverlay: heat map of ${opts.heat.length} values is not ${W} x ${H}`);
  const alpha = opts.opacity ?? 0.45;
  const LUT = colourLut(opts.colormap ?? "jet");
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const g = 255 * Math.min(1, Math.max(0, pixels[i]));
    let r = g;
    let gg = g;
    let b = g;
    const h = opts.heat ? opts.heat[i] : 0;
    const drawn = opts.heatMask ? opts.heatMask[i] !== 0 : h > 0;
    if (drawn && Number.isFinite(h)) {
      const k = Math.round(Math.min(1, h) * 255) * 3;
      r = (1 - alpha) * g + alpha * LUT[k];
      gg = (1 - alpha) * g + alpha * LUT[k + 1];
      b = (1 - alpha) * g + alpha * LUT[k + 2];
    }
    rgb[i * 3] = Math.round(r);
    rgb[i * 3 + 1] = Math.round(gg);
    rgb[i * 3 + 2] = Math.round(b);
  }
  const outW = Math.round(opts.outWidthPx ?? W);
  const outH = Math.max(1, Math.round((H * outW) / W));
  const k = outW / W;
  const lw = opts.lineWidthPx ?? 2;
  const rect = (b: BoxPx, colour: string): string =>
    `<rect x="${(b.x0 * k).toFixed(1)}" y="${(b.y0 * k).toFixed(1)}" width="${((b.x1 - b.x0) * k).toFixed(1)}" height="${((b.y1 - b.y0) * k).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${lw}"/>`;
  const preds = [...(opts.predictions ?? [])].sort((a, b) => b.score - a.score);
  const second = [...(opts.secondPredictions ?? [])].sort((a, b) => b.score - a.score);
  const dashed = (b: BoxPx, colour: string): string => rect(b, colour).replace("/>", ` stroke-dasharray="${3 * lw},${2 * lw}"/>`);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${outW}" height="${outH}">` +
    preds.map((b, i) => rect(b, i === 0 ? "#ff2020" : "#ffd800")).join("") +
    second.map((b, i) => dashed(b, i === 0 ? "#ff40ff" : "#20e0ff")).join("") +
    (opts.groundTruth ?? []).map((b) => rect(b, "#20ff40")).join("") +
    `</svg>`;
  const image = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: W, height: H, channels: 3 } })
    .resize(outW, outH, { kernel: "lanczos3" })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  if (!opts.title && !opts.colourBar) return image;
  // Frame: title band on top, colour bar on the right (vertical gradient of the LUT, 3 ticks).
  const titleLines = opts.title ? opts.title.split("\n") : [];
  const titleH = titleLines.length ? 8 + 16 * titleLines.length : 0;
  const barW = opts.colourBar ? 96 : 0;
  const totalW = outW + barW;
  const totalH = outH + titleH;
  let frame = `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}">`;
  titleLines.forEach((line, i) => {
    frame += `<text x="6" y="${17 + 16 * i}" font-family="sans-serif" font-size="13" fill="black">${escapeXml(line)}</text>`;
  });
  if (opts.colourBar) {
    const cb = opts.colourBar;
    const x = outW + 10;
    const y0 = titleH + 10;
    const h = Math.max(20, outH - 20);
    const stops = Array.from({ length: 17 }, (_, i) => {
      const k = Math.round((i / 16) * 255) * 3;
      return `<stop offset="${(i / 16).toFixed(4)}" stop-color="rgb(${LUT[k]},${LUT[k + 1]},${LUT[k + 2]})"/>`;
    }).join("");
    frame +=
      `<defs><linearGradient id="cb" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>` +
      `<rect x="${x}" y="${y0}" width="16" height="${h}" fill="url(#cb)" stroke="black" stroke-width="0.5"/>` +
      [0, 0.5, 1]
        .map((t) => {
          const yy = y0 + h * (1 - t);
          return `<line x1="${x + 16}" y1="${yy}" x2="${x + 20}" y2="${yy}" stroke="black"/><text x="${x + 22}" y="${yy + 4}" font-family="sans-serif" font-size="10" fill="black">${escapeXml(tick(cb.min + t * (cb.max - cb.min)))}</text>`;
        })
        .join("") +
      `<text x="${x + 80}" y="${y0 + h / 2}" font-family="sans-serif" font-size="11" fill="black" transform="rotate(-90 ${x + 80} ${y0 + h / 2})" text-anchor="middle">${escapeXml(cb.label)}</text>`;
  }
  frame += `</svg>`;
  return sharp({ create: { width: totalW, height: totalH, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      { input: image, top: titleH, left: 0 },
      { input: Buffer.from(frame), top: 0, left: 0 },
    ])
    .png()
    .toBuffer();
}

export interface GalleryOptions {
  /** Number of tiles shown, highest value first (default 8). */
  topK?: number;
  columns?: number;
  /** Side of each cell in the PNG (default 128). */
  cellPx?: number;
  /** Values mapped to the ends of the frame colour scale (default: lowest and highest value given). */
  colourRange?: [number, number];
}

/**
 * A grid PNG of the `topK` tiles with the highest values (attention), best first, each cropped
 * from the image, resized to `cellPx` and framed in a colour from the jet map of its value
 * between the lowest value of all tiles given (blue) and the best (red); the values are returned
 * so a caption can list them.
 */
export async function tileGallery(
  img: GreyImage,
  tiles: readonly TileRect[],
  values: Float32Array | readonly number[],
  opts: GalleryOptions = {},
): Promise<{ png: Buffer; shown: { tile: TileRect; value: number; rank: number }[] }> {
  if (values.length !== tiles.length) throw new Error(`tileGallery: ${tiles.length} tiles but ${values.length} values`);
  const k = Math.min(opts.topK ?? 8, tiles.length);
  const cols = Math.max(1, Math.min(opts.columns ?? 4, k));
  const cell = opts.cellPx ?? 128;
  const order = Array.from(tiles.keys()).sort((a, b) => values[b] - values[a]).slice(0, k);
  const rows = Math.max(1, Math.ceil(k / cols));
  const border = 4;
  const side = cell + 2 * border;
  const W = cols * side;
  const H = rows * side;
  const rgb = new Uint8Array(W * H * 3).fill(32);
  const best = k > 0 ? values[order[0]] : 1;
  let worst = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] < worst) worst = values[i];
  if (opts.colourRange) [worst] = opts.colourRange;
  const top = opts.colourRange ? opts.colourRange[1] : best;
  order.forEach((ti, rank) => {
    const t = tiles[ti];
    const ox = (rank % cols) * side;
    const oy = Math.floor(rank / cols) * side;
    const c = Math.round(Math.min(1, Math.max(0, top > worst ? (values[ti] - worst) / (top - worst) : 1)) * 255) * 3;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const o = ((oy + y) * W + ox + x) * 3;
        const inner = x >= border && y >= border && x < border + cell && y < border + cell;
        if (!inner) {
          rgb[o] = JET_LUT[c];
          rgb[o + 1] = JET_LUT[c + 1];
          rgb[o + 2] = JET_LUT[c + 2];
          continue;
        }
        // nearest-neighbour sample of the tile (a few hundred cells: no need for a resampler)
        const sx = Math.floor(t.xPx + ((x - border + 0.5) * t.sizePx) / cell);
        const sy = Math.floor(t.yPx + ((y - border + 0.5) * t.sizePx) / cell);
        const v = sx >= 0 && sy >= 0 && sx < img.widthPx && sy < img.heightPx ? img.pixels[sy * img.widthPx + sx] : 0;
        const g = Math.round(255 * Math.min(1, Math.max(0, v)));
        rgb[o] = g;
        rgb[o + 1] = g;
        rgb[o + 2] = g;
      }
    }
  });
  const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
  return { png, shown: order.map((ti, rank) => ({ tile: tiles[ti], value: values[ti], rank })) };
}
