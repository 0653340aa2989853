import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { register } from "../../runner/commands/data";
import { readSplits } from "../../lib/data/splits";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-data-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function program(): Command {
  const p = new Command();
  p.exitOverride();
  register(p);
  return p;
}

describe("milpf synth / milpf splits", () => {
  it("generates a set, prints the summary as JSON, then writes a split file for it", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const out = path.join(tmp, "set");
      await program().parseAsync(["node", "milpf", "synth", "--out", out, "--patients", "3", "--height", "128", "--seed", "4", "--json"]);
      const summary = JSON.parse(String(log.mock.calls[0][0])) as { patients: number; images: number; heightPx: number };
      expect(summary.patients).toBe(3);
      expect(summary.heightPx).toBe(128);
      expect(fs.readdirSync(path.join(out, "images")).length).toBe(3);
      const splitFile = path.join(tmp, "splits.csv");
      await program().parseAsync(["node", "milpf", "splits", "--dir", out, "--out", splitFile, "--seed", "1"]);
      const splits = readSplits(splitFile);
      expect(splits.size).toBe(3);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });

  it("rejects a non-integer patient count and an unknown adapter", async () => {
    await expect(program().parseAsync(["node", "milpf", "synth", "--patients", "x"])).rejects.toThrow(/--patients must be an integer/);
    await expect(program().parseAsync(["node", "milpf", "splits", "--adapter", "ddsm", "--dir", tmp])).rejects.toThrow(/--adapter must be one of/);
  });
});
