import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSyntheticDataset } from "../../lib/data/synthetic";
import { runTilingWithStats } from "../../lib/tiling/manifest";

// Tile reuses an image only when its source's content, the parameters and the code are unchanged (issue 13).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-tileid-"));
const ds = path.join(tmp, "ds");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await generateSyntheticDataset({ outDir: ds, patients: 2, heightPx: 128, seed: 3, workers: 0 });
});

const run = (out: string, tileSizePx = 32) =>
  runTilingWithStats({ datasetDir: ds, adapter: "synthetic", outDir: out, splitsFile: path.join(tmp, "splits.csv"), params: { workingSizePx: 128, tileSizePx, globalSizePx: 32 }, workers: 0, progress: false });

function dicoms(): string[] {
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  return walk(path.join(ds, "images")).sort();
}

describe("tile work identity", () => {
  it("redoes exactly the images whose source content changed, says why; a touched but unchanged file is reused", async () => {
    const out = path.join(tmp, "out");
    const a = await run(out);
    expect(a.stats.processed).toBe(a.stats.images);
    const files = dicoms();
    const used = new Set(a.manifest.images.map((im) => im.sourceFile));
    const [f1, f2, f3] = files.filter((f) => used.has(f));
    // swap two sources' bytes (same sizes on disk are not needed: content decides)
    const b1 = fs.readFileSync(f1);
    const b2 = fs.readFileSync(f2);
    fs.writeFileSync(f1, b2);
    fs.writeFileSync(f2, b1);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(f3, later, later); // same bytes, new mtime
    const b = await run(out);
    const id = (f: string) => a.manifest.images.find((im) => im.sourceFile === f)?.imageId;
    expect(b.stats.processed).toBe(2);
    expect(b.stats.redone.sort((x, y) => x.imageId.localeCompare(y.imageId))).toEqual(
      [id(f1), id(f2)].sort().map((imageId) => ({ imageId, reason: "input changed" })),
    );
    expect(b.stats.processed).toBe(2);
    expect(b.stats.reused).toBe(a.stats.images - 2);
    // damaged output PNG: redone, reason names it
    const im = b.manifest.images[0];
    const png = path.join(out, im.globalViewFile);
    const bytes = fs.readFileSync(png);
    bytes[bytes.length - 20] ^= 0xff;
    fs.writeFileSync(png, bytes);
    const c = await run(out);
    expect(c.stats.redone).toEqual([{ imageId: im.imageId, reason: `output damaged or changed: ${png}` }]);
    // other parameters: everything redone as "parameters changed"
    const d = await run(out, 64);
    expect(new Set(d.stats.redone.map((r) => r.reason))).toEqual(new Set(["parameters changed"]));
    expect(d.stats.redoneSummary).toBe(`${d.stats.images} parameters changed`);
  });
});
