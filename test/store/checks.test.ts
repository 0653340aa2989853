import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEmbeddingSource } from "../../lib/head/source";
import { STORE_FILES } from "../../lib/store/format";
import { openStore } from "../../lib/store/read";
import { compiledCli } from "../embed/cliBuild";

// Reproduction 3 of issue 13: damaged numbers and bad labels in a store are refused by the
// store reader, `train` and `predict`, with one error naming the file.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-checks-"));
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function milpf(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli.script, ...args], { cwd: tmp, env: cli.env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const clean = path.join(tmp, "clean");
const runDir = path.join(tmp, "run");

beforeAll(() => {
  cli = compiledCli();
  const s = milpf(["synth-embeddings", "--out", clean, "--bags", "40", "--tiles", "4", "--dim", "8", "--dtype", "float32", "--signal", "3"]);
  expect(s.status, s.stderr).toBe(0);
  const t = milpf(["train", "--store", clean, "--out", runDir, "--seeds", "1", "--epochs", "3", "--configs", "global-mean", "--kernel", "js"]);
  expect(t.status, t.stderr).toBe(0);
});

/** A copy of the clean store with `edit` applied; `rehash` rewrites store.json's checksums (a NaN written by a buggy writer, not a damaged file). */
function variant(name: string, edit: (dir: string) => void, rehash: boolean): string {
  const dir = path.join(tmp, name);
  fs.cpSync(clean, dir, { recursive: true });
  edit(dir);
  if (rehash) {
    const metaFile = path.join(dir, STORE_FILES.meta);
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as { checksums?: Record<string, string> };
    if (meta.checksums) for (const [k, f] of [["globals", STORE_FILES.globals], ["tiles", STORE_FILES.tiles]] as const) (meta.checksums as Record<string, string>)[k] = crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex");
    fs.writeFileSync(metaFile, JSON.stringify(meta));
  }
  return dir;
}

function poke(file: string, index: number, value: number): void {
  const buf = fs.readFileSync(file);
  buf.writeFloatLE(value, index * 4);
  fs.writeFileSync(file, buf);
}

describe("checked numbers", () => {
  it("a flipped byte in tiles.bin (right size) is a checksum error naming the file", () => {
    const dir = variant("flipped", (d) => {
      const f = path.join(d, STORE_FILES.tiles);
      const b = fs.readFileSync(f);
      b[17] ^= 0x01;
      fs.writeFileSync(f, b);
    }, false);
    expect(() => openStore(dir)).toThrow(new RegExp(`${path.join(dir, STORE_FILES.tiles)}: checksum mismatch`));
  });

  for (const [what, value] of [["NaN", NaN], ["Inf", Infinity]] as const) {
    it(`${what} in globals.bin is refused by the reader, train and predict`, () => {
      const dir = variant(`bad-${what}`, (d) => poke(path.join(d, STORE_FILES.globals), 8 * 3 + 2, value), true);
      const file = path.join(dir, STORE_FILES.globals);
      expect(() => openStore(dir)).toThrow(/row 3 holds a non-finite value/);
      expect(() => openEmbeddingSource(dir)).toThrow(file);
      const t = milpf(["train", "--store", dir, "--out", path.join(tmp, `t-${what}`), "--seeds", "1", "--epochs", "2", "--configs", "global-mean", "--kernel", "js"]);
      expect(t.status).toBe(1);
      expect(t.stderr).toContain(`${file}: row 3 holds a non-finite value`);
      const p = milpf(["predict", "--head", path.join(runDir, "head"), "--store", dir, "--out", path.join(tmp, `p-${what}.csv`)]);
      expect(p.status).toBe(1);
      expect(p.stderr).toContain(file);
      expect(fs.existsSync(path.join(tmp, `p-${what}.csv`))).toBe(false);
    });
  }

  it("a label of 2 in store.json is refused by predict and train", () => {
    const dir = variant("label2", (d) => {
      const f = path.join(d, STORE_FILES.meta);
      const meta = JSON.parse(fs.readFileSync(f, "utf8")) as { bags: { label: number }[] };
      meta.bags[5].label = 2;
      fs.writeFileSync(f, JSON.stringify(meta));
    }, false);
    const p = milpf(["predict", "--head", path.join(runDir, "head"), "--store", dir, "--out", path.join(tmp, "p-label.csv")]);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/store\.json: bags\[5\] .*label must be 0 or 1 \(got 2\)/);
    const t = milpf(["train", "--store", dir, "--out", path.join(tmp, "t-label"), "--seeds", "1", "--epochs", "2", "--configs", "global-mean", "--kernel", "js"]);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/label must be 0 or 1 \(got 2\)/);
  });

  it("the clean store still trains and predicts", () => {
    const p = milpf(["predict", "--head", path.join(runDir, "head"), "--store", clean, "--out", path.join(tmp, "ok.csv")]);
    expect(p.status, p.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, "ok.csv"), "utf8").trim().split("\n")).toHaveLength(41);
  });
});
