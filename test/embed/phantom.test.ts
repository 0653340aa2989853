import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBreast, sampleBreastShape, sampleLesions, type Density } from "../../lib/data/phantom";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import type { Encoder } from "../../lib/embed/encoder";
import { loadOnnxEncoder } from "../../lib/embed/onnxEncoder";
import { Rng } from "../../lib/util/rng";

/**
 * The built-in encoder on lib/data's mammography phantom: tiles centred near suspicious lesions
 * (masses, calcification clusters) vs tiles of lesion-free breasts, a linear probe (logistic
 * regression) trained on some breasts and scored on others. Images at 512 px height with 64 px
 * tiles, i.e. the pipeline's 1024 px / 128 px field of view at half the pixels.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-phantom-"));
let enc: Encoder;
beforeAll(async () => {
  enc = await loadOnnxEncoder(await writeBuiltinEncoder(path.join(tmp, "enc"), { inputSizePx: 64, dim: 128, seed: 0 }));
});
afterAll(async () => {
  await enc.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Sample {
  tile: Float32Array;
  y: 0 | 1;
  breast: number;
}

function crop(px: Float32Array, w: number, h: number, x0: number, y0: number, T: number): Float32Array {
  const out = new Float32Array(T * T);
  for (let y = 0; y < T; y++) for (let x = 0; x < T; x++) out[y * T + x] = px[Math.min(h - 1, Math.max(0, y0 + y)) * w + Math.min(w - 1, Math.max(0, x0 + x))];
  return out;
}

function samples(): Sample[] {
  const H = 512;
  const W = 416;
  const T = 64;
  const out: Sample[] = [];
  const densities: Density[] = ["A", "B", "C", "D"];
  for (let b = 0; b < 16; b++) {
    const rng = Rng.derive(77, "phantom-test", b);
    const positive = b % 2 === 0; // pairs (b, b+1) share the density: label is not confounded with it
    const shape = sampleBreastShape(rng);
    const lesions = positive ? sampleLesions(rng, 5, shape, ["CC"], W, H) : [];
    const r = renderBreast({ widthPx: W, heightPx: H, view: "CC", chestWallSide: "left", density: densities[Math.floor(b / 2) % 4], shape, lesions, bitsStored: 12 }, rng);
    // a fixed window for every image (12-bit range -> [0, 1]): a per-image min-max would make the
    // tissue of lesion breasts darker (the lesion raises the max) and leak the label
    const px = Float32Array.from(r.pixels, (v, i) => (r.breastMask[i] ? v / 4095 : 0));
    // Both classes: tiles (nearly) all inside the breast, so the skin line / background cannot
    // tell them apart.
    const inside = (x: number, y: number): boolean => {
      if (x < 0 || y < 0 || x + T > W || y + T > H) return false;
      let n = 0;
      for (let yy = y; yy < y + T; yy += 8) for (let xx = x; xx < x + T; xx += 8) n += r.breastMask[yy * W + xx];
      return n >= 60;
    };
    if (positive) {
      for (const l of r.lesions) {
        const cx = (l.x0 + l.x1) / 2;
        const cy = (l.y0 + l.y1) / 2;
        let made = 0;
        for (let tries = 0; tries < 200 && made < 4; tries++) {
          const x = Math.round(cx - rng.range(12, T - 12));
          const y = Math.round(cy - rng.range(12, T - 12));
          if (!inside(x, y)) continue;
          out.push({ tile: crop(px, W, H, x, y, T), y: 1, breast: b });
          made++;
        }
      }
    } else {
      let made = 0;
      for (let tries = 0; tries < 400 && made < 6; tries++) {
        const x = rng.int(0, W - T);
        const y = rng.int(0, H - T);
        if (!inside(x, y)) continue;
        out.push({ tile: crop(px, W, H, x, y, T), y: 0, breast: b });
        made++;
      }
    }
  }
  return out;
}

describe("built-in encoder on the lib/data phantom", () => {
  it("a linear probe separates lesion tiles from normal tissue on held-out breasts", async () => {
    const S = samples();
    const T = 64;
    const batch = new Float32Array(S.length * T * T);
    S.forEach((s, i) => batch.set(s.tile, i * T * T));
    const X = await enc.embed(batch, S.length);
    const D = enc.dim;
    const aucs: number[] = [];
    for (const fold of [0, 1]) {
      // breasts 0,1 / 4,5 / ... train; 2,3 / 6,7 / ... test (and swapped): each side has both labels
      const isTest = (s: Sample): boolean => (Math.floor(s.breast / 2) % 2) === fold;
      const tr = S.map((_, i) => i).filter((i) => !isTest(S[i]));
      const te = S.map((_, i) => i).filter((i) => isTest(S[i]));
      const P = tr.filter((i) => S[i].y === 1).length;
      const N = tr.length - P;
      const w = new Float64Array(D + 1);
      for (let ep = 0; ep < 300; ep++) {
        const g = new Float64Array(D + 1);
        for (const i of tr) {
          let z = w[D];
          for (let d = 0; d < D; d++) z += w[d] * X[i * D + d];
          const c = (1 / (1 + Math.exp(-z)) - S[i].y) * (S[i].y ? tr.length / (2 * P) : tr.length / (2 * N));
          for (let d = 0; d < D; d++) g[d] += c * X[i * D + d];
          g[D] += c;
        }
        for (let d = 0; d <= D; d++) w[d] -= (5 * g[d]) / tr.length;
      }
      const score = (i: number): number => {
        let z = w[D];
        for (let d = 0; d < D; d++) z += w[d] * X[i * D + d];
        return z;
      };
      const pos = te.filter((i) => S[i].y === 1).map(score);
      const neg = te.filter((i) => S[i].y === 0).map(score);
      let a = 0;
      for (const p of pos) for (const n of neg) a += p > n ? 1 : p === n ? 0.5 : 0;
      aucs.push(a / (pos.length * neg.length));
    }
    if (process.env.MILPF_DEBUG) console.log("phantom probe AUCs", aucs, "positives", S.filter((s) => s.y === 1).length, "negatives", S.filter((s) => s.y === 0).length);
    expect(S.filter((s) => s.y === 1).length).toBeGreaterThan(15);
    expect((aucs[0] + aucs[1]) / 2).toBeGreaterThan(0.75); // chance is 0.5
  });
});
