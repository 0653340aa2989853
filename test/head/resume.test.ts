import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configsByName, runTraining, writeSyntheticStore, type RunTrainingOptions } from "../../lib/head";
import { selectTfBackend } from "../../lib/util/backend";
import { compiledCli } from "../embed/cliBuild";
import { killLoop, tempFiles } from "../embed/killLoop";

/** Training resumes by units of seeds (lib/head/units.ts): reuse only on a matching identity. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-trainresume-"));
const store = path.join(tmp, "store");
const synth = { bags: 80, tilesPerBag: 6, viewsPerBag: 2, dim: 16, prevalence: 0.4, positiveTilesPerBag: 2, signalStrength: 1.5 };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectTfBackend({ log: () => undefined });
  writeSyntheticStore(store, { ...synth, seed: 3 }, "float16", false);
});

const outputs = ["predictions.csv", "curves.csv", "head/weights.bin", "heads/max+attn/weights.bin"];
const read = (dir: string): Record<string, string> => Object.fromEntries(outputs.map((f) => [f, fs.readFileSync(path.join(dir, f)).toString("base64")]));

describe("train: resumable units of seeds", () => {
  const base = (out: string): RunTrainingOptions => ({ store, out, configs: configsByName("global-max,max+attn"), seeds: 4, seedsPerUnit: 2, epochs: 25, patience: 5, progress: false });

  it("a second run reuses every unit and writes the same outputs; a changed setting, store or weights file redoes the work and says why", async () => {
    const out = path.join(tmp, "a");
    const first = await runTraining(base(out));
    expect(first.work).toMatchObject({ units: 2, trained: 2, reused: 0, reasons: "2 new" });
    const before = read(out);
    const again = await runTraining(base(out));
    expect(again.work).toMatchObject({ units: 2, trained: 0, reused: 2, reasons: "" });
    expect(read(out)).toEqual(before);
    expect(again.summaries).toEqual(first.summaries);

    // more seeds: the first two units are kept, the third is new
    const more = await runTraining({ ...base(out), seeds: 6 });
    expect(more.work).toMatchObject({ units: 3, trained: 1, reused: 2, reasons: "1 new" });

    // a corrupt weights file is redone, never reused
    const bin = path.join(out, "units", "seeds-0-1.bin");
    const bytes = fs.readFileSync(bin);
    bytes[100] ^= 0xff;
    fs.writeFileSync(bin, bytes);
    const fixed = await runTraining(base(out));
    expect(fixed.work.trained).toBe(1);
    expect(fixed.work.reasons).toMatch(/^1 corrupt \(.*seeds-0-1\.bin: checksum mismatch\)$/);
    expect(read(out)).toEqual(before);

    // a training setting is part of the identity
    const changed = await runTraining({ ...base(out), epochs: 20 });
    expect(changed.work).toMatchObject({ trained: 2, reasons: "2 parameters changed" });

    // so is the store's content
    const store2 = path.join(tmp, "store2");
    writeSyntheticStore(store2, { ...synth, seed: 4 }, "float16", false);
    const other = await runTraining({ ...base(out), epochs: 20, store: store2 });
    expect(other.work).toMatchObject({ trained: 2, reasons: "2 input changed" });
    const stage = JSON.parse(fs.readFileSync(path.join(out, "stage.json"), "utf8"));
    expect(stage).toMatchObject({ stage: "train", inputs: { store: store2 }, config: { seeds: [0, 1, 2, 3], seedsPerUnit: 2 } });
  }, 120_000);

  it("kill -9 loop: 8 kills at random points, then a clean run gives the outputs of an uninterrupted run, with no temp files", async () => {
    const cli = compiledCli();
    const args = (out: string) => [cli.script, "train", "--store", store, "--out", out, "--configs", "global-max,max+attn", "--seeds", "8", "--seeds-per-unit", "1", "--epochs", "200", "--patience", "200", "--no-progress"];
    const ref = path.join(tmp, "ref");
    const t0 = Date.now();
    const r0 = spawnSync(process.execPath, args(ref), { env: cli.env, encoding: "utf8" });
    expect(r0.status, r0.stderr).toBe(0);
    const full = Date.now() - t0;
    const out = path.join(tmp, "killed");
    const loop = await killLoop(args(out), cli.env, { kills: 8, minMs: 600, maxMs: Math.max(2000, full / 4), seed: 21, reset: () => fs.rmSync(out, { recursive: true, force: true }) });
    console.log(`train kill loop: ${loop.killed} run(s) killed mid-run, ${loop.finished} finished first (output reset) (delays ${loop.delays.join(", ")} ms; uninterrupted run ${full} ms)`);
    expect(loop.failures).toEqual([]);
    expect(loop.killed).toBe(8);
    const r = spawnSync(process.execPath, args(out), { env: cli.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    // the clean run completes what the killed runs left (reusing the units they finished)
    expect(r.stdout).toMatch(/8 unit\(s\) of seeds: \d+ trained.*, \d+ reused/);
    expect(tempFiles(out)).toEqual([]);
    expect(read(out)).toEqual(read(ref));
  }, 300_000);
});

describe("train: a store's content identity", () => {
  it("does not depend on the folder its encoder was loaded from, and does on what the embeddings are", async () => {
    const { storeContentId } = await import("../../lib/head/units");
    const meta = JSON.parse(fs.readFileSync(path.join(store, "store.json"), "utf8"));
    const withEncoder = (folder: string, extra: Record<string, unknown> = {}) => ({ ...meta, encoder: { ...meta.encoder, params: { ...(meta.encoder.params ?? {}), folder, ...extra } } });
    const here = storeContentId(withEncoder("/work/main/data/models/builtin"));
    expect(storeContentId(withEncoder("/elsewhere/checkout/data/models/builtin"))).toBe(here);
    expect(storeContentId(withEncoder("/work/main/data/models/builtin", { inputSizePx: 999 }))).not.toBe(here);
    expect(storeContentId({ ...withEncoder("/work/main/data/models/builtin"), checksums: { ...meta.checksums, tiles: "0".repeat(64) } })).not.toBe(here);
  });
});
