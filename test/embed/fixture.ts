import * as fs from "node:fs";
import * as path from "node:path";
import { encodeGrey16Png } from "../../lib/preprocess/grey16";
import type { ManifestImage, TileManifest, TileRecord } from "../../lib/types";
import { Rng } from "../../lib/util/rng";

export interface FixtureOptions {
  bags: number;
  workingSizePx?: number;
  tileSizePx?: number;
  globalSizePx?: number;
  seed?: number;
}

/**
 * A small tile manifest made here: `bags` breasts with CC + MLO images (16-bit PNGs: textured
 * background; positive bags carry a bright disc), tiles on a grid (a few dropped to vary the
 * counts), plus one unlabelled image that the run must leave out.
 */
export async function makeManifest(dir: string, o: FixtureOptions): Promise<TileManifest> {
  const W = o.workingSizePx ?? 256;
  const T = o.tileSizePx ?? 64;
  const G = o.globalSizePx ?? 64;
  const rng = new Rng(o.seed ?? 1);
  fs.mkdirSync(path.join(dir, "working"), { recursive: true });
  fs.mkdirSync(path.join(dir, "global"), { recursive: true });
  const images: ManifestImage[] = [];
  const draw = (S: number, positive: boolean): Uint16Array => {
    const px = new Uint16Array(S * S);
    const cx = rng.range(0.3, 0.7) * S;
    const cy = rng.range(0.3, 0.7) * S;
    const r = rng.range(0.05, 0.15) * S;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        let v = 0.3 + 0.05 * Math.sin(x / 7 + y / 11) + rng.normal(0, 0.02);
        if (positive && Math.hypot(x - cx, y - cy) < r) v += 0.3;
        px[y * S + x] = Math.round(Math.min(1, Math.max(0, v)) * 65535);
      }
    return px;
  };
  const bagIds = Array.from({ length: o.bags }, (_, b) => `S${(o.bags - b).toString().padStart(3, "0")}_${b % 2 ? "L" : "R"}`);
  for (let b = 0; b < o.bags + 1; b++) {
    const unlabelled = b === o.bags;
    const label = unlabelled ? null : ((b % 3 === 0 ? 1 : 0) as 0 | 1);
    const breastId = unlabelled ? "S999_L" : bagIds[b];
    for (const view of unlabelled ? ["CC"] : ["CC", "MLO"]) {
      const imageId = `${breastId}_${view}`;
      const work = `working/${imageId}.png`;
      const glob = `global/${imageId}.png`;
      fs.writeFileSync(path.join(dir, work), await encodeGrey16Png({ pixels: draw(W, label === 1), widthPx: W, heightPx: W }));
      fs.writeFileSync(path.join(dir, glob), await encodeGrey16Png({ pixels: draw(G, label === 1), widthPx: G, heightPx: G }));
      const tiles: TileRecord[] = [];
      for (let y = 0; y + T <= W; y += T) for (let x = 0; x + T <= W; x += T) if (rng.uniform() < 0.8) tiles.push({ xPx: x, yPx: y, sizePx: T, tissueFraction: 1 });
      images.push({
        imageId,
        patientId: `P${breastId.slice(1, 4)}`,
        studyId: breastId.slice(0, 4),
        breastId,
        laterality: breastId.endsWith("L") ? "L" : "R",
        view,
        label,
        birads: label === 1 ? 4 : 1,
        split: unlabelled ? null : b % 4 === 3 ? "test" : b % 4 === 2 ? "val" : "train",
        sourceFile: `${imageId}.dcm`,
        transform: { originalWidthPx: W, originalHeightPx: W, flipped: false, crop: { x0: 0, y0: 0, x1: W, y1: W }, squareSizePx: W, padXPx: 0, padYPx: 0, workingSizePx: W, scale: 1 },
        workingImageFile: work,
        globalViewFile: glob,
        lesionsWorking: [],
        tiles,
      });
    }
  }
  const manifest: TileManifest = {
    version: 1,
    createdAt: "2026-01-01T00:00:00Z",
    datasetDir: dir,
    params: { workingSizePx: W, tileSizePx: T, overlap: 0, tissueRule: "maskFraction", minTissueFraction: 0, meanIntensityFactor: 0.05, globalSizePx: G, preprocessing: "milpf" },
    images,
    skipped: [],
  };
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** The bytes of every store file plus store.json without its timestamp. */
export function storeFingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ["globals.bin", "tiles.bin", "globals_rows.i32", "tiles_rows.i32"]) out[f] = fs.readFileSync(path.join(dir, f)).toString("base64");
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "store.json"), "utf8")) as Record<string, unknown>;
  delete meta.createdAt;
  out["store.json"] = JSON.stringify(meta);
  return out;
}
