import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { parsePredictionsCsv, rocAuc } from "../../lib/metrics";
import { register, runMetricsCommand } from "../../runner/commands/metrics";

const root = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-metrics-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeCsv(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

// val: threshold by max bAcc is 0.3 (val is separable there). test: AUC 1, but 0.3 lets the
// negative at 0.35 through -> bAcc 0.75 (a test-chosen threshold would give 1).
const SPLIT_CSV = [
  "patient,split,label,score",
  "p1,val,0,0.1",
  "p1,val,0,0.2",
  "p2,val,1,0.3",
  "p3,val,1,0.4",
  "p4,test,0,0.25",
  "p5,test,0,0.35",
  "p6,test,1,0.5",
  "p6,test,1,0.6",
].join("\n");

describe("predictions CSV", () => {
  it("columns are found by name, in any order and case", () => {
    const t = parsePredictionsCsv("Score,extra,LABEL\n0.5,x,1\n0.25,y,0\n", "f.csv");
    expect(t.labels).toEqual([1, 0]);
    expect(t.scores).toEqual([0.5, 0.25]);
    expect(t.splits).toBeNull();
    expect(t.patients).toBeNull();
  });
});

describe("bad files: one clear error naming the file and the problem", () => {
  const cases: [string, string, RegExp][] = [
    ["nolabel.csv", "score\n0.1\n", /nolabel\.csv: missing column 'label'/],
    ["noscore.csv", "label,prob\n1,0.1\n", /noscore\.csv: missing column 'score' \(found: label, prob\)/],
    ["badscore.csv", "label,score\n1,0.1\n0,abc\n1,\n", /badscore\.csv: row 2 \(line 3\): non-numeric score 'abc' \(and 1 more problem\(s\)\)/],
    ["nanscore.csv", "label,score\n1,0.1\n0,NaN\n", /nanscore\.csv: row 2 \(line 3\): non-numeric score 'NaN'/],
    ["badlabel.csv", "label,score\n1,0.1\n2,0.3\n", /badlabel\.csv: row 2 \(line 3\): label must be 0 or 1, got '2'/],
    ["fields.csv", "label,score\n1,0.1,7\n", /fields\.csv: row 1 \(line 2\): 3 fields, the header has 2/],
    ["empty.csv", "", /empty\.csv: empty file/],
    ["header.csv", "label,score\n", /header\.csv: no data rows/],
    ["split.csv", "label,score,split\n1,0.1,dev\n", /split\.csv: row 1 \(line 2\): split must be train, val or test, got 'dev'/],
    ["oneclass.csv", "label,score\n1,0.1\n1,0.3\n", /oneclass\.csv: .*only one class present/],
    ["valoneclass.csv", "label,score,split\n1,0.1,val\n0,0.3,test\n1,0.4,test\n", /valoneclass\.csv: split 'val' .*only one class/],
  ];
  for (const [name, text, pattern] of cases) {
    it(name, () => {
      const file = writeCsv(name, text);
      expect(() => runMetricsCommand(file, { json: true }, () => undefined)).toThrow(pattern);
    });
  }
  it("a missing file", () => {
    expect(() => runMetricsCommand(path.join(tmp, "nope.csv"), {}, () => undefined)).toThrow(/nope\.csv: cannot read/);
  });
  it("bad option values", () => {
    const file = writeCsv("ok.csv", "label,score\n0,0.1\n1,0.9\n");
    expect(() => runMetricsCommand(file, { sensitivity: "1.5" }, () => undefined)).toThrow(/--sensitivity must be a number in \[0, 1\]/);
    expect(() => runMetricsCommand(file, { bootstrap: "x" }, () => undefined)).toThrow(/--bootstrap/);
  });
});

describe("milpf metrics action", () => {
  it("--json: threshold from val applied to test; top-level keys are the test split's", () => {
    const file = writeCsv("split.csv", SPLIT_CSV);
    let out = "";
    runMetricsCommand(file, { json: true }, (t) => (out += t));
    const r = JSON.parse(out);
    for (const key of ["auc", "specificityAtSensitivity", "balancedAccuracy", "threshold", "counts", "splits"]) {
      expect(r).toHaveProperty(key);
    }
    expect(r.reportedSplit).toBe("test");
    expect(r.thresholdSource).toBe("val");
    expect(r.threshold).toBe(0.3);
    expect(r.auc).toBe(1);
    expect(r.balancedAccuracy).toBe(0.75);
    expect(r.specificityAtSensitivity).toBe(1);
    expect(r.counts).toEqual({ n: 4, positive: 2, negative: 2 });
    expect(r.splits.map((s: { split: string }) => s.split)).toEqual(["val", "test"]);
    expect(r.ci).toBeUndefined();
  });

  it("no split column: AUC over all rows equals the pairwise count; no threshold chosen", () => {
    const rows = ["label,score"];
    const labels: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 40; i++) {
      const y = i % 3 === 0 ? 1 : 0;
      const s = ((i * 37) % 11) / 10 + y * 0.3;
      labels.push(y);
      scores.push(s);
      rows.push(`${y},${s}`);
    }
    const file = writeCsv("plain.csv", rows.join("\n") + "\n");
    let out = "";
    const report = runMetricsCommand(file, { json: true, sensitivity: "0.8" }, (t) => (out += t));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < 40; i++)
      for (let j = 0; j < 40; j++)
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
    expect(JSON.parse(out).auc).toBeCloseTo(wins / pairs, 12);
    expect(report.auc).toBe(rocAuc(labels, scores));
    expect(report.reportedSplit).toBe("all");
    expect(report.balancedAccuracy).toBeNull();
    expect(report.thresholdSource).toBe("none");
    expect(report.sensitivityTarget).toBe(0.8);
  });

  it("--bootstrap with a patient column: intervals, reproducible from the seed", () => {
    const rows = ["patient,split,label,score"];
    for (let i = 0; i < 120; i++) {
      const y = i % 2;
      rows.push(`P${Math.floor(i / 2)},${i < 60 ? "val" : "test"},${y},${(((i * 53) % 17) / 17 + y * 0.4).toFixed(4)}`);
    }
    const file = writeCsv("boot.csv", rows.join("\n"));
    const a = runMetricsCommand(file, { json: true, bootstrap: "200", seed: "5" }, () => undefined);
    const b = runMetricsCommand(file, { json: true, bootstrap: "200", seed: "5" }, () => undefined);
    expect(a.ci).toBeDefined();
    expect(a.ci).toEqual(b.ci);
    expect(a.ci!.resampling).toBe("patient");
    expect(a.ci!.auc.lower).toBeLessThanOrEqual(a.auc);
    expect(a.ci!.auc.upper).toBeGreaterThanOrEqual(a.auc);
    expect(a.ci!.balancedAccuracy).not.toBeNull();
  });

  it("--threshold overrides the val choice; no test split reports val with a note", () => {
    const file = writeCsv("valonly.csv", "label,score,split\n0,0.1,val\n0,0.4,val\n1,0.35,val\n1,0.8,val\n1,0.05,train\n0,0.9,train\n");
    const given = runMetricsCommand(file, { json: true, threshold: "0.38" }, () => undefined);
    expect(given.thresholdSource).toBe("given");
    expect(given.reportedSplit).toBe("val");
    // by hand at 0.38 on val: predictions 0,1,0,1 -> sens 1/2, spec 1/2
    expect(given.balancedAccuracy).toBe(0.5);
    expect(given.notes.join(" ")).toMatch(/no test split/);
    const chosen = runMetricsCommand(file, { json: true }, () => undefined);
    expect(chosen.thresholdSource).toBe("val");
    expect(chosen.notes.join(" ")).toMatch(/optimistic/);
    // train split scored at the val threshold (0.8 by max bAcc, ties -> highest): both train rows wrong
    const train = chosen.splits.find((x) => x.split === "train")!;
    expect(chosen.threshold).toBe(0.8);
    expect(train.balancedAccuracy).toBe(0);
    expect(train.auc).toBe(0);
  });

  it("table output names the splits and the threshold's origin", () => {
    const file = writeCsv("split2.csv", SPLIT_CSV);
    let out = "";
    runMetricsCommand(file, {}, (t) => (out += t));
    expect(out).toMatch(/^val\s+4\s+2\s+2\s+1\.0000/m);
    expect(out).toMatch(/^test\s+4\s+2\s+2\s+1\.0000\s+0\.7500/m);
    expect(out).toMatch(/threshold: 0\.300000 chosen on val/);
  });

  it("commander wiring: `metrics FILE --json --sensitivity 0.5`", async () => {
    const file = writeCsv("split3.csv", SPLIT_CSV);
    const program = new Command().exitOverride();
    register(program);
    const chunks: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array): boolean => {
      chunks.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(["node", "milpf", "metrics", file, "--json", "--sensitivity", "0.5"]);
    } finally {
      process.stdout.write = original;
    }
    const r = JSON.parse(chunks.join(""));
    expect(r.sensitivityTarget).toBe(0.5);
    expect(r.auc).toBe(1);
  });
});

// End to end through the built CLI (`npm run build` first; `npm test` does). Skipped, with the
// reason in its name, when dist/ lacks the metrics command.
const built = fs.existsSync(path.join(root, "dist/runner/commands/metrics.js"));
describe.skipIf(!built)("node bin/milpf.js metrics (needs npm run build)", () => {
  it("prints JSON with the keys, exit 0; a bad file exits 1 naming the file", () => {
    const good = writeCsv("e2e.csv", SPLIT_CSV);
    const ok = spawnSync(process.execPath, [path.join(root, "bin/milpf.js"), "metrics", good, "--json"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    const r = JSON.parse(ok.stdout);
    expect(r.auc).toBe(1);
    expect(r.specificityAtSensitivity).toBe(1);
    const bad = writeCsv("e2e-bad.csv", "label,score\n1,0.2\n0,zzz\n");
    const fail = spawnSync(process.execPath, [path.join(root, "bin/milpf.js"), "metrics", bad], { encoding: "utf8" });
    expect(fail.status).toBe(1);
    expect(fail.stderr).toContain("e2e-bad.csv: row 2 (line 3): non-numeric score 'zzz'");
  });
});
