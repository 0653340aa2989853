import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { STAGES } from "../../lib/stages";
import { checkValue, configDefaults, describeAllowed, parseFieldText, renderParametersCell, resolveConfig, validateParams, type ConfigSpec } from "../../lib/util/config";
import { projectRoot } from "../../lib/util/paths";
import { buildProgram } from "../../runner/cli";
import { expectedParametersCell } from "../../runner/commands/params";
import { hasTag, readNotebook, sourceText } from "../../runner/nbformat";
import { PARAMETERS_TAG } from "../../runner/parameterize";
import { runPipeline } from "../../runner/pipeline";
import { tempDir } from "./helpers";

const spec = {
  n: { kind: "int", default: 3, min: 1, max: 10, doc: "n" },
  f: { kind: "number", default: 0, min: 0, max: 1, maxExclusive: true, doc: "f" },
  s: { kind: "string", default: "a", oneOf: ["a", "b"], doc: "s" },
  t: { kind: "string", default: "", doc: "t" },
  b: { kind: "bool", default: false, doc: "b" },
} as const satisfies ConfigSpec;

describe("stage configs (lib/util/config.ts)", () => {
  it("checks kinds, ranges and closed sets with one line naming the parameter, the value and what is allowed", () => {
    expect(validateParams("nb", spec, { n: 10, f: 0.5, s: "b", t: 2024, b: true })).toEqual({ n: 10, f: 0.5, s: "b", t: "2024", b: true });
    expect(() => validateParams("nb", spec, { n: "abc" })).toThrow('nb: parameter n: "abc" is not a number; allowed: an integer in [1, 10]');
    expect(() => validateParams("nb", spec, { n: 2.5 })).toThrow("nb: parameter n: 2.5 is not an integer; allowed: an integer in [1, 10]");
    expect(() => validateParams("nb", spec, { n: 11 })).toThrow("nb: parameter n: 11 is out of range");
    expect(() => validateParams("nb", spec, { f: 1 })).toThrow("nb: parameter f: 1 is out of range; allowed: a number in [0, 1)");
    expect(() => validateParams("nb", spec, { s: "c" })).toThrow('nb: parameter s: "c" is not allowed; allowed: one of: a, b');
    expect(() => validateParams("nb", spec, { b: "yes" })).toThrow('nb: parameter b: "yes" is not allowed; allowed: true or false');
    expect(() => validateParams("nb", spec, { zz: 1 })).toThrow("nb: unknown parameter zz; known: n, f, s, t, b");
    expect(parseFieldText("cmd", "--n", spec.n, "7")).toBe(7);
    expect(() => parseFieldText("cmd", "--n", spec.n, "")).toThrow("cmd: --n: '' is not a number");
    expect(resolveConfig("x", spec, { n: 4, s: undefined })).toEqual({ ...configDefaults(spec), n: 4 });
    expect(describeAllowed(spec.t)).toBe("text");
    expect(checkValue("w", "l", spec.n, 1)).toBe(1);
  });

  it("the notebooks' parameters cells are the ones their stage configs render (`milpf params --write` keeps them so)", () => {
    for (const s of STAGES) {
      const nb = readNotebook(path.join(projectRoot(), "notebooks", `${s.notebook}.ipynb`));
      const cell = nb.cells.find((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
      expect(cell, s.notebook).toBeDefined();
      expect(sourceText(cell!.source), s.notebook).toBe(expectedParametersCell(s.notebook));
      // every notebook default is allowed by its own config
      const values = Object.fromEntries(Object.entries(s.config).map(([k, f]) => [k, (s.notebookDefaults as Record<string, { value: unknown }>)[k]?.value ?? f.default]));
      expect(() => validateParams(s.notebook, s.config, values)).not.toThrow();
    }
    expect(renderParametersCell(spec)).toContain('const s = "a" as "a" | "b";');
  });

  it("the stage commands' options take their help and defaults from the configs", () => {
    const program = buildProgram();
    const pairs: [string, string, string, ConfigSpec][] = [
      ["train", "--seeds", "seeds", STAGES[2].config],
      ["train", "--start-epoch", "startEpoch", STAGES[2].config],
      ["explain", "--overlap", "overlap", STAGES[3].config],
      ["explain", "--cases", "cases", STAGES[3].config],
      ["tile", "--working-size", "workingSizePx", STAGES[0].config],
      ["tile", "--adapter", "adapter", STAGES[0].config],
      ["embed", "--batch", "batchSize", STAGES[1].config],
    ];
    for (const [command, flag, field, config] of pairs) {
      const opt = program.commands.find((c) => c.name() === command)!.options.find((o) => o.long === flag)!;
      expect(opt.defaultValue, `${command} ${flag}`).toBe(String(config[field].default));
      expect(opt.description).toContain(config[field].doc);
    }
  });

  it("the pipeline checks every -p value before any notebook runs", async () => {
    const figs = path.join(tempDir("stagecfg"), "figures");
    await expect(runPipeline({ figuresRoot: figs, params: { seeds: "abc" }, log: () => undefined })).rejects.toThrow(
      '03_train_ablations: parameter seeds: "abc" is not a number; allowed: an integer in [1, 10000]',
    );
    await expect(runPipeline({ figuresRoot: figs, params: { adapter: "vindrx" }, log: () => undefined })).rejects.toThrow(
      '01_tile: parameter adapter: "vindrx" is not allowed; allowed: one of: vindr, rsna, embed, synthetic',
    );
    await expect(runPipeline({ figuresRoot: figs, params: { split: "dev" }, log: () => undefined })).rejects.toThrow(/04_explain: parameter split: "dev" is not allowed/);
    expect(fs.existsSync(figs)).toBe(false);
  });
});
