import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkJpeg2000, formatDoctor, type Check } from "../../runner/doctor";
import type { CodeCell, Notebook } from "../../runner/nbformat";
import { PIPELINE_NOTEBOOKS, pipelineOutputs, runPipeline } from "../../runner/pipeline";
import { makeNotebook, readJsonFile, requireBuild, tempDir, writeNb } from "./helpers";

describe("milpf pipeline", () => {
  beforeAll(() => requireBuild());

  function setup(failing: string | null): { nbDir: string; figs: string } {
    const dir = tempDir("pipeline");
    const nbDir = path.join(dir, "notebooks");
    fs.mkdirSync(nbDir);
    for (const name of PIPELINE_NOTEBOOKS) {
      const body = name === failing ? 'throw new Error("stage broke")' : name === "01_tile" ? `console.log("${name}", shared, only01)` : `console.log("${name}", shared)`;
      const params = name === "01_tile" ? 'const shared = "d";\nconst only01 = 1;' : 'const shared = "d";';
      writeNb(nbDir, `${name}.ipynb`, makeNotebook([`md:# ${name}`, { src: params, tags: ["parameters"] }, body]));
    }
    return { nbDir, figs: path.join(dir, "figures") };
  }

  it("runs the notebooks in order, each beside its figures, with the parameters each declares", async () => {
    const { nbDir, figs } = setup(null);
    const r = await runPipeline({ notebooksDir: nbDir, figuresRoot: figs, params: { shared: "x", only01: 7 }, only: ["01_tile", "03_train_ablations"], log: () => undefined });
    expect(r.ok).toBe(true);
    expect(r.runs.map((x) => x.notebook)).toEqual(["01_tile", "03_train_ablations"]);
    const out1 = readJsonFile<Notebook>(pipelineOutputs("01_tile", figs).output);
    const out3 = readJsonFile<Notebook>(pipelineOutputs("03_train_ablations", figs).output);
    expect(pipelineOutputs("01_tile", figs).output).toBe(path.join(figs, "01_tile", "01_tile.ipynb"));
    const last = (nb: Notebook) => (nb.cells.filter((c): c is CodeCell => c.cell_type === "code").pop() as CodeCell).outputs;
    expect(last(out1)).toEqual([{ output_type: "stream", name: "stdout", text: "01_tile x 7\n" }]);
    expect(last(out3)).toEqual([{ output_type: "stream", name: "stdout", text: "03_train_ablations x\n" }]);
    // 03 does not declare only01: it is not injected there
    const injected3 = out3.cells.find((c) => c.metadata.tags?.includes("injected-parameters"));
    expect(injected3?.source.toString()).toContain('const shared: string = "x";');
    expect(injected3?.source.toString()).not.toContain("only01");
    expect(fs.existsSync(pipelineOutputs("02_embed", figs).output)).toBe(false);
  });

  it("accepts a preset's parameter declared only by a notebook that --only leaves out", async () => {
    const { nbDir, figs } = setup(null);
    const r = await runPipeline({ notebooksDir: nbDir, figuresRoot: figs, params: { shared: "x", only01: 7 }, only: ["03_train_ablations"], log: () => undefined });
    expect(r.ok).toBe(true);
    expect(r.runs.map((x) => x.notebook)).toEqual(["03_train_ablations"]);
    expect(fs.existsSync(pipelineOutputs("01_tile", figs).output)).toBe(false);
  });

  it("stops at the first failing notebook", async () => {
    const { nbDir, figs } = setup("01_tile");
    const r = await runPipeline({ notebooksDir: nbDir, figuresRoot: figs, log: () => undefined });
    expect(r.ok).toBe(false);
    expect(r.failed).toBe("01_tile");
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0].result.failed?.evalue).toBe("stage broke");
    expect(fs.existsSync(pipelineOutputs("02_embed", figs).output)).toBe(false);
  });

  it("rejects a parameter no notebook declares and an unknown notebook name, before running anything", async () => {
    const { nbDir, figs } = setup(null);
    await expect(runPipeline({ notebooksDir: nbDir, figuresRoot: figs, params: { nope: 1 } })).rejects.toThrow(/nope not declared/);
    await expect(runPipeline({ notebooksDir: nbDir, figuresRoot: figs, only: ["05_x"] })).rejects.toThrow(/unknown pipeline notebook\(s\): 05_x/);
    expect(fs.existsSync(figs)).toBe(false);
  });
});

describe("milpf doctor report", () => {
  const check = (name: string, ok: boolean, required: boolean): Check => ({ name, ok, required, detail: "d", fix: ok ? undefined : `fix ${name}` });

  it("passes when only optional pieces are missing, and prints each fix", () => {
    const r = formatDoctor([check("node", true, true), check("chromium", false, false)]);
    expect(r.ok).toBe(true);
    expect(r.text).toContain("fix: fix chromium");
    expect(r.text).toMatch(/^missing\s+chromium/m);
  });

  it("names the native JPEG 2000 decoder, or says how to get one", () => {
    const saved = process.env.MILPF_OPJ_DECOMPRESS;
    try {
      process.env.MILPF_OPJ_DECOMPRESS = "off";
      const off = checkJpeg2000();
      expect(off.ok).toBe(false);
      expect(off.required).toBe(false);
      expect(off.fix).toContain("grokj2k-tools");
      const tool = ["/usr/bin/grk_decompress", "/usr/bin/opj_decompress"].find((t) => fs.existsSync(t));
      if (tool) {
        process.env.MILPF_OPJ_DECOMPRESS = tool;
        const on = checkJpeg2000();
        expect(on.ok).toBe(true);
        expect(on.detail).toContain(tool);
      }
    } finally {
      if (saved === undefined) delete process.env.MILPF_OPJ_DECOMPRESS;
      else process.env.MILPF_OPJ_DECOMPRESS = saved;
      checkJpeg2000(); // look the decoder up again with the environment restored
    }
  });

  it("fails when a required piece is missing", () => {
    const r = formatDoctor([check("node", true, true), check("tslab", false, true)]);
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^MISSING\s+tslab/m);
  });
});
