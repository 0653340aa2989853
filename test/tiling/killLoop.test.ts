import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compiledCli } from "../embed/cliBuild";
import { killLoop, tempFiles } from "../embed/killLoop";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-killtile-"));
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  cli = compiledCli();
  const s = spawnSync(process.execPath, [cli.script, "synth", "--out", path.join(tmp, "ds"), "--patients", "4", "--height", "256"], { env: cli.env, encoding: "utf8" });
  expect(s.status, s.stderr).toBe(0);
});

/** manifest.json without its timestamp, and the bytes of every PNG. */
function tilingFingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Record<string, unknown>;
  delete m.createdAt;
  out["manifest.json"] = JSON.stringify(m);
  for (const sub of ["working", "global", "mask"]) for (const f of fs.readdirSync(path.join(dir, sub)).sort()) out[`${sub}/${f}`] = fs.readFileSync(path.join(dir, sub, f)).toString("base64");
  return out;
}

describe("tile: kill -9 loop", () => {
  it("8 kills at random points, then a clean run: no temp files, no lock, the outputs of an uninterrupted run", async () => {
    const splits = path.join(tmp, "splits.csv");
    const args = (out: string) => [cli.script, "tile", "--dataset", path.join(tmp, "ds"), "--out", out, "--splits", splits, "--working-size", "256", "--tile-size", "64", "--global-size", "64", "--workers", "1", "--no-progress"];
    const ref = path.join(tmp, "ref");
    const t0 = Date.now();
    const r0 = spawnSync(process.execPath, args(ref), { env: cli.env, encoding: "utf8" });
    expect(r0.status, r0.stderr).toBe(0);
    const full = Date.now() - t0;
    const out = path.join(tmp, "killed");
    const loop = await killLoop(args(out), cli.env, { kills: 8, minMs: 200, maxMs: Math.max(400, full * 0.5), seed: 21, reset: () => fs.rmSync(out, { recursive: true, force: true }) });
    console.log(`kill loop: ${loop.killed} run(s) killed mid-run, ${loop.finished} finished first (output reset) (delays ${loop.delays.join(", ")} ms; uninterrupted run ${full} ms)`);
    expect(loop.failures).toEqual([]);
    expect(loop.killed).toBe(8);
    const r = spawnSync(process.execPath, args(out), { env: cli.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(tempFiles(out)).toEqual([]);
    expect(tilingFingerprint(out)).toEqual(tilingFingerprint(ref));
    // a re-run redoes nothing
    const again = spawnSync(process.execPath, args(out), { env: cli.env, encoding: "utf8" });
    expect(again.stdout).toMatch(/\(0 processed, \d+ reused\)/);
  });
});
