import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import { compiledCli } from "./cliBuild";
import { makeManifest, storeFingerprint } from "./fixture";
import { killLoop, tempFiles } from "./killLoop";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-killembed-"));
const encDir = path.join(tmp, "encoder");
const dataDir = path.join(tmp, "tiles");
const manifestFile = path.join(dataDir, "manifest.json");
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  cli = compiledCli();
  await makeManifest(dataDir, { bags: 6, workingSizePx: 128, tileSizePx: 32, globalSizePx: 64, seed: 9 });
  await writeBuiltinEncoder(encDir, { inputSizePx: 32, dim: 16, seed: 0 });
});

describe("embed: kill -9 loop", () => {
  it("8 kills at random points, then a clean run: no temp files, no lock, the store of an uninterrupted run", async () => {
    const args = (out: string) => [cli.script, "embed", "--manifest", manifestFile, "--encoder", encDir, "--out", out, "--batch", "7", "--dtype", "float16", "--no-progress"];
    const ref = path.join(tmp, "ref");
    const t0 = Date.now();
    const r0 = spawnSync(process.execPath, args(ref), { env: { ...cli.env, MILPF_EMBED_TEST_DELAY_MS: "40" }, encoding: "utf8" });
    expect(r0.status, r0.stderr).toBe(0);
    const full = Date.now() - t0;
    const out = path.join(tmp, "killed");
    const loop = await killLoop(args(out), { ...cli.env, MILPF_EMBED_TEST_DELAY_MS: "40" }, { kills: 8, minMs: 300, maxMs: Math.max(600, full * 0.6), seed: 13, reset: () => fs.rmSync(out, { recursive: true, force: true }) });
    console.log(`kill loop: ${loop.killed} run(s) killed mid-run, ${loop.finished} finished first (output reset) (delays ${loop.delays.join(", ")} ms; uninterrupted run ${full} ms)`);
    expect(loop.failures).toEqual([]);
    expect(loop.killed).toBe(8);
    const r = spawnSync(process.execPath, args(out), { env: cli.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(tempFiles(out)).toEqual([]);
    expect(storeFingerprint(out)).toEqual(storeFingerprint(ref));
  });
});
