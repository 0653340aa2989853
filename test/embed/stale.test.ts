import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import { CHUNK_DIR, chunkFile, runEmbedding } from "../../lib/embed/run";
import { decodeGrey16Png, encodeGrey16Png } from "../../lib/preprocess/grey16";
import { makeManifest, storeFingerprint } from "./fixture";

// Reproductions 1 and 3 of issue 13: a changed input and a damaged chunk are never reused.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-stale-"));
const encDir = path.join(tmp, "encoder");
const dataDir = path.join(tmp, "tiles");
const manifestFile = path.join(dataDir, "manifest.json");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await makeManifest(dataDir, { bags: 4, workingSizePx: 128, tileSizePx: 64, globalSizePx: 64, seed: 7 });
  await writeBuiltinEncoder(encDir, { inputSizePx: 64, dim: 16, seed: 0 });
});

const run = (out: string) => runEmbedding({ manifest: manifestFile, encoder: encDir, out, progress: false, batchSize: 4 });

describe("embed reuses work only when its inputs' content is unchanged", () => {
  it("a changed working image redoes exactly that image, says why, and the store equals a fresh run", async () => {
    const out = path.join(tmp, "a");
    const first = await run(out);
    expect(first.stats.embeddedImages).toBe(first.stats.images);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { images: { imageId: string; workingImageFile: string; label: number | null; tiles: unknown[] }[] };
    const target = manifest.images.find((im) => im.label !== null && im.tiles.length > 0);
    if (!target) throw new Error("fixture has no tiled image");
    // "fix" the image: invert its pixels (same size, same file name)
    const file = path.join(dataDir, target.workingImageFile);
    const img = await decodeGrey16Png(file);
    const inverted = img.pixels.map((v) => 65535 - v);
    fs.writeFileSync(file, await encodeGrey16Png({ pixels: inverted, widthPx: img.widthPx, heightPx: img.heightPx }));
    const before = fs.readFileSync(path.join(out, "tiles.bin"));

    const second = await run(out);
    expect(second.stats.embeddedImages).toBe(1);
    expect(second.stats.reusedImages).toBe(first.stats.images - 1);
    expect(second.stats.redone).toEqual([{ imageId: target.imageId, reason: "input changed" }]);
    expect(fs.readFileSync(path.join(out, "tiles.bin")).equals(before)).toBe(false);
    const fresh = path.join(tmp, "fresh");
    await run(fresh);
    expect(storeFingerprint(out)).toEqual(storeFingerprint(fresh));
  });

  it("a chunk with flipped bytes (right size) is redone and reported, not reused", async () => {
    const out = path.join(tmp, "b");
    const first = await run(out);
    const m = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { images: { imageId: string; label: number | null }[] };
    const im = m.images.find((x) => x.label !== null);
    if (!im) throw new Error("no labelled image");
    const chunk = chunkFile(path.join(out, CHUNK_DIR), im);
    const buf = fs.readFileSync(chunk);
    const size = buf.length;
    buf[Math.floor(size / 2)] ^= 0xff;
    fs.writeFileSync(chunk, buf);
    expect(fs.statSync(chunk).size).toBe(size);
    const second = await run(out);
    expect(second.stats.embeddedImages).toBe(1);
    expect(second.stats.redone).toHaveLength(1);
    expect(second.stats.redone[0].imageId).toBe(im.imageId);
    expect(second.stats.redone[0].reason).toMatch(/checksum mismatch/);
    expect(second.stats.redone[0].reason).toContain(chunk);
    expect(storeFingerprint(out)).toEqual(storeFingerprint(path.join(tmp, "a")));
    expect(first.stats.images).toBe(second.stats.images);
  });

  it("another encoder (same name, other weights) redoes everything as 'parameters changed'", async () => {
    const out = path.join(tmp, "c");
    const enc2 = path.join(tmp, "encoder2");
    await writeBuiltinEncoder(enc2, { inputSizePx: 64, dim: 16, seed: 0 });
    const a = await runEmbedding({ manifest: manifestFile, encoder: enc2, out, progress: false, batchSize: 4 });
    expect(a.stats.embeddedImages).toBe(a.stats.images);
    // same folder, weights changed in place
    await writeBuiltinEncoder(enc2, { inputSizePx: 64, dim: 16, seed: 1 });
    const b = await runEmbedding({ manifest: manifestFile, encoder: enc2, out, progress: false, batchSize: 4 });
    expect(b.stats.reusedImages).toBe(0);
    expect(new Set(b.stats.redone.map((r) => r.reason))).toEqual(new Set(["parameters changed"]));
  });
});
