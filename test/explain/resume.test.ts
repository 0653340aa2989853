import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import { runEmbedding } from "../../lib/embed/run";
import { runExplain, type ExplainSummary } from "../../lib/explain/runExplain";
import { configsByName, runTraining } from "../../lib/head";
import { checkSameEncoder, readTrainRun } from "../../lib/head/record";
import { selectTfBackend } from "../../lib/util/backend";
import { compiledCli } from "../embed/cliBuild";
import { makeManifest } from "../embed/fixture";
import { killLoop, tempFiles } from "../embed/killLoop";

/** Explain reads the training run through its records and reuses finished cases (per-case work identity). */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-explainresume-"));
const dataDir = path.join(tmp, "tiles");
const manifestFile = path.join(dataDir, "manifest.json");
const encDir = path.join(tmp, "encoder");
const store = path.join(tmp, "store");
const train = path.join(tmp, "train");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectTfBackend({ log: () => undefined });
  await makeManifest(dataDir, { bags: 12, workingSizePx: 128, tileSizePx: 32, globalSizePx: 64, seed: 9 });
  await writeBuiltinEncoder(encDir, { inputSizePx: 32, dim: 16, seed: 0 });
  await runEmbedding({ manifest: manifestFile, encoder: encDir, out: store, progress: false });
  await runTraining({ store, out: train, configs: configsByName("max+attn"), seeds: 2, epochs: 8, progress: false });
}, 120_000);

/** The parts of a summary that must not change when work is reused. */
const results = (s: ExplainSummary) => ({ cases: s.cases, detection: s.detection, froc: s.froc, sharp: s.sharp, skipped: s.skipped });

describe("explain: records and reuse", () => {
  it("takes the manifest and encoder from the run's records, and refuses ones that do not match", async () => {
    const run = readTrainRun(train);
    expect(run.manifest).toBe(manifestFile);
    expect(run.encoderSpec).toBe(encDir);
    expect(run.storeDir).toBe(store);
    await expect(runExplain({ run: train, out: path.join(tmp, "x1"), manifest: path.join(tmp, "other.json"), progress: false })).rejects.toThrow(/is not the one the run .* was trained from/);
    await expect(runExplain({ run: train, out: path.join(tmp, "x2"), encoder: "builtin", progress: false })).rejects.toThrow(/the head was trained on embeddings of encoder .* but explain was given .*; they differ in dim, inputSizePx/);
    // where the encoder folder lives is not what it is: the same encoder moved (another checkout) is accepted
    const enc = run.store.encoder;
    const moved = { ...enc, params: { ...(enc.params as Record<string, unknown>), folder: "/elsewhere/builtin" } };
    expect(() => checkSameEncoder(enc, moved, "x")).not.toThrow();
    expect(() => checkSameEncoder(enc, { ...moved, params: { ...moved.params, seed: 99 } }, "x")).toThrow(/they differ in seed$/);
    expect(() => readTrainRun(path.join(tmp, "nothing"))).toThrow(/training run folder not found/);
    expect(() => readTrainRun(store)).toThrow(/stage\.json: not a train stage record/);
  }, 60_000);

  it("a second run reuses every case and the selection; a changed parameter or a missing output redoes exactly that work", async () => {
    const out = path.join(tmp, "explain");
    const opts = { run: train, out, split: "all" as const, progress: false, overlayWidthPx: 64 };
    const a = await runExplain(opts);
    expect(a.cases.length).toBe(12);
    expect(a.work).toMatchObject({ casesExplained: 12, casesReused: 0, reasons: "12 new" });
    expect(a.work.selection).toMatch(/^done \(new\)/);
    const b = await runExplain(opts);
    expect(b.work).toMatchObject({ casesExplained: 0, casesReused: 12, reasons: "", selection: "reused" });
    expect(results(b)).toEqual(results(a));

    const gallery = path.join(out, a.cases[3].gallery);
    fs.rmSync(gallery);
    const c = await runExplain(opts);
    expect(c.work).toMatchObject({ casesExplained: 1, casesReused: 11, reasons: "1 output file missing" });
    expect(fs.existsSync(gallery)).toBe(true);
    expect(results(c)).toEqual(results(a));

    const d = await runExplain({ ...opts, overlap: 0.5 });
    expect(d.work).toMatchObject({ casesExplained: 12, reasons: "12 parameters changed", selection: "reused" });
    const stage = JSON.parse(fs.readFileSync(path.join(out, "stage.json"), "utf8"));
    expect(stage).toMatchObject({ stage: "explain", upstream: { train }, work: { casesExplained: 12 } });

    // a head retrained on other settings (other weights) is a new input: every case and the selection are redone
    await runTraining({ store, out: train, configs: configsByName("max+attn"), seeds: 2, epochs: 8, lr: 0.01, progress: false });
    const e = await runExplain({ ...opts, overlap: 0.5 });
    expect(e.work).toMatchObject({ casesExplained: 12, reasons: "12 input changed", selection: "done (input changed)" });
  }, 180_000);

  it("kill -9 loop: 8 kills at random points, then a clean run gives the results of an uninterrupted run, with no temp files", async () => {
    const cli = compiledCli();
    const args = (out: string) => [cli.script, "explain", "--run", train, "--out", out, "--split", "all", "--no-progress"];
    const ref = path.join(tmp, "ref");
    const t0 = Date.now();
    const r0 = spawnSync(process.execPath, args(ref), { env: cli.env, encoding: "utf8" });
    expect(r0.status, r0.stderr).toBe(0);
    const full = Date.now() - t0;
    const out = path.join(tmp, "killed");
    const loop = await killLoop(args(out), cli.env, { kills: 8, minMs: 500, maxMs: Math.max(1200, full * 0.3), seed: 5, reset: () => fs.rmSync(out, { recursive: true, force: true }) });
    console.log(`explain kill loop: ${loop.killed} run(s) killed mid-run, ${loop.finished} finished first (output reset) (delays ${loop.delays.join(", ")} ms; uninterrupted run ${full} ms)`);
    expect(loop.failures).toEqual([]);
    expect(loop.killed).toBe(8);
    const r = spawnSync(process.execPath, args(out), { env: cli.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/explain: 12 case\(s\): \d+ explained.*, \d+ reused/);
    expect(tempFiles(out)).toEqual([]);
    const read = (d: string) => results(JSON.parse(fs.readFileSync(path.join(d, "explain.json"), "utf8")) as ExplainSummary);
    expect(read(out)).toEqual(read(ref));
  }, 300_000);
});
