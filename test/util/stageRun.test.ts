import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../../lib/util/atomic";
import type { ConfigSpec } from "../../lib/util/config";
import { LOCK_FILE } from "../../lib/util/lock";
import { describeStageSummary, readStageRecord } from "../../lib/util/stage";
import { runStage, type StageDefinition } from "../../lib/util/stageRun";
import { CODE_VERSIONS, staleReason, workIdentity, type WorkIdentity } from "../../lib/util/workId";
import { tempFiles } from "../embed/killLoop";

/**
 * The stage skeleton on a toy stage: items are numbers, an item's result is its square written
 * to items/<n>.txt with a record items/<n>.json (identity + checksum of the output), the stage's
 * output is sum.txt. Each test uses its own folder.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-stagerun-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const SPEC = { factor: { kind: "int", default: 1, min: 1, max: 10, doc: "multiplier" } } as const satisfies ConfigSpec;

interface Toy {
  dir: string;
  items: number[];
  factor?: number;
  /** Items whose computation throws. */
  bad?: Set<number>;
  /** The input of each item (its identity's input hash); default its number. */
  input?: (n: number) => string;
  onItemError?: "skip" | "stop";
  /** Throw in finish (after all items). */
  failFinish?: boolean;
  computed?: number[];
}

function toyStage(t: Toy): StageDefinition<{ factor: number }, number, number, number> {
  const rec = (n: number): string => path.join(t.dir, "items", `${n}.json`);
  const outFile = (n: number): string => path.join(t.dir, "items", `${n}.txt`);
  const identity = (n: number, factor: number): WorkIdentity => workIdentity("tile", { input: t.input ? t.input(n) : String(n) }, { factor });
  return {
    stage: "tile",
    outDir: t.dir,
    config: { spec: SPEC, given: { factor: t.factor } },
    unit: "numbers",
    open: (ctx) => ({ factor: ctx.config.factor as number }),
    items: () => ({ items: t.items, skipped: t.items.includes(-1) ? [] : [{ id: "listing", error: "refused while listing" }] }),
    id: (n) => String(n),
    check: (n, s) => {
      if (!fs.existsSync(rec(n))) return { reason: "new" };
      let have: { identity: WorkIdentity; value: number };
      try {
        have = readJson(rec(n));
      } catch {
        return { reason: "corrupt" };
      }
      const why = staleReason(have.identity, identity(n, s.factor)) ?? (fs.existsSync(outFile(n)) ? null : "output file missing");
      return why ? { reason: why } : { reuse: have.value };
    },
    compute: async (n, s) => {
      t.computed?.push(n);
      const value = n * n * s.factor;
      writeFileAtomic(outFile(n), String(value));
      if (t.bad?.has(n)) throw new Error(`item ${n} is bad`);
      writeJsonAtomic(rec(n), { identity: identity(n, s.factor), value });
      return value;
    },
    onItemError: t.onItemError,
    progress: { label: "toy", unit: "numbers", enabled: false },
    finish: (_s, w) => {
      if (t.failFinish) throw new Error("finish failed");
      const sum = w.results.reduce<number>((a, v) => a + (v ?? 0), 0);
      return { value: sum, files: [["sum.txt", String(sum)], ["work.json", { reused: w.reused, redone: w.redone, skipped: w.skipped.map((k) => k.id) }]], record: { config: { factor: _s.factor }, inputs: { items: t.items }, upstream: { none: null }, extra: { note: "toy" } } };
    },
  };
}

const dirOf = (name: string): string => path.join(root, name);

describe("runStage: the stage skeleton", () => {
  it("does every item, then reuses them; says why work is redone (new, input, parameters, code, missing output, corrupt)", async () => {
    const dir = dirOf("reasons");
    const computed: number[] = [];
    const first = await runStage(toyStage({ dir, items: [1, 2, 3, 4, 5], computed }));
    expect(first.value).toBe(1 + 4 + 9 + 16 + 25);
    expect(first.record?.summary).toEqual({ unit: "numbers", done: 5, reused: 0, reasons: "5 new", skipped: 1 });
    expect(computed).toEqual([1, 2, 3, 4, 5]);

    computed.length = 0;
    const again = await runStage(toyStage({ dir, items: [1, 2, 3, 4, 5], computed }));
    expect(again.value).toBe(first.value);
    expect(computed).toEqual([]);
    expect(again.record?.summary).toMatchObject({ done: 0, reused: 5, reasons: "" });

    // input changed for 2, output file of 3 missing, record of 4 corrupt
    fs.rmSync(path.join(dir, "items", "3.txt"));
    fs.writeFileSync(path.join(dir, "items", "4.json"), "{ not json");
    const third = await runStage(toyStage({ dir, items: [1, 2, 3, 4, 5], computed, input: (n) => (n === 2 ? "changed" : String(n)) }));
    expect(computed).toEqual([2, 3, 4]);
    const w = readJson<{ redone: { id: string; reason: string }[] }>(path.join(dir, "work.json"));
    expect(w.redone).toEqual([
      { id: "2", reason: "input changed" },
      { id: "3", reason: "output file missing" },
      { id: "4", reason: "corrupt" },
    ]);
    expect(third.record?.summary).toMatchObject({ done: 3, reused: 2, reasons: "1 input changed, 1 output file missing, 1 corrupt" });

    // parameters changed: every item redone
    computed.length = 0;
    const fourth = await runStage(toyStage({ dir, items: [1, 2, 3, 4, 5], computed, input: (n) => (n === 2 ? "changed" : String(n)), factor: 2 }));
    expect(computed).toEqual([1, 2, 3, 4, 5]);
    expect(fourth.value).toBe(2 * 55);
    expect(fourth.record?.summary.reasons).toBe("5 parameters changed");

    // code version changed: a record made by another version of the stage's code
    const r1 = path.join(dir, "items", "1.json");
    const old = readJson<{ identity: WorkIdentity; value: number }>(r1);
    writeJsonAtomic(r1, { ...old, identity: { ...old.identity, code: CODE_VERSIONS.tile - 1 } });
    computed.length = 0;
    const fifth = await runStage(toyStage({ dir, items: [1, 2, 3, 4, 5], computed, input: (n) => (n === 2 ? "changed" : String(n)), factor: 2 }));
    expect(computed).toEqual([1]);
    expect(fifth.record?.summary.reasons).toBe(`1 code version changed (${CODE_VERSIONS.tile - 1} -> ${CODE_VERSIONS.tile})`);
  });

  it("a failing item is skipped with its error while the rest finish; it is redone next time", async () => {
    const dir = dirOf("skip");
    const { value, record } = await runStage(toyStage({ dir, items: [1, 2, 3], bad: new Set([2]) }));
    expect(value).toBe(1 + 9);
    expect(record?.summary).toEqual({ unit: "numbers", done: 2, reused: 0, reasons: "3 new", skipped: 2 });
    expect(readJson<{ skipped: string[] }>(path.join(dir, "work.json")).skipped).toEqual(["listing", "2"]);
    expect(describeStageSummary(record!.summary)).toBe("4 numbers: 2 done (3 new), 0 reused, 2 skipped");
    // the failed item left no record: it is redone (and now works), the others are reused
    const computed: number[] = [];
    const again = await runStage(toyStage({ dir, items: [1, 2, 3], computed }));
    expect(computed).toEqual([2]);
    expect(again.value).toBe(14);
    expect(again.record?.summary).toMatchObject({ done: 1, reused: 2, reasons: "1 new" });
  });

  it("writes the record: stage, code version, resolved config, inputs, upstream, summary, the stage's facts", async () => {
    const dir = dirOf("record");
    await runStage(toyStage({ dir, items: [1, 2], factor: 3 }));
    const rec = readStageRecord(dir);
    expect(rec).toMatchObject({
      stage: "tile",
      code: CODE_VERSIONS.tile,
      config: { factor: 3 },
      inputs: { items: [1, 2] },
      upstream: { none: null },
      summary: { unit: "numbers", done: 2, reused: 0, reasons: "2 new", skipped: 1 },
      note: "toy",
    });
    expect(Number.isNaN(Date.parse(rec!.finishedAt))).toBe(false);
    expect(fs.readFileSync(path.join(dir, "sum.txt"), "utf8")).toBe(String(3 * 5));
  });

  it("checks the config against the stage's spec before touching the folder", async () => {
    const dir = dirOf("config");
    await expect(runStage(toyStage({ dir, items: [1], factor: 11 }))).rejects.toThrow("tile: parameter factor: 11 is out of range; allowed: an integer in [1, 10]");
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("nothing half-written when an item throws with onItemError 'stop' or finish throws: no outputs, no record, no temp files, no lock", async () => {
    const dir = dirOf("stop");
    await expect(runStage(toyStage({ dir, items: [1, 2, 3], bad: new Set([2]), onItemError: "stop" }))).rejects.toThrow("item 2 is bad");
    const left = (): string[] => fs.readdirSync(dir).sort();
    expect(left()).toEqual(["items"]);
    expect(tempFiles(dir)).toEqual([]);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    // item 1 finished before the stop: its record stands and is reused
    await expect(runStage(toyStage({ dir, items: [1, 2, 3], failFinish: true }))).rejects.toThrow("finish failed");
    expect(left()).toEqual(["items"]);
    expect(readStageRecord(dir)).toBeNull();
    const computed: number[] = [];
    const ok = await runStage(toyStage({ dir, items: [1, 2, 3], computed }));
    expect(computed).toEqual([]);
    expect(ok.record?.summary).toMatchObject({ done: 0, reused: 3 });
  });

  it("takes the folder's lock (a second run refuses) and removes temp files of killed runs, saying so", async () => {
    const dir = dirOf("lock");
    fs.mkdirSync(path.join(dir, "items"), { recursive: true });
    fs.writeFileSync(path.join(dir, "items", ".1.txt.999999.123.tmp"), "half");
    const said: string[] = [];
    let inner: Promise<unknown> | null = null;
    const def = toyStage({ dir, items: [1] });
    const { ctx } = await runStage({
      ...def,
      say: (l) => said.push(l),
      compute: async (n, s, p) => {
        inner = runStage(toyStage({ dir, items: [1] }));
        await expect(inner).rejects.toThrow(/in use by another milpf tile/);
        return def.compute(n, s, p);
      },
    });
    expect(inner).not.toBeNull();
    expect(said).toEqual(["removed 1 temporary file(s) of an interrupted run"]);
    expect(ctx.cleaned).toEqual([path.join(dir, "items", ".1.txt.999999.123.tmp")]);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it("prefetches the next item's inputs while one computes; a failed load skips that item", async () => {
    const dir = dirOf("prefetch");
    const events: string[] = [];
    const base = toyStage({ dir, items: [1, 2, 3] });
    const { value, record } = await runStage<{ factor: number }, number, number, number, number>({
      ...base,
      prefetch: async (n) => {
        events.push(`load ${n}`);
        if (n === 2) throw new Error("cannot load 2");
        return n;
      },
      compute: async (n, s, loaded) => {
        events.push(`compute ${loaded}`);
        return base.compute(n, s, undefined);
      },
    });
    expect(events).toEqual(["load 1", "load 2", "compute 1", "load 3", "compute 3"]);
    expect(value).toBe(10);
    expect(record?.summary).toMatchObject({ done: 2, skipped: 2 });
  });
});
