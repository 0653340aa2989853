import { Rng } from "../../lib/util/rng";

/**
 * A simple test phantom (independent of lib/data): a half-ellipse breast against the chest-wall
 * edge, intensity falling off towards the skin line, dense blobs, noise, and a bright label in a
 * corner. Returns pixels in [0, 1] and the ground-truth silhouette.
 */
export function simplePhantom(opts: {
  widthPx: number;
  heightPx: number;
  chestWall: "left" | "right";
  seed: number;
  density?: number;
  label?: boolean;
}): { pixels: Float32Array; silhouette: Uint8Array } {
  const { widthPx: W, heightPx: H } = opts;
  const rng = new Rng(opts.seed);
  const pixels = new Float32Array(W * H);
  const silhouette = new Uint8Array(W * H);
  const cy = H * rng.range(0.45, 0.55);
  const ry = H * rng.range(0.35, 0.42);
  const rx = W * rng.range(0.45, 0.6);
  const blobs = Array.from({ length: 12 }, () => ({ x: rng.range(0, rx * 0.8), y: cy + rng.range(-ry, ry) * 0.7, r: rng.range(0.03, 0.08) * H }));
  const density = opts.density ?? 0.3;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d = opts.chestWall === "left" ? x + 0.5 : W - (x + 0.5);
      const e = (d / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2;
      const i = y * W + x;
      if (e < 1) {
        silhouette[i] = 1;
        let v = 0.35 + 0.25 * Math.sqrt(1 - e);
        for (const b of blobs) {
          const q = ((d - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r);
          if (q < 1) v += density * (1 - q);
        }
        pixels[i] = Math.min(1, v + rng.normal(0, 0.02));
      } else {
        pixels[i] = Math.max(0, 0.02 + rng.normal(0, 0.01));
      }
    }
  }
  if (opts.label) {
    const x0 = opts.chestWall === "left" ? Math.floor(W * 0.85) : Math.floor(W * 0.05);
    for (let y = Math.floor(H * 0.05); y < Math.floor(H * 0.08); y++)
      for (let x = x0; x < x0 + Math.floor(W * 0.08); x++) pixels[y * W + x] = 0.95;
  }
  return { pixels, silhouette };
}
