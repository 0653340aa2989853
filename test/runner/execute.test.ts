import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_CELL_TAG, executeNotebook, type RunResult } from "../../runner/execute";
import { hasTag, type CodeCell, type ErrorOutput, type Notebook, type PapermillCellMetadata } from "../../runner/nbformat";
import { INJECTED_TAG } from "../../runner/parameterize";
import { makeNotebook, nbformatErrors, pythonHas, readJsonFile, requireBuild, ROOT, tempDir, text, writeNb } from "./helpers";

const hasNbformat = pythonHas("nbformat");
if (!hasNbformat) console.warn("SKIP schema checks: Debian python3 with nbformat not found (apt-get install python3-nbformat)");

const quiet = (): void => undefined;

function codeCells(nb: Notebook): CodeCell[] {
  return nb.cells.filter((c): c is CodeCell => c.cell_type === "code");
}

beforeAll(() => requireBuild());

describe("a notebook that runs through", () => {
  let dir: string;
  let result: RunResult;
  let out: Notebook;
  const live: string[] = [];
  beforeAll(async () => {
    dir = tempDir("run-ok");
    const nb = makeNotebook([
      "md:# A test notebook",
      { src: "const n = 2;\nconst label = 'default';", tags: ["parameters"] },
      'console.log("hello", n, label);\nconsole.error("to stderr");\nconst written = process.stdout.write("more\\n");',
      "n * 21",
      [
        'import * as tslab from "tslab";',
        'tslab.display.html("<b>bold</b>");',
        'tslab.display.png(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]));',
        'tslab.display.svg("<svg xmlns=\\"http://www.w3.org/2000/svg\\" width=\\"2\\" height=\\"2\\"></svg>");',
        'tslab.display.markdown("## heading");',
        'tslab.display.raw("application/json", JSON.stringify({ k: [1, 2] }));',
      ].join("\n"),
      "await new Promise((r) => setTimeout(r, 300));\nprocess.cwd()",
      "",
      "const obj = { a: [1, 2], s: 'q' };\nobj",
      'const shown = tslab.newDisplay();\nshown.text("first");\nshown.text("second");',
    ]);
    const input = writeNb(dir, "ok.ipynb", nb);
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      live.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      result = await executeNotebook({ input, output: path.join(dir, "out", "ok.out.ipynb"), params: { n: 5, label: "given" }, log: quiet, logOutput: true });
    } finally {
      process.stderr.write = write;
    }
    out = readJsonFile<Notebook>(result.output);
  });

  it("succeeds and injects the parameters after the parameters cell", () => {
    expect(result.ok).toBe(true);
    expect(result.executedCells).toBe(8); // 7 code cells + injected, the empty cell is skipped
    expect(hasTag(out.cells[1], "parameters")).toBe(true);
    expect(hasTag(out.cells[2], INJECTED_TAG)).toBe(true);
  });

  it("captures stdout and stderr as stream outputs, with injected parameter values", () => {
    const outputs = codeCells(out)[2].outputs;
    expect(outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "hello 5 given\n" },
      { output_type: "stream", name: "stderr", text: "to stderr\n" },
      { output_type: "stream", name: "stdout", text: "more\n" },
    ]);
  });

  it("records the last expression as execute_result with its execution count", () => {
    const cell = codeCells(out)[3];
    expect(cell.outputs).toEqual([{ output_type: "execute_result", execution_count: cell.execution_count, data: { "text/plain": "105" }, metadata: {} }]);
    const objCell = codeCells(out)[7];
    expect(objCell.outputs[0]).toMatchObject({ output_type: "execute_result", data: { "text/plain": "{ a: [ 1, 2 ], s: 'q' }" } });
  });

  it("captures tslab.display html/png/svg/markdown/json as display_data", () => {
    const data = codeCells(out)[4].outputs.map((o) => (o.output_type === "display_data" ? o.data : o));
    expect(data).toEqual([
      { "text/html": "<b>bold</b>" },
      { "image/png": Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]).toString("base64") },
      { "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"></svg>' },
      { "text/markdown": "## heading" },
      { "application/json": '{"k":[1,2]}' },
    ]);
  });

  it("updates a display in place (tslab.newDisplay) instead of adding outputs", () => {
    expect(codeCells(out)[8].outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "second" }, metadata: {} }]);
  });

  it("with logOutput, prints the cells' streams live", () => {
    expect(live.join("")).toContain("hello 5 given\nto stderr\nmore\n");
  });

  it("runs the kernel with cwd = the notebook's folder", () => {
    const cell = codeCells(out)[5];
    expect(cell.outputs[0]).toMatchObject({ output_type: "execute_result", data: { "text/plain": fs.realpathSync(dir) } });
  });

  it("numbers executed cells 1..n and leaves the empty cell unexecuted", () => {
    expect(codeCells(out).map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5, 6, null, 7, 8]);
  });

  it("records papermill timing metadata per cell", () => {
    const metas = codeCells(out)
      .filter((c) => c.execution_count !== null)
      .map((c) => c.metadata.papermill as PapermillCellMetadata);
    let prevEnd = 0;
    for (const m of metas) {
      expect(m.status).toBe("completed");
      expect(m.exception).toBe(false);
      const start = Date.parse(m.start_time ?? "");
      const end = Date.parse(m.end_time ?? "");
      expect(end).toBeGreaterThanOrEqual(start);
      expect(start).toBeGreaterThanOrEqual(prevEnd);
      expect(Math.abs((m.duration ?? -1) - (end - start) / 1000)).toBeLessThan(0.002);
      prevEnd = end;
    }
    // the cell that sleeps 300 ms
    expect(metas[5].duration).toBeGreaterThanOrEqual(0.29);
    const nbMeta = out.metadata.papermill as { start_time: string; end_time: string; duration: number; exception: boolean; parameters: object };
    expect(nbMeta.exception).toBe(false);
    expect(nbMeta.parameters).toEqual({ n: 5, label: "given" });
    expect(nbMeta.duration).toBeCloseTo((Date.parse(nbMeta.end_time) - Date.parse(nbMeta.start_time)) / 1000, 2);
  });

  it("writes a notebook that validates against the nbformat schema", () => {
    if (!hasNbformat) return;
    expect(nbformatErrors(result.output)).toBe("");
    expect(out.metadata.kernelspec).toEqual({ name: "tslab", display_name: "TypeScript", language: "typescript" });
  });
});

describe("a notebook with a deliberate error", () => {
  let dir: string;
  let output: string;
  let cli: ReturnType<typeof spawnSync>;
  let out: Notebook;
  beforeAll(() => {
    dir = tempDir("run-err");
    const input = writeNb(
      dir,
      "broken.ipynb",
      makeNotebook(["md:# Broken", 'console.log("before")', "function f(): never { throw new RangeError('value out of range: 42'); }\nf();", 'console.log("never printed")', "1 + 1"]),
    );
    output = path.join(dir, "broken.out.ipynb");
    cli = spawnSync(process.execPath, [path.join(ROOT, "bin", "milpf.js"), "run", input, "-o", output], { encoding: "utf8", cwd: dir });
    out = readJsonFile<Notebook>(output);
  });

  it("exits non-zero and prints the cell number and message", () => {
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/FAILED at cell 3 \(In \[2\]\): RangeError: value out of range: 42/);
  });

  it("records the error in the failing cell and does not run later cells", () => {
    const cells = codeCells(out);
    expect(cells[0].outputs).toEqual([{ output_type: "stream", name: "stdout", text: "before\n" }]);
    const err = cells[1].outputs.find((o) => o.output_type === "error") as ErrorOutput;
    expect(err.ename).toBe("RangeError");
    expect(err.evalue).toBe("value out of range: 42");
    expect(err.traceback).toContain("RangeError: value out of range: 42");
    expect(err.traceback.some((l) => /^\s+at f /.test(l))).toBe(true);
    expect((cells[1].metadata.papermill as PapermillCellMetadata).status).toBe("failed");
    for (const later of cells.slice(2)) {
      expect(later.execution_count).toBeNull();
      expect(later.outputs).toEqual([]);
      expect((later.metadata.papermill as PapermillCellMetadata).status).toBe("pending");
    }
  });

  it("puts a banner naming the failing cell at the top and an anchor just before it", () => {
    expect(hasTag(out.cells[0], ERROR_CELL_TAG)).toBe(true);
    expect(text(out.cells[0].source)).toMatch(/An Exception was encountered at .*cell 3, In \[2\]/);
    const failing = out.cells.findIndex((c) => c.cell_type === "code" && c.outputs.some((o) => o.output_type === "error"));
    expect(hasTag(out.cells[failing - 1], ERROR_CELL_TAG)).toBe(true);
    expect(text(out.cells[failing - 1].source)).toContain('id="papermill-error-cell"');
    expect((out.metadata.papermill as { exception: boolean }).exception).toBe(true);
    if (hasNbformat) expect(nbformatErrors(output)).toBe("");
  });

  it("re-running the output notebook replaces the old banner instead of stacking a second", async () => {
    const again = path.join(dir, "again.ipynb");
    const r = await executeNotebook({ input: output, output: again, log: quiet });
    expect(r.ok).toBe(false);
    const nb = readJsonFile<Notebook>(again);
    expect(nb.cells.filter((c) => hasTag(c, ERROR_CELL_TAG))).toHaveLength(2);
  });
});

describe("type errors and timeouts", () => {
  it("reports a type error as an error output and stops", async () => {
    const dir = tempDir("run-type");
    const input = writeNb(dir, "t.ipynb", makeNotebook(['const n: number = "not a number";', "n"]));
    const r = await executeNotebook({ input, output: path.join(dir, "t.out.ipynb"), log: quiet });
    expect(r.ok).toBe(false);
    expect(r.failed).toMatchObject({ cellNumber: 1, ename: "CompileError" });
    const nb = readJsonFile<Notebook>(r.output);
    const err = codeCells(nb)[0].outputs[0] as ErrorOutput;
    expect(err.output_type).toBe("error");
    expect(err.evalue).toMatch(/^1:7 - Type 'string' is not assignable to type 'number'/);
    expect(codeCells(nb)[1].execution_count).toBeNull();
  });

  it("stops a cell that exceeds the per-cell timeout (even a blocking loop)", async () => {
    const dir = tempDir("run-timeout");
    const input = writeNb(dir, "loop.ipynb", makeNotebook(['console.log("start")', "while (true) {}", 'console.log("after")']));
    const t0 = Date.now();
    const r = await executeNotebook({ input, output: path.join(dir, "loop.out.ipynb"), cellTimeoutS: 1.5, log: quiet });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.ok).toBe(false);
    expect(r.failed).toMatchObject({ ename: "CellTimeoutError", cellNumber: 2 });
    const nb = readJsonFile<Notebook>(r.output);
    const meta = codeCells(nb)[1].metadata.papermill as PapermillCellMetadata;
    expect(meta.duration).toBeGreaterThanOrEqual(1.5);
    expect(meta.duration).toBeLessThan(5);
    expect(codeCells(nb)[2].execution_count).toBeNull();
  });

  it("stops the run at the whole-run timeout", async () => {
    const dir = tempDir("run-total");
    const sleep = "await new Promise((r) => setTimeout(r, 1500));";
    const input = writeNb(dir, "slow.ipynb", makeNotebook([sleep, sleep, sleep, sleep, sleep, sleep, sleep, sleep]));
    const r = await executeNotebook({ input, output: path.join(dir, "slow.out.ipynb"), timeoutS: 8, log: quiet });
    expect(r.ok).toBe(false);
    expect(r.failed?.ename).toMatch(/RunTimeoutError|KernelError/);
    expect(r.durationS).toBeLessThan(15);
  });
});
