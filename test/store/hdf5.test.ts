import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { STORE_FILES, type StoreData } from "../../lib/store/format";
import { exportStoreToHdf5, importHdf5Store, loadH5wasm } from "../../lib/store/hdf5";
import { openStore } from "../../lib/store/read";
import { writeStore } from "../../lib/store/write";
import { Rng } from "../../lib/util/rng";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-h5-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function data(dtype: "float32" | "float16"): StoreData {
  const rng = new Rng(21);
  const D = 5;
  // bag "b/2" has a slash (escaped group name) and no tiles; bags are NOT in sorted order
  const bags: StoreData["bags"] = [
    { bagId: "z_R", patientId: "P1", label: 1, split: "train" },
    { bagId: "b/2", patientId: "P2", label: 0, split: "val" },
    { bagId: "a_L", patientId: "P3", label: 0, split: "test" },
  ];
  const images: StoreData["images"] = [
    { imageId: "i0", bagIndex: 0, view: "CC" },
    { imageId: "i1", bagIndex: 0, view: "MLO" },
    { imageId: "i2", bagIndex: 1, view: "CC" },
    { imageId: "i3", bagIndex: 2, view: "MLO" },
  ];
  const globalRows = Int32Array.from([0, 0, 0, 1, 1, 2, 2, 3]);
  const tileRows = Int32Array.from([0, 0, 0, 0, 64, 0, 1, 64, 0, 64, 0, 1, 64, 64, 64, 2, 3, 128, 0, 64]);
  const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * 10 ** rng.range(-5, 3));
  return { encoder: { name: "enc", dim: D, inputSizePx: 64, provider: "cpu", params: { k: [1, 2] } }, dtype, bags, images, params: { run: 1 }, globals: rand(4 * D), tiles: rand(4 * D), globalRows, tileRows };
}

describe("HDF5 import/export (authors' layout)", () => {
  for (const dtype of ["float32", "float16"] as const) {
    it(`store -> HDF5 -> store is exact (${dtype})`, async () => {
      const a = path.join(tmp, `a-${dtype}`);
      const b = path.join(tmp, `b-${dtype}`);
      const h = path.join(tmp, `s-${dtype}.h5`);
      writeStore(a, data(dtype), { createdAt: "2026-01-01T00:00:00.000Z" });
      await exportStoreToHdf5(a, h);
      expect(fs.statSync(h).size).toBeGreaterThan(0);
      await importHdf5Store(h, b);
      for (const f of Object.values(STORE_FILES)) expect(fs.readFileSync(path.join(b, f)).equals(fs.readFileSync(path.join(a, f))), f).toBe(true);
    });
  }

  it("the file has the authors' datasets per breast", async () => {
    const mod = await loadH5wasm();
    const f = new mod.File(path.join(tmp, "s-float32.h5"), "r");
    try {
      expect(f.keys().sort()).toEqual(["a_L", "b%2F2", "z_R"]);
      const tiles = f.get("z_R/tiles") as InstanceType<typeof mod.Dataset>;
      const imgs = f.get("z_R/images") as InstanceType<typeof mod.Dataset>;
      const label = f.get("z_R/label") as InstanceType<typeof mod.Dataset>;
      expect(tiles.shape).toEqual([3, 5]);
      expect(imgs.shape).toEqual([2, 5]);
      expect(label.shape).toEqual([]);
      expect(Number(label.value)).toBe(1);
      const d = data("float32");
      expect(Array.from(tiles.value as Float32Array)).toEqual(Array.from(d.tiles.subarray(0, 15)));
    } finally {
      f.close();
    }
  });

  it("imports a plain authors' file (no milpf extras) with defaults", async () => {
    const mod = await loadH5wasm();
    const file = path.join(tmp, "authors.h5");
    const f = new mod.File(file, "w");
    const rng = new Rng(2);
    const t = Float32Array.from({ length: 4 * 3 }, () => rng.normal());
    const im = Float32Array.from({ length: 2 * 3 }, () => rng.normal());
    const g1 = f.create_group("breast_B");
    g1.create_dataset({ name: "images", data: im, shape: [2, 3], dtype: "<f" });
    g1.create_dataset({ name: "tiles", data: t, shape: [4, 3], dtype: "<f" });
    g1.create_dataset({ name: "label", data: 1, dtype: "<i" });
    const g2 = f.create_group("breast_A");
    g2.create_dataset({ name: "images", data: im.subarray(0, 3), shape: [1, 3], dtype: "<f" });
    g2.create_dataset({ name: "tiles", data: t.subarray(0, 3), shape: [1, 3], dtype: "<f" });
    g2.create_dataset({ name: "label", data: 0, dtype: "<i" });
    f.close();
    const out = path.join(tmp, "imported");
    const meta = await importHdf5Store(file, out, { defaultSplit: "test" });
    expect(meta.bags.map((b) => [b.bagId, b.label, b.split])).toEqual([
      ["breast_A", 0, "test"],
      ["breast_B", 1, "test"],
    ]);
    expect(meta.dim).toBe(3);
    const r = openStore(out);
    expect(Array.from(r.readTiles(1, 5))).toEqual(Array.from(t));
    expect(Array.from(r.bagGlobalOffsets)).toEqual([0, 1, 3]);
  });

  it("rejects a bad label with an error naming the file", async () => {
    const mod = await loadH5wasm();
    const file = path.join(tmp, "bad.h5");
    const f = new mod.File(file, "w");
    const g = f.create_group("x");
    g.create_dataset({ name: "images", data: new Float32Array(3), shape: [1, 3], dtype: "<f" });
    g.create_dataset({ name: "tiles", data: new Float32Array(3), shape: [1, 3], dtype: "<f" });
    g.create_dataset({ name: "label", data: 3, dtype: "<i" });
    f.close();
    await expect(importHdf5Store(file, path.join(tmp, "bad"))).rejects.toThrow(/bad\.h5: \/x\/label is 3/);
  });
});
