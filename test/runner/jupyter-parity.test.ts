import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { executeNotebook } from "../../runner/execute";
import type { CodeCell, Notebook, Output } from "../../runner/nbformat";
import { type Params, parameterize } from "../../runner/parameterize";
import { PIPELINE_NOTEBOOKS } from "../../runner/pipeline";
import { DEBIAN_PYTHON, makeNotebook, pythonHas, readJsonFile, requireBuild, ROOT, tempDir, text, writeNb } from "./helpers";

/**
 * Jupyter parity: the same notebook executed by Debian's Jupyter (nbconvert + the tslab kernel)
 * and by the milpf runner gives the same outputs; and every project notebook runs in Jupyter.
 */
const JUPYTER = ["/usr/bin/jupyter", "/usr/local/bin/jupyter"].find((p) => fs.existsSync(p));
const available = Boolean(JUPYTER) && pythonHas("nbclient", "nbformat", "nbconvert");
if (!available) {
  console.warn("SKIP Jupyter parity: Debian jupyter/nbconvert/nbclient not installed (apt-get install -y jupyter-nbconvert python3-nbclient python3-jupyter-client jupyter-client python3-ipython python3-nbformat)");
}
// Executing the four project notebooks under Jupyter runs the whole pipeline (minutes on 2 cores):
// .ci/run sets MILPF_TEST_JUPYTER_NOTEBOOKS=1; locally it is opt-in.
const runProjectNotebooks = available && process.env.MILPF_TEST_JUPYTER_NOTEBOOKS === "1";
if (available && !runProjectNotebooks) {
  console.warn("SKIP executing notebooks/0*.ipynb under Jupyter (the whole pipeline): set MILPF_TEST_JUPYTER_NOTEBOOKS=1 (CI does)");
}
const TSLAB_BIN = path.join(ROOT, "node_modules", ".bin", "tslab");

/**
 * The tslab kernel is registered under a temporary JUPYTER_PATH for this test file only (never
 * system-wide or in the user's Jupyter folders): the kernelspec points into this checkout.
 */
let jupyterEnv: NodeJS.ProcessEnv = process.env;

/** Register the project's tslab kernel in a temporary Jupyter data folder; returns its env. */
function registerKernel(): NodeJS.ProcessEnv {
  const home = tempDir("jupyter-path");
  const env = { ...process.env, JUPYTER_PATH: path.join(home, "share", "jupyter"), JUPYTER_RUNTIME_DIR: path.join(home, "runtime") };
  const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "tslab", "bin", "tslab"), "install", `--python=${DEBIAN_PYTHON}`, `--binary=${TSLAB_BIN}`, `--prefix=${home}`], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`registering the tslab kernel under ${home} failed: ${r.stderr}`);
  const ks = spawnSync(JUPYTER as string, ["kernelspec", "list", "--json"], { encoding: "utf8", env });
  const specs = (JSON.parse(ks.stdout) as { kernelspecs: Record<string, { resource_dir: string; spec: { argv: string[] } }> }).kernelspecs;
  // The temporary registration must be the one Jupyter picks (JUPYTER_PATH comes first).
  if (!specs.tslab || !specs.tslab.resource_dir.startsWith(home) || specs.tslab.spec.argv[0] !== TSLAB_BIN) {
    throw new Error(`the tslab kernel Jupyter picks is not the temporary one: ${JSON.stringify(specs.tslab)}`);
  }
  return env;
}

function nbconvert(input: string, outDir: string, timeoutS: number): { status: number | null; stderr: string; output: string } {
  const name = path.basename(input, ".ipynb");
  const r = spawnSync(
    JUPYTER as string,
    ["nbconvert", "--to", "notebook", "--execute", `--ExecutePreprocessor.timeout=${timeoutS}`, "--ExecutePreprocessor.kernel_name=tslab", "--output-dir", outDir, "--output", `${name}.jupyter`, input],
    { encoding: "utf8", cwd: path.dirname(input), env: jupyterEnv },
  );
  return { status: r.status, stderr: r.stderr, output: path.join(outDir, `${name}.jupyter.ipynb`) };
}

/**
 * Outputs in a comparable form. The tslab kernel prints the last expression to stdout (the runner
 * records it as execute_result text/plain; same text) and Jupyter splits strings into line lists.
 */
function comparable(outputs: Output[]): { kind: string; value: unknown }[] {
  const flat: { kind: string; value: unknown }[] = [];
  for (const o of outputs) {
    if (o.output_type === "stream") flat.push({ kind: o.name, value: text(o.text) });
    else if (o.output_type === "execute_result") flat.push({ kind: "stdout", value: `${text(o.data["text/plain"] as string)}\n` });
    else if (o.output_type === "display_data") {
      flat.push({ kind: "display", value: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, typeof v === "string" || Array.isArray(v) ? text(v as string[]) : v])) });
    } else flat.push({ kind: "error", value: o.ename });
  }
  // merge consecutive stream chunks of the same name
  const merged: typeof flat = [];
  for (const f of flat) {
    const last = merged[merged.length - 1];
    if (last && (f.kind === "stdout" || f.kind === "stderr") && last.kind === f.kind) last.value = `${last.value as string}${f.value as string}`;
    else merged.push({ ...f });
  }
  return merged;
}

describe.skipIf(!available)("Jupyter parity", () => {
  beforeAll(() => {
    requireBuild();
    jupyterEnv = registerKernel();
  });

  it("a notebook gives the same outputs under Jupyter (tslab kernel) and the milpf runner", async () => {
    const dir = tempDir("parity");
    const nb = makeNotebook([
      "md:# Parity",
      { src: "const n = 2;", tags: ["parameters"] },
      'console.log("hello", n);\nconsole.error("warn", n * 2);',
      "n * 21",
      "const o = { list: [1, 2, 3], s: 'text', nested: { ok: true } };\no",
      [
        'import * as tslab from "tslab";',
        'tslab.display.html("<i>html</i>");',
        'tslab.display.markdown("**md**");',
        'tslab.display.png(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]));',
        'tslab.display.svg("<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>");',
        'tslab.display.raw("application/json", JSON.stringify({ a: [1, 2] }));',
      ].join("\n"),
      'import * as milpf from "' + path.join(ROOT, "dist", "lib").replace(/\\/g, "/") + '";\nconsole.log(typeof milpf.util.resolveProjectPath, milpf.util.resolveProjectPath("x") === ' + JSON.stringify(path.join(ROOT, "x")) + ");",
    ]);
    // Jupyter cannot inject parameters: both run the same parameterized notebook.
    const input = writeNb(dir, "parity.ipynb", parameterize(nb, { n: 4 }).notebook);
    const runner = await executeNotebook({ input, output: path.join(dir, "parity.runner.ipynb"), log: () => undefined });
    expect(runner.ok).toBe(true);
    const jup = nbconvert(input, dir, 120);
    expect(jup.status, jup.stderr).toBe(0);
    const a = readJsonFile<Notebook>(runner.output).cells.filter((c): c is CodeCell => c.cell_type === "code");
    const b = readJsonFile<Notebook>(jup.output).cells.filter((c): c is CodeCell => c.cell_type === "code");
    expect(a.length).toBe(b.length);
    const pairs = a.map((c, i) => [comparable(c.outputs), comparable(b[i].outputs)]);
    for (const [mine, theirs] of pairs) expect(mine).toEqual(theirs);
    // and the outputs are what the cells say (not two empty lists)
    expect(pairs[2][0]).toEqual([
      { kind: "stdout", value: "hello 4\n" },
      { kind: "stderr", value: "warn 8\n" },
    ]);
    expect(pairs[3][0]).toEqual([{ kind: "stdout", value: "84\n" }]);
    expect(pairs[5][0]).toHaveLength(5);
    expect(pairs[6][0]).toEqual([{ kind: "stdout", value: "function true\n" }]);
  });

  it.skipIf(!runProjectNotebooks).each(PIPELINE_NOTEBOOKS.map((n) => [n]))(
    "notebooks/%s.ipynb runs in Jupyter without a cell error",
    (name) => {
      const outDir = tempDir("jupyter-nb");
      // Light parameters (the pipeline ran the full defaults just before, in CI): stages 1-2 reuse
      // its outputs; 3 and 4 write to temporary folders with few runs / cases. The parameterized
      // copy sits beside the originals so that "../dist/lib" resolves as in Jupyter.
      const light: Record<string, Params> = {
        "03_train_ablations": { trainDir: path.join(outDir, "train"), seeds: 1, configs: "global-mean-inf,max+attn", epochs: 40, startEpoch: 0, bootstrap: 50 },
        "04_explain": { explainDir: path.join(outDir, "explain"), cases: 4, selectionCases: 4 },
      };
      const copy = path.join(ROOT, "notebooks", `.jupyter-test-${name}.ipynb`);
      writeNb(path.dirname(copy), path.basename(copy), parameterize(readJsonFile<Notebook>(path.join(ROOT, "notebooks", `${name}.ipynb`)), light[name] ?? {}).notebook);
      let r: ReturnType<typeof nbconvert>;
      try {
        r = nbconvert(copy, outDir, 1200);
      } finally {
        fs.rmSync(copy, { force: true });
      }
      expect(r.status, `${name} failed under Jupyter (\`node bin/milpf.js run notebooks/${name}.ipynb\` shows the error as an output):\n${r.stderr.split("\n").slice(-30).join("\n")}`).toBe(0);
      const nb = readJsonFile<Notebook>(r.output);
      const errors = nb.cells.flatMap((c) => (c.cell_type === "code" ? c.outputs.filter((o) => o.output_type === "error") : []));
      expect(errors).toEqual([]);
    },
    1_500_000,
  );
});
