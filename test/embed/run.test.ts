import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import type { Encoder } from "../../lib/embed/encoder";
import { loadEncoder } from "../../lib/embed/loadEncoder";
import { CHUNK_DIR, planBags, runEmbedding } from "../../lib/embed/run";
import { decodeGrey16Png, resizeGrey16 } from "../../lib/preprocess/grey16";
import { cropTile } from "../../lib/tiling/crop";
import { mergeStores } from "../../lib/store/merge";
import { openStore } from "../../lib/store/read";
import type { TileManifest } from "../../lib/types";
import { makeManifest, storeFingerprint } from "./fixture";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-run-"));
const encDir = path.join(tmp, "encoder");
const dataDir = path.join(tmp, "tiles");
const manifestFile = path.join(dataDir, "manifest.json");
let manifest: TileManifest;
let enc: Encoder;

beforeAll(async () => {
  manifest = await makeManifest(dataDir, { bags: 6, workingSizePx: 256, tileSizePx: 64, globalSizePx: 64 });
  await writeBuiltinEncoder(encDir, { inputSizePx: 64, dim: 32, seed: 0 });
  enc = await loadEncoder(encDir);
});
afterAll(async () => {
  await enc.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("runEmbedding", () => {
  it("embeds labelled images into bags sorted by id, rows matching a direct encoder call", async () => {
    const out = path.join(tmp, "single");
    const res = await runEmbedding({ manifest: manifestFile, encoder: encDir, out, progress: false, batchSize: 7 });
    const r = openStore(out);
    const labelled = manifest.images.filter((im) => im.label !== null);
    expect(r.meta.images.length).toBe(labelled.length);
    expect(r.meta.tileCount).toBe(labelled.reduce((s, im) => s + im.tiles.length, 0));
    expect(r.meta.globalCount).toBe(labelled.length);
    const ids = r.meta.bags.map((b) => b.bagId);
    expect(ids).toEqual([...ids].sort());
    expect(ids).not.toContain("S999_L");
    expect(res.stats.embeddedImages).toBe(labelled.length);
    expect(r.meta.encoder.name).toBe("milpf-builtin");
    expect(r.meta.encoder.provider).toBe("cpu");
    // bag labels and splits come from the manifest
    for (const b of r.meta.bags) {
      const im = manifest.images.find((m) => m.breastId === b.bagId);
      expect([b.label, b.split, b.patientId]).toEqual([im?.label, im?.split, im?.patientId]);
    }
    // one image by hand: crop its third tile and its global view, embed directly, compare
    const imIndex = 3;
    const sim = r.meta.images[imIndex];
    const mim = manifest.images.find((m) => m.imageId === sim.imageId);
    if (!mim) throw new Error("image not in manifest");
    const work = await decodeGrey16Png(path.join(dataDir, mim.workingImageFile));
    const t = mim.tiles[2];
    const tile = new Float32Array(64 * 64);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) tile[y * 64 + x] = work.pixels[(t.yPx + y) * 256 + t.xPx + x] / 65535;
    const direct = await enc.embed(tile, 1);
    const rows: number[] = [];
    for (let i = 0; i < r.meta.tileCount; i++) if (r.tileRows[i * 5 + 1] === imIndex) rows.push(i);
    const row = rows[2];
    expect(Array.from(r.tileRows.subarray(row * 5 + 2, row * 5 + 5))).toEqual([t.xPx, t.yPx, 64]);
    const stored = r.readTiles(row, row + 1);
    for (let d = 0; d < 32; d++) expect(stored[d]).toBeCloseTo(direct[d], 5);
    const g = await decodeGrey16Png(path.join(dataDir, mim.globalViewFile));
    const gd = await enc.embed(Float32Array.from(g.pixels, (v) => v / 65535), 1);
    const gRow = Array.from({ length: r.meta.globalCount }, (_, i) => i).find((i) => r.globalRows[i * 2 + 1] === imIndex) ?? -1;
    const gs = r.readGlobals(gRow, gRow + 1);
    for (let d = 0; d < 32; d++) expect(gs[d]).toBeCloseTo(gd[d], 5);
  });

  it("a re-run reuses the chunks and writes the same store; float16 store matches float32 within rounding", async () => {
    const out = path.join(tmp, "single");
    const before = storeFingerprint(out);
    const res = await runEmbedding({ manifest: manifestFile, encoder: encDir, out, progress: false, batchSize: 7 });
    expect(res.stats.reusedImages).toBe(res.stats.images);
    expect(res.stats.embeddedImages).toBe(0);
    expect(storeFingerprint(out)).toEqual(before);
    const half = path.join(tmp, "half");
    await runEmbedding({ manifest: manifestFile, encoder: encDir, out: half, progress: false, batchSize: 7, dtype: "float16", keepChunks: false });
    expect(fs.existsSync(path.join(half, CHUNK_DIR))).toBe(false);
    const a = openStore(out).readTiles();
    const b = openStore(half).readTiles();
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.max(Math.abs(a[i]) * 2 ** -11, 2 ** -25));
  });

  it("merged shards equal one run", async () => {
    const shards = [0, 1, 2].map((k) => path.join(tmp, `shard${k}`));
    for (let k = 0; k < 3; k++) {
      await runEmbedding({ manifest: manifestFile, encoder: encDir, out: shards[k], progress: false, batchSize: 7, shard: { index: k, count: 3 } });
    }
    const nBags = planBags(manifest).bags.length;
    expect(shards.map((s) => openStore(s).meta.bags.length).reduce((x, y) => x + y, 0)).toBe(nBags);
    const merged = path.join(tmp, "merged");
    mergeStores(shards, merged);
    expect(storeFingerprint(merged)).toEqual(storeFingerprint(path.join(tmp, "single")));
    expect(() => mergeStores([shards[0], shards[0]], path.join(tmp, "dup"))).toThrow(/overlapping shards/);
  });

  it("skips an image whose PNG is broken and reports it; the rest is stored", async () => {
    const broken = path.join(tmp, "broken");
    fs.cpSync(dataDir, broken, { recursive: true });
    const victim = manifest.images[1];
    fs.writeFileSync(path.join(broken, victim.workingImageFile), "not a png");
    const res = await runEmbedding({ manifest: path.join(broken, "manifest.json"), encoder: encDir, out: path.join(tmp, "broken-out"), progress: false });
    expect(res.stats.skipped.map((s) => s.imageId)).toEqual([victim.imageId]);
    expect(res.stats.skipped[0].error).toMatch(/cannot decode 16-bit grey PNG/);
    expect(res.meta.images.map((i) => i.imageId)).not.toContain(victim.imageId);
    expect(res.meta.images.length).toBe(manifest.images.filter((im) => im.label !== null).length - 1);
  });

  it("resizes tiles to the encoder's input size with the preprocessor's kernel", async () => {
    const small = path.join(tmp, "enc32");
    await writeBuiltinEncoder(small, { inputSizePx: 32, dim: 16, seed: 2 });
    const e32 = await loadEncoder(small);
    const out = path.join(tmp, "resized");
    const res = await runEmbedding({ manifest: manifestFile, encoder: small, out, progress: false });
    expect(res.meta.encoder.inputSizePx).toBe(32);
    const r = openStore(out);
    const im = manifest.images.find((m) => m.imageId === r.meta.images[0].imageId);
    if (!im) throw new Error("image not in manifest");
    const work = await decodeGrey16Png(path.join(dataDir, im.workingImageFile));
    const t = im.tiles[1];
    const px = await resizeGrey16({ pixels: cropTile(work.pixels, work.widthPx, t), widthPx: 64, heightPx: 64 }, 32, 32, e32.resampleKernel);
    const direct = await e32.embed(Float32Array.from(px, (v) => v / 65535), 1);
    const stored = r.readTiles(1, 2);
    expect(Array.from(r.tileRows.subarray(5 + 2, 5 + 5))).toEqual([t.xPx, t.yPx, 64]);
    for (let d = 0; d < 16; d++) expect(stored[d]).toBeCloseTo(direct[d], 5);
    await e32.close();
  });
});
