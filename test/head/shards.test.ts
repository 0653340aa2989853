import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configsByName, runTraining, writeSyntheticStore, type RunTrainingOptions } from "../../lib/head";
import { selectTfBackend } from "../../lib/util/backend";
import { compiledCli } from "../embed/cliBuild";

/** The training grid split across machines by units of seeds (shard K/N), then merged. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-trainshards-"));
const store = path.join(tmp, "store");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectTfBackend({ log: () => undefined });
  writeSyntheticStore(store, { bags: 60, tilesPerBag: 5, viewsPerBag: 2, dim: 12, prevalence: 0.4, positiveTilesPerBag: 2, signalStrength: 1.5, seed: 4 }, "float16", false);
});

const outputs = ["predictions.csv", "curves.csv", "results.json", "head/weights.bin"];
const read = (dir: string): Record<string, string> =>
  Object.fromEntries(outputs.map((f) => [f, f === "results.json" ? JSON.stringify(stripVolatile(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))) : fs.readFileSync(path.join(dir, f)).toString("base64")]));
/** results.json minus what differs between any two runs (times, paths, dates). */
function stripVolatile(j: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(j, (k, v: unknown) => (["timing", "createdAt", "record", "outDir", "seconds", "peakRssBytes"].includes(k) ? undefined : v)));
}

describe("train: shards of units and their merge", () => {
  const base = (out: string): RunTrainingOptions => ({ store, out, configs: configsByName("global-max,max+attn"), seeds: 6, seedsPerUnit: 2, epochs: 20, patience: 5, progress: false });

  it("shards 0/2 and 1/2 then a merge give the outputs of one unsharded run; a missing shard is an error naming the unit", async () => {
    const whole = path.join(tmp, "whole");
    await runTraining(base(whole));
    const s0 = await runTraining({ ...base(path.join(tmp, "s0")), shard: { index: 0, count: 2 } });
    const s1 = await runTraining({ ...base(path.join(tmp, "s1")), shard: { index: 1, count: 2 } });
    // 3 units (seeds 0-1, 2-3, 4-5): shard 0 takes units 0 and 2, shard 1 unit 1
    expect(s0.work).toMatchObject({ units: 2, trained: 2 });
    expect(s1.work).toMatchObject({ units: 1, trained: 1 });
    expect(fs.existsSync(path.join(tmp, "s0", "stage.json"))).toBe(false); // a shard is not a finished run
    const merged = await runTraining({ ...base(path.join(tmp, "merged")), mergeUnits: [path.join(tmp, "s0"), path.join(tmp, "s1")] });
    expect(merged.work).toMatchObject({ units: 3, trained: 0, reused: 3, merged: 3 });
    expect(read(path.join(tmp, "merged"))).toEqual(read(whole));
    await expect(runTraining({ ...base(path.join(tmp, "half")), mergeUnits: [path.join(tmp, "s0")] })).rejects.toThrow(/train merge: unit seeds-2-3 \(seeds 2-3\) is not in the shards given \(new\)/);
    await expect(runTraining({ ...base(path.join(tmp, "bad")), shard: { index: 2, count: 2 } })).rejects.toThrow("train: shard 2/2 is not a shard K/N with 0 <= K < N");
  }, 300_000);

  it("the CLI: --shard-count with SLURM_ARRAY_TASK_ID, then --merge-units", () => {
    const cli = compiledCli();
    const args = (out: string, extra: string[]): string[] => [cli.script, "train", "--store", store, "--out", out, "--configs", "global-max", "--seeds", "4", "--seeds-per-unit", "2", "--epochs", "10", "--patience", "5", "--no-progress", ...extra];
    for (const k of ["0", "1"]) {
      const r = spawnSync(process.execPath, args(path.join(tmp, `c${k}`), ["--shard-count", "2"]), { env: { ...cli.env, SLURM_ARRAY_TASK_ID: k }, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`1 unit(s) of seeds (shard ${k}/2): 1 trained (1 new), 0 reused`);
    }
    const m = spawnSync(process.execPath, args(path.join(tmp, "cm"), ["--merge-units", `${path.join(tmp, "c0")},${path.join(tmp, "c1")}`]), { env: cli.env, encoding: "utf8" });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toContain("2 unit(s) of seeds: 0 trained, 2 reused; 2 unit(s) merged from 2 shard folder(s)");
  }, 300_000);
});
