import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { allocateCounts, applySplits, makeSplits, patientStratum, readSplits, writeSplits } from "../../lib/data/splits";
import type { ImageRecord, Split } from "../../lib/types";
import { Rng } from "../../lib/util/rng";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-splits-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Patients with 1-2 breasts x 2 views, BI-RADS drawn from a skewed distribution. */
function makeRecords(patients: number, seed: number, givenSplit?: (p: number) => Split | null): ImageRecord[] {
  const rng = new Rng(seed);
  const out: ImageRecord[] = [];
  for (let p = 0; p < patients; p++) {
    const pid = `P${String(p).padStart(4, "0")}`;
    const lats = rng.bernoulli(0.8) ? (["L", "R"] as const) : (["L"] as const);
    for (const lat of lats) {
      const u = rng.uniform();
      const birads = u < 0.55 ? 1 : u < 0.7 ? 2 : u < 0.75 ? 3 : u < 0.9 ? 4 : u < 0.97 ? 5 : 6;
      for (const view of ["CC", "MLO"]) {
        out.push({
          patientId: pid,
          studyId: pid,
          imageId: `${pid}_${lat}_${view}`,
          breastId: `${pid}_${lat}`,
          laterality: lat,
          view,
          filePath: "",
          birads,
          label: birads === 1 ? 0 : birads >= 4 ? 1 : null,
          density: null,
          split: givenSplit ? givenSplit(p) : null,
          lesions: [],
        });
      }
    }
  }
  return out;
}

function strata(records: ImageRecord[]): Map<string, string> {
  const byP = new Map<string, ImageRecord[]>();
  for (const r of records) byP.set(r.patientId, [...(byP.get(r.patientId) ?? []), r]);
  return new Map([...byP].map(([p, rs]) => [p, patientStratum(rs, "birads")]));
}

describe("allocateCounts", () => {
  it("splits by largest remainder (values worked out by hand)", () => {
    expect(allocateCounts(10, [0.7, 0.1, 0.2])).toEqual([7, 1, 2]);
    // 3 x (0.7, 0.1, 0.2) = 2.1, 0.3, 0.6 -> floors 2, 0, 0; the one left goes to the largest remainder (0.6)
    expect(allocateCounts(3, [0.7, 0.1, 0.2])).toEqual([2, 0, 1]);
    // 7 x = 4.9, 0.7, 1.4 -> 4, 0, 1 (+2: 0.9 and 0.7)
    expect(allocateCounts(7, [0.7, 0.1, 0.2])).toEqual([5, 1, 1]);
    expect(allocateCounts(0, [0.7, 0.1, 0.2])).toEqual([0, 0, 0]);
  });
});

describe("makeSplits", () => {
  const records = makeRecords(300, 1);
  const splits = makeSplits(records, { seed: 42 });

  it("assigns every patient exactly one split; all of a patient's images share it", () => {
    const patients = new Set(records.map((r) => r.patientId));
    expect(splits.size).toBe(patients.size);
    const applied = applySplits(records, splits);
    const seen = new Map<string, Set<Split | null>>();
    for (const r of applied) seen.set(r.patientId, (seen.get(r.patientId) ?? new Set()).add(r.split));
    for (const s of seen.values()) {
      expect(s.size).toBe(1);
      expect(s.has(null)).toBe(false);
    }
  });

  it("keeps each BI-RADS stratum within one patient of 70/10/20", () => {
    const st = strata(records);
    const byStratum = new Map<string, Record<Split, number>>();
    for (const [p, s] of splits) {
      const c = byStratum.get(st.get(p) as string) ?? { train: 0, val: 0, test: 0 };
      c[s]++;
      byStratum.set(st.get(p) as string, c);
    }
    expect(byStratum.size).toBeGreaterThanOrEqual(5);
    for (const c of byStratum.values()) {
      const n = c.train + c.val + c.test;
      expect(Math.abs(c.train - 0.7 * n)).toBeLessThan(1);
      expect(Math.abs(c.val - 0.1 * n)).toBeLessThan(1);
      expect(Math.abs(c.test - 0.2 * n)).toBeLessThan(1);
    }
  });

  it("is reproducible from the seed and changes with it", () => {
    expect([...makeSplits(records, { seed: 42 })]).toEqual([...splits]);
    const other = makeSplits(records, { seed: 43 });
    const moved = [...splits].filter(([p, s]) => other.get(p) !== s).length;
    expect(moved).toBeGreaterThan(30);
  });

  it("respects a given split: test stays test, val is carved out of the given training patients", () => {
    const given = makeRecords(300, 1, (p) => (p % 5 === 0 ? "test" : "train"));
    const s = makeSplits(given, { seed: 7 });
    let val = 0;
    for (let p = 0; p < 300; p++) {
      const got = s.get(`P${String(p).padStart(4, "0")}`);
      if (p % 5 === 0) expect(got).toBe("test");
      else expect(["train", "val"]).toContain(got);
      if (got === "val") val++;
    }
    // val = 0.1 / (0.7 + 0.1) of the 240 training patients, stratum by stratum (within 1 per stratum)
    expect(Math.abs(val - 30)).toBeLessThanOrEqual(6);
    expect(val).toBeGreaterThan(0);
    const ignored = makeSplits(given, { seed: 7, respectGiven: false });
    expect([...ignored.values()].filter((x) => x === "test").length).toBeGreaterThan(40);
    expect([...ignored].some(([p, x]) => Number(p.slice(1)) % 5 !== 0 && x === "test")).toBe(true);
  });

  it("falls back to the label as stratum where BI-RADS is absent (RSNA)", () => {
    const rs = makeRecords(20, 3).map((r) => ({ ...r, birads: null }));
    expect(new Set(strata(rs).values())).toEqual(new Set(["label 0", "label 1", "na"]));
  });

  it("writes and reads the split CSV (patient_id, split)", () => {
    const f = path.join(tmp, "splits.csv");
    writeSplits(f, splits);
    const text = fs.readFileSync(f, "utf8");
    expect(text.split("\n")[0]).toBe("patient_id,split");
    expect(readSplits(f)).toEqual(splits);
    const bad = path.join(tmp, "bad.csv");
    fs.writeFileSync(bad, "patient_id,split\nP1,holdout\n");
    expect(() => readSplits(bad)).toThrow(/bad\.csv: row 2: unknown split "holdout"/);
    fs.writeFileSync(bad, "id,fold\n");
    expect(() => readSplits(bad)).toThrow(/bad\.csv: split file needs columns patient_id and split/);
    expect(() => readSplits(path.join(tmp, "none.csv"))).toThrow(/none\.csv: cannot read/);
  });
});
