import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import { CHUNK_DIR, runEmbedding } from "../../lib/embed/run";
import { compiledCli } from "./cliBuild";
import { makeManifest, storeFingerprint } from "./fixture";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-resume-"));
const encDir = path.join(tmp, "encoder");
const dataDir = path.join(tmp, "tiles");
const manifestFile = path.join(dataDir, "manifest.json");
let cli: { script: string; env: NodeJS.ProcessEnv };

beforeAll(async () => {
  cli = compiledCli();
  await makeManifest(dataDir, { bags: 6, workingSizePx: 256, tileSizePx: 64, globalSizePx: 96, seed: 4 });
  await writeBuiltinEncoder(encDir, { inputSizePx: 64, dim: 32, seed: 0 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const chunkCount = (out: string): number => {
  const d = path.join(out, CHUNK_DIR);
  return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith(".chunk") && !f.startsWith(".")).length : 0;
};

describe("milpf embed resume after kill -9", () => {
  it("a re-run after SIGKILL mid-run writes the same store as an uninterrupted run", async () => {
    // uninterrupted reference (global views 96 px are resized to the encoder's 64 px)
    const clean = path.join(tmp, "clean");
    const ref = await runEmbedding({ manifest: manifestFile, encoder: encDir, out: clean, progress: false, batchSize: 5, dtype: "float16" });
    const total = ref.stats.images;

    const out = path.join(tmp, "killed");
    const args = [cli.script, "embed", "--manifest", manifestFile, "--encoder", encDir, "--out", out, "--batch", "5", "--dtype", "float16", "--no-progress"];
    const child = spawn(process.execPath, args, { env: { ...cli.env, MILPF_EMBED_TEST_DELAY_MS: "200" }, stdio: "pipe" });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const t0 = Date.now();
    while (chunkCount(out) < 3) {
      if (Date.now() - t0 > 60_000) throw new Error(`child made no progress: ${stderr}`);
      if (child.exitCode !== null) throw new Error(`child exited early (${child.exitCode}): ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe(null);
    const done = chunkCount(out);
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(total);
    expect(fs.existsSync(path.join(out, "store.json"))).toBe(false);

    const rerun = spawnSync(process.execPath, args, { env: cli.env, encoding: "utf8" });
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(new RegExp(`${total - done} images embedded, ${done} reused`));
    expect(storeFingerprint(out)).toEqual(storeFingerprint(clean));
  });
});
