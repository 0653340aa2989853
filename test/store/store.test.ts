import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { float16BitsToFloat32, float32ToFloat16Bits } from "../../lib/store/float16";
import { STORE_FILES, type StoreData } from "../../lib/store/format";
import { openStore, readStoreData } from "../../lib/store/read";
import { storeSummary } from "../../lib/store/summary";
import { StoreWriter, writeStore } from "../../lib/store/write";
import { Rng } from "../../lib/util/rng";

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-store-"));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A small random store: `bags` bags of 1-3 images, each image 1 global row and 0-6 tiles. */
function makeData(seed: number, D = 7, nBags = 5): StoreData {
  const rng = new Rng(seed);
  const bags: StoreData["bags"] = [];
  const images: StoreData["images"] = [];
  const g: number[] = [];
  const t: number[] = [];
  const gr: number[] = [];
  const tr: number[] = [];
  for (let b = 0; b < nBags; b++) {
    bags.push({ bagId: `S${b}_L`, patientId: `P${b}`, label: (b % 2) as 0 | 1, split: b < 3 ? "train" : "test" });
    const nIm = rng.int(1, 3);
    for (let i = 0; i < nIm; i++) {
      const imageIndex = images.length;
      images.push({ imageId: `im${b}_${i}`, bagIndex: b, view: i % 2 ? "MLO" : "CC" });
      for (let d = 0; d < D; d++) g.push(rng.normal());
      gr.push(b, imageIndex);
      const nT = rng.int(0, 6);
      for (let k = 0; k < nT; k++) {
        for (let d = 0; d < D; d++) t.push(rng.normal() * 10 ** rng.range(-6, 4));
        tr.push(b, imageIndex, 128 * k, 128 * i, 128);
      }
    }
  }
  return {
    encoder: { name: "test", dim: D, inputSizePx: 16, provider: "cpu", params: { seed } },
    dtype: "float32",
    bags,
    images,
    params: { note: "unit test" },
    globals: Float32Array.from(g),
    tiles: Float32Array.from(t),
    globalRows: Int32Array.from(gr),
    tileRows: Int32Array.from(tr),
  };
}

describe("embedding store", () => {
  it("float32 round trip is bit-exact, offsets match the rows", () => {
    const data = makeData(1);
    const dir = path.join(tmpRoot, "f32");
    const meta = writeStore(dir, data);
    expect(meta.globalCount).toBe(data.globalRows.length / 2);
    const r = openStore(dir);
    expect(Buffer.from(r.readTiles().buffer)).toEqual(Buffer.from(data.tiles.buffer));
    expect(Buffer.from(r.readGlobals().buffer)).toEqual(Buffer.from(data.globals.buffer));
    expect(Array.from(r.tileRows)).toEqual(Array.from(data.tileRows));
    expect(r.meta.bags).toEqual(data.bags);
    // Python-readable layout: raw little-endian float32, file size = rows x D x 4.
    expect(fs.statSync(path.join(dir, STORE_FILES.tiles)).size).toBe(data.tiles.length * 4);
    // Offsets: every row in [o[b], o[b+1]) has bag b; ranges are read back in chunks.
    for (let b = 0; b < data.bags.length; b++) {
      for (let i = r.bagTileOffsets[b]; i < r.bagTileOffsets[b + 1]; i++) expect(r.tileRows[i * 5]).toBe(b);
      for (let i = r.bagGlobalOffsets[b]; i < r.bagGlobalOffsets[b + 1]; i++) expect(r.globalRows[i * 2]).toBe(b);
    }
    expect(r.bagTileOffsets[data.bags.length]).toBe(r.meta.tileCount);
    const D = data.encoder.dim;
    const part = r.readTiles(2, 5);
    expect(Array.from(part)).toEqual(Array.from(data.tiles.subarray(2 * D, 5 * D)));
    expect(() => r.readTiles(3, r.meta.tileCount + 1)).toThrow(/tiles\.bin: row range/);
  });

  it("float16 stores each value as its nearest half", () => {
    const data = { ...makeData(2), dtype: "float16" as const };
    const dir = path.join(tmpRoot, "f16");
    writeStore(dir, data);
    expect(fs.statSync(path.join(dir, STORE_FILES.tiles)).size).toBe(data.tiles.length * 2);
    const back = openStore(dir).readTiles();
    const buf = fs.readFileSync(path.join(dir, STORE_FILES.tiles));
    const raw = new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    for (let i = 0; i < data.tiles.length; i++) {
      expect(raw[i]).toBe(float32ToFloat16Bits(data.tiles[i]));
      expect(back[i]).toBe(float16BitsToFloat32(raw[i]));
      const a = Math.abs(data.tiles[i]);
      if (a >= 2 ** -14 && a <= 65504) expect(Math.abs(back[i] - data.tiles[i])).toBeLessThanOrEqual(a * 2 ** -11);
      else if (a < 2 ** -14) expect(Math.abs(back[i] - data.tiles[i])).toBeLessThanOrEqual(2 ** -25);
    }
  });

  it("the appendable writer produces the same files as writeStore", () => {
    const data = makeData(3);
    const D = data.encoder.dim;
    const a = path.join(tmpRoot, "whole");
    const b = path.join(tmpRoot, "appended");
    writeStore(a, data, { createdAt: "2020-01-01T00:00:00Z" });
    const w = new StoreWriter(b, { encoder: data.encoder, dtype: "float32", params: data.params, createdAt: "2020-01-01T00:00:00Z" });
    data.bags.forEach((bag, bi) => {
      const ims = data.images
        .map((im, ii) => ({ im, ii }))
        .filter((x) => x.im.bagIndex === bi)
        .map(({ im, ii }) => {
          const gIdx: number[] = [];
          for (let r = 0; r < data.globalRows.length / 2; r++) if (data.globalRows[r * 2 + 1] === ii) gIdx.push(r);
          const tIdx: number[] = [];
          for (let r = 0; r < data.tileRows.length / 5; r++) if (data.tileRows[r * 5 + 1] === ii) tIdx.push(r);
          const globals = new Float32Array(gIdx.length * D);
          gIdx.forEach((r, k) => globals.set(data.globals.subarray(r * D, (r + 1) * D), k * D));
          const tiles = new Float32Array(tIdx.length * D);
          const coords = new Int32Array(tIdx.length * 3);
          tIdx.forEach((r, k) => {
            tiles.set(data.tiles.subarray(r * D, (r + 1) * D), k * D);
            coords.set(data.tileRows.subarray(r * 5 + 2, r * 5 + 5), k * 3);
          });
          return { imageId: im.imageId, view: im.view, globals, tiles, tileCoordsPx: coords };
        });
      w.appendBag(bag, ims);
    });
    expect(fs.existsSync(path.join(b, STORE_FILES.meta))).toBe(false); // not visible before finish()
    w.finish();
    for (const f of Object.values(STORE_FILES)) expect(fs.readFileSync(path.join(b, f))).toEqual(fs.readFileSync(path.join(a, f)));
    expect(fs.readdirSync(b).sort()).toEqual(Object.values(STORE_FILES).sort());
  });

  it("rejects inconsistent data and damaged stores with errors naming the file", () => {
    const data = makeData(4);
    expect(() => writeStore(path.join(tmpRoot, "bad1"), { ...data, tiles: data.tiles.subarray(1) })).toThrow(/bad1: invalid store data: tiles/);
    const swapped = Int32Array.from(data.tileRows);
    const last = swapped.length / 5 - 1;
    swapped[0] = data.bags.length - 1;
    swapped[1] = data.images.findIndex((im) => im.bagIndex === data.bags.length - 1);
    if (last > 0) expect(() => writeStore(path.join(tmpRoot, "bad2"), { ...data, tileRows: swapped })).toThrow(/grouped by bag/);

    const dir = path.join(tmpRoot, "damaged");
    writeStore(dir, data);
    const tilesFile = path.join(dir, STORE_FILES.tiles);
    fs.truncateSync(tilesFile, fs.statSync(tilesFile).size - 4);
    expect(() => openStore(dir)).toThrow(new RegExp(`tiles\\.bin: \\d+ bytes, expected`));
    fs.rmSync(path.join(dir, STORE_FILES.meta));
    expect(() => openStore(dir)).toThrow(/store\.json: not found/);
    fs.writeFileSync(path.join(dir, STORE_FILES.meta), "{ nope");
    expect(() => openStore(dir)).toThrow(/store\.json: not valid JSON/);
  });

  it("readStoreData returns everything", () => {
    const data = makeData(5);
    const dir = path.join(tmpRoot, "all");
    writeStore(dir, data);
    const back = readStoreData(dir);
    expect(back.images).toEqual(data.images);
    expect(Array.from(back.globalRows)).toEqual(Array.from(data.globalRows));
    expect(back.encoder).toEqual(data.encoder);
  });

  it("summarises bags, images and rows per split and label", () => {
    const data = makeData(6, 3, 8);
    const dir = path.join(tmpRoot, "summary");
    writeStore(dir, data);
    const rows = storeSummary(openStore(dir));
    const total = rows[rows.length - 1];
    expect(total).toMatchObject({ split: "all", bags: 8, images: data.images.length, globalViews: data.globalRows.length / 2, tiles: data.tileRows.length / 5 });
    // independent count for train / label 1
    const bagIdx = data.bags.map((b, i) => ({ b, i })).filter((x) => x.b.split === "train" && x.b.label === 1).map((x) => x.i);
    let tiles = 0;
    for (let r = 0; r < data.tileRows.length / 5; r++) if (bagIdx.includes(data.tileRows[r * 5])) tiles++;
    const row = rows.find((r) => r.split === "train" && r.label === 1);
    expect(row?.bags).toBe(bagIdx.length);
    expect(row?.tiles).toBe(tiles);
    expect(rows.slice(0, -1).reduce((s, r) => s + r.tiles, 0)).toBe(total.tiles);
  });
});
