import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveTilingParams } from "../../lib/tiling/params";
import { resolvePathParams } from "../../runner/commands/runner";
import { compiledCli } from "../embed/cliBuild";

// Reproductions 7 (paths against the project, not the current directory), 9 (unbounded
// sizes, a batch that skipped everything exits 0) and 10 (dicom --png errors name the temp
// file) of issue 13.
const root = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-paths-"));
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  cli = compiledCli();
});

function milpf(args: string[], cwd = tmp): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli.script, ...args], { cwd, env: cli.env, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("relative paths resolve against the current directory", () => {
  it("synth --out, splits --dir/--out, tile --dataset/--out/--splits from another folder", () => {
    const name = `ds-${path.basename(tmp)}`;
    const s = milpf(["synth", "--out", name, "--patients", "2", "--height", "128"]);
    expect(s.status, s.stderr).toBe(0);
    expect(fs.existsSync(path.join(tmp, name, "synthetic.json"))).toBe(true);
    expect(fs.existsSync(path.join(root, name))).toBe(false);
    const sp = milpf(["splits", "--dir", name, "--out", "x.csv"]);
    expect(sp.status, sp.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, "x.csv"), "utf8")).toMatch(/^patient_id,split\n/);
    const t = milpf(["tile", "--dataset", name, "--out", "tiles", "--splits", "x.csv", "--working-size", "128", "--tile-size", "64", "--global-size", "64", "--workers", "0", "--no-progress"]);
    expect(t.status, t.stderr).toBe(0);
    expect(fs.existsSync(path.join(tmp, "tiles", "manifest.json"))).toBe(true);
  });

  it("notebook path parameters given on the command line become absolute against the invocation folder", () => {
    const nb = path.join(root, "notebooks", "02_embed.ipynb");
    const p = resolvePathParams({ manifest: "t/manifest.json", encoder: "models/x", provider: "cpu", batchSize: 4, embeddings: "/abs/e" }, [nb], "/data/here");
    expect(p).toEqual({ manifest: "/data/here/t/manifest.json", encoder: "/data/here/models/x", provider: "cpu", batchSize: 4, embeddings: "/abs/e" });
    expect(resolvePathParams({ encoder: "builtin" }, [nb], "/x")).toEqual({ encoder: "builtin" });
  });
});

describe("sizes have bounds; a batch that did nothing fails", () => {
  it("tiling parameters out of range are one clear error", () => {
    expect(() => resolveTilingParams({ workingSizePx: 40000 })).toThrow(/workingSizePx must be <= 8192.*got 40000/);
    expect(() => resolveTilingParams({ workingSizePx: 512, tileSizePx: 4096 })).toThrow(/tileSizePx \(4096\) must be <= workingSizePx \(512\)/);
    expect(() => resolveTilingParams({ globalSizePx: 10000 })).toThrow(/globalSizePx must be <= 4096/);
    const t0 = Date.now();
    const r = milpf(["tile", "--dataset", "nowhere", "--working-size", "40000", "--no-progress"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch("tile: --working-size: '40000' is out of range; allowed: an integer in [8, 8192]");
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("tile exits non-zero when every image was skipped", () => {
    const name = `broken-${path.basename(tmp)}`;
    const s = milpf(["synth", "--out", name, "--patients", "2", "--height", "128"]);
    expect(s.status, s.stderr).toBe(0);
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const dicoms = walk(path.join(tmp, name, "images"));
    expect(dicoms.length).toBeGreaterThan(0);
    for (const f of dicoms) fs.writeFileSync(f, Buffer.from("not a dicom"));
    const t = milpf(["tile", "--dataset", name, "--out", "tiles-broken", "--splits", "y.csv", "--working-size", "128", "--tile-size", "64", "--global-size", "64", "--workers", "0", "--no-progress"]);
    expect(t.status).toBe(1);
    expect(t.stdout).toMatch(/tile: skipped .*/);
    expect(t.stderr).toMatch(/tile: no image was tiled \(\d+ skipped\)/);
  });
});

describe("dicom --png", () => {
  it("a write error names the target file, not its temporary file", () => {
    const name = `ds-${path.basename(tmp)}`;
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const dicom = walk(path.join(tmp, name, "images"))[0];
    fs.writeFileSync(path.join(tmp, "afile"), "x");
    const target = path.join(tmp, "afile", "out.png");
    const r = milpf(["dicom", dicom, "--png", target, "--json"]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`milpf: ${target}: cannot write (a part of the path is a file)`);
    fs.mkdirSync(path.join(tmp, "isdir.png"));
    const d = milpf(["dicom", dicom, "--png", "isdir.png", "--json"]);
    expect(d.status).toBe(1);
    expect(d.stderr.trim()).toBe("milpf: isdir.png: cannot write (is a folder)");
  });
});
