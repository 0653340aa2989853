import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { register, runExplainCommand, type ExplainCommandOptions } from "../../runner/commands/explain";

const base: ExplainCommandOptions = {
  run: "/nonexistent/run",
  manifest: "/nonexistent/manifest.json",
  encoder: "builtin",
  out: "/tmp/never-written",
  cases: "8",
  overlap: "0.75",
  split: "test",
  seed: "0",
  nmsIou: "0.5",
  smoothSigma: "0",
  topK: "8",
  provider: "cpu",
  selectionSplit: "val",
};

describe("milpf explain command", () => {
  it("registers with the documented defaults", () => {
    const p = new Command();
    register(p);
    const cmd = p.commands.find((c) => c.name() === "explain")!;
    const opts = Object.fromEntries(cmd.options.map((o) => [o.long, o.defaultValue]));
    expect(opts["--run"]).toBe("data/work/train");
    expect(opts["--manifest"]).toBeUndefined(); // from the run's records
    expect(opts["--out"]).toBe("data/work/explain");
    expect(opts["--overlap"]).toBe("0.75");
    expect(opts["--encoder"]).toBeUndefined();
    expect(opts["--cases"]).toBe("0"); // 0 = the whole split (the default)
    expect(opts["--selection-split"]).toBe("val");
  });

  it("rejects bad options with one clear message before any work", async () => {
    await expect(runExplainCommand({ ...base, cases: "zero" })).rejects.toThrow("explain: --cases: 'zero' is not a number; allowed: an integer in [0, 1000000]");
    await expect(runExplainCommand({ ...base, cases: "-2" })).rejects.toThrow("explain: --cases: '-2' is out of range; allowed: an integer in [0, 1000000]");
    await expect(runExplainCommand({ ...base, overlap: "1" })).rejects.toThrow("explain: --overlap: '1' is out of range; allowed: a number in [0, 1)");
    await expect(runExplainCommand({ ...base, split: "dev" })).rejects.toThrow("explain: --split: 'dev' is not allowed; allowed: one of: train, val, test, all");
    await expect(runExplainCommand({ ...base, selectionSplit: "all" })).rejects.toThrow("explain: --selection-split: 'all' is not allowed; allowed: one of: train, val, test");
    await expect(runExplainCommand({ ...base, sharpParams: "/nonexistent/sel.json" })).rejects.toThrow("explain: --sharp-params /nonexistent/sel.json: file not found");
    await expect(runExplainCommand(base)).rejects.toThrow(/\/nonexistent\/run: training run folder not found/);
  });
});
