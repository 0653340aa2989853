import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import { CHUNK_DIR, runEmbedding } from "../../lib/embed/run";
import { acquireLock, LOCK_FILE } from "../../lib/util/lock";
import { compiledCli } from "./cliBuild";
import { makeManifest, storeFingerprint } from "./fixture";

// Reproductions 4 (no lock) and 5 (leftover temporary files) of issue 13.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-lock-"));
const encDir = path.join(tmp, "encoder");
const dataDir = path.join(tmp, "tiles");
const manifestFile = path.join(dataDir, "manifest.json");
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  cli = compiledCli();
  await makeManifest(dataDir, { bags: 4, workingSizePx: 128, tileSizePx: 64, globalSizePx: 64, seed: 5 });
  await writeBuiltinEncoder(encDir, { inputSizePx: 64, dim: 8, seed: 0 });
});

/** The pid of a process that has exited (for a stale lock). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("one writer per store", () => {
  it("a second embed into a store in use refuses with a message naming the owner; the first finishes intact", async () => {
    const out = path.join(tmp, "busy");
    const args = [cli.script, "embed", "--manifest", manifestFile, "--encoder", encDir, "--out", out, "--no-progress"];
    const first = spawn(process.execPath, args, { env: { ...cli.env, MILPF_EMBED_TEST_DELAY_MS: "1500" }, stdio: "pipe" });
    let err1 = "";
    first.stderr.on("data", (d: Buffer) => (err1 += d.toString()));
    const exited = new Promise<number | null>((resolve) => first.on("exit", (c) => resolve(c)));
    const t0 = Date.now();
    while (!fs.existsSync(path.join(out, LOCK_FILE))) {
      if (Date.now() - t0 > 30_000) throw new Error(`first run never took the lock: ${err1}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // a second run with other settings (the case that used to delete the first's chunks)
    const second = spawnSync(process.execPath, [...args, "--batch", "3"], { env: cli.env, encoding: "utf8" });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`${out}: in use by another milpf embed \\(pid ${first.pid} on ${os.hostname()}`));
    expect(await exited, err1).toBe(0);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    const ref = path.join(tmp, "ref");
    await runEmbedding({ manifest: manifestFile, encoder: encDir, out: ref, progress: false });
    expect(storeFingerprint(out)).toEqual(storeFingerprint(ref));
  });

  it("a stale lock (dead pid on this host) is taken over and reported", async () => {
    const out = path.join(tmp, "stale");
    fs.mkdirSync(out, { recursive: true });
    const pid = deadPid();
    fs.writeFileSync(path.join(out, LOCK_FILE), JSON.stringify({ pid, host: os.hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "embed" }));
    const r = await runEmbedding({ manifest: manifestFile, encoder: encDir, out, progress: false });
    expect(r.stats.notes.join("\n")).toMatch(new RegExp(`took over the stale lock of pid ${pid} on ${os.hostname()}.*that process is gone`));
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it("a lock of another host is honoured while its heartbeat is fresh, taken over when it is old", () => {
    const dir = path.join(tmp, "remote");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, JSON.stringify({ pid: 1, host: "other-node", startedAt: "2026-01-01T00:00:00.000Z", command: "embed" }));
    expect(() => acquireLock(dir, { command: "embed", staleMs: 60_000 })).toThrow(/in use by another milpf embed \(pid 1 on other-node/);
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(file, old, old);
    const lock = acquireLock(dir, { command: "embed", staleMs: 60_000 });
    expect(lock.tookOver).toMatch(/pid 1 on other-node .*no heartbeat for 1[12]\d s/);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ pid: process.pid, host: os.hostname() });
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe("temporary files of killed runs", () => {
  it("are removed when the next run starts, and reported", async () => {
    const out = path.join(tmp, "leftovers");
    await runEmbedding({ manifest: manifestFile, encoder: encDir, out, progress: false });
    const pid = deadPid();
    const junk = [
      path.join(out, `.tiles.bin.${pid}.writing`),
      path.join(out, `.globals.bin.${pid}.writing`),
      path.join(out, CHUNK_DIR, `.S001_L_CC.abcd1234.chunk.${pid}.1767225600000.tmp`),
      path.join(out, `.store.json.${pid}.1767225600000.tmp`),
    ];
    for (const f of junk) fs.writeFileSync(f, Buffer.alloc(1000));
    const r = await runEmbedding({ manifest: manifestFile, encoder: encDir, out, progress: false });
    for (const f of junk) expect(fs.existsSync(f), f).toBe(false);
    expect(r.stats.notes).toContain("removed 4 temporary file(s) of an interrupted run");
    expect(r.stats.reusedImages).toBe(r.stats.images);
  });
});
