import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { stageOfNotebook } from "../../lib/stages";
import { projectRoot } from "../../lib/util/paths";
import { formatDoctor, runDoctor } from "../doctor";
import { executeNotebook } from "../execute";
import { parseParamValue, readParamsFile, type Params } from "../parameterize";
import { PIPELINE_NOTEBOOKS, runPipeline } from "../pipeline";

/**
 * Commander has no two-value options, and would read a value like "-5" as an option: the
 * command line joins each `-p NAME VALUE` into one `-p NAME=VALUE` word before parsing
 * (runner/cli.ts). Names are identifiers, so the first "=" splits them again.
 */
export function joinParamPairs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-p" || a === "--param") {
      if (argv.length - i - 1 < 2) throw new Error(`${a} takes NAME VALUE (got: ${argv.slice(i + 1).join(" ") || "nothing"})`);
      out.push(a, `${argv[i + 1]}=${argv[i + 2]}`);
      i += 2;
    } else out.push(a);
  }
  return out;
}

/** `-p NAME=VALUE` words (see joinParamPairs) plus `-f` files -> typed parameters; -p wins. */
export function collectParams(pairs: string[] | undefined, files: string[] | undefined): Params {
  const params: Params = {};
  for (const f of files ?? []) Object.assign(params, readParamsFile(f));
  for (const p of pairs ?? []) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new Error(`-p takes NAME VALUE; got ${JSON.stringify(p)}`);
    const name = p.slice(0, eq);
    params[name] = parseParamValue(name, p.slice(eq + 1));
  }
  return params;
}

/**
 * Names of a notebook's path parameters, and `encoder`: from its stage config (fields marked
 * `path`) for a pipeline notebook, else those whose default is a path (a string with a "/").
 */
export function pathParamNames(notebookFile: string): Set<string> {
  const names = new Set<string>(["encoder"]);
  const stage = stageOfNotebook(path.basename(notebookFile, ".ipynb"));
  if (stage) {
    for (const [k, f] of Object.entries(stage.config)) if ("path" in f && f.path) names.add(k);
    return names;
  }
  let nb: { cells?: { cell_type: string; metadata?: { tags?: string[] }; source: string | string[] }[] };
  try {
    nb = JSON.parse(fs.readFileSync(notebookFile, "utf8")) as typeof nb;
  } catch {
    return names;
  }
  const cell = (nb.cells ?? []).find((c) => c.cell_type === "code" && (c.metadata?.tags ?? []).includes("parameters"));
  const src = cell ? (Array.isArray(cell.source) ? cell.source.join("") : cell.source) : "";
  for (const m of src.matchAll(/(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=\s*["']([^"']*)["']/g)) if (m[2].includes("/")) names.add(m[1]);
  return names;
}

/**
 * Path parameters given on the command line (-p, -f) are relative to the directory milpf was
 * started in: the kernel runs in the notebook's folder and resolves what is left relative
 * against the project folder, so the runner makes them absolute here. A path parameter is
 * one whose default in the notebook is a path; `encoder` too unless it is "builtin".
 */
export function resolvePathParams(params: Params, notebookFiles: string[], cwd: string = process.cwd()): Params {
  const names = new Set<string>();
  for (const f of notebookFiles) for (const n of pathParamNames(f)) names.add(n);
  const out: Params = { ...params };
  for (const [k, v] of Object.entries(out)) {
    if (!names.has(k) || typeof v !== "string" || v === "" || path.isAbsolute(v)) continue;
    if (k === "encoder" && v === "builtin") continue;
    out[k] = path.resolve(cwd, v);
  }
  return out;
}

function seconds(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number of seconds, got ${v}`);
    return n;
  };
}

interface RunCliOptions {
  param?: string[];
  file?: string[];
  output?: string;
  figures?: string;
  cellTimeout?: number;
  timeout?: number;
  logOutput?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The presets shipped in presets/ (parameters files for `milpf pipeline --preset NAME`). */
export function listPresets(): string[] {
  const dir = path.join(projectRoot(), "presets");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -5)).sort() : [];
}

/** presets/NAME.yaml, or one clear error naming the preset and the ones there are. */
export function presetFile(name: string): string {
  const file = path.join(projectRoot(), "presets", `${name}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`--preset ${name}: no such preset (presets/: ${listPresets().join(", ") || "none"})`);
  return file;
}

/** `milpf run`, `milpf pipeline`, `milpf doctor`. */
export function register(program: Command): void {
  program
    .command("run")
    .description("execute one notebook headlessly (papermill for TypeScript)")
    .argument("<notebook>", "the .ipynb to execute")
    .option("-p, --param <name value>", "a parameter: -p NAME VALUE (typed: number, true/false, JSON, else string); repeatable", collect)
    .option("-f, --file <params>", "parameters file (.json or .yaml); repeatable; -p wins", collect)
    .option("-o, --output <out.ipynb>", "output notebook (default figures/<name>/<name>.ipynb)")
    .option("--figures <dir>", "figures folder for lib/plot (default: the output notebook's folder)")
    .option("--cell-timeout <s>", "seconds one cell may run", seconds("--cell-timeout"))
    .option("--timeout <s>", "seconds the whole run may take", seconds("--timeout"))
    .option("--log-output", "print the cells' stdout/stderr live while they run")
    .action(async (notebook: string, o: RunCliOptions) => {
      const params = resolvePathParams(collectParams(o.param, o.file), [path.resolve(notebook)]);
      const name = path.basename(notebook, ".ipynb");
      const output = o.output !== undefined ? path.resolve(o.output) : path.join(projectRoot(), "figures", name, `${name}.ipynb`);
      const r = await executeNotebook({ input: path.resolve(notebook), output, params, figuresDir: o.figures !== undefined ? path.resolve(o.figures) : undefined, cellTimeoutS: o.cellTimeout, timeoutS: o.timeout, logOutput: o.logOutput });
      if (!r.ok) process.exitCode = 1;
    });

  program
    .command("pipeline")
    .description(`execute ${PIPELINE_NOTEBOOKS.join(", ")} in order; each output notebook goes to figures/<name>/<name>.ipynb beside its figures`)
    .option("-p, --param <name value>", "a parameter: -p NAME VALUE; each notebook gets those its parameters cell declares; repeatable", collect)
    .option("-f, --file <params>", "parameters file (.json or .yaml); repeatable", collect)
    .option("--preset <name>", `a parameters file from presets/ (${listPresets().join(", ") || "none"}), read before -f and -p`)
    .option("--figures-root <dir>", "where each notebook's figures folder goes (default figures/)")
    .option("--only <names...>", "run only these notebooks (in pipeline order)")
    .option("--cell-timeout <s>", "seconds one cell may run", seconds("--cell-timeout"))
    .option("--timeout <s>", "seconds each notebook may take", seconds("--timeout"))
    .option("--log-output", "print the cells' stdout/stderr live while they run")
    .action(async (o: RunCliOptions & { only?: string[]; preset?: string; figuresRoot?: string }) => {
      // -p and -f paths are relative to where milpf was started; a preset's stay project-relative
      const notebooks = PIPELINE_NOTEBOOKS.map((n) => path.join(projectRoot(), "notebooks", `${n}.ipynb`));
      const params = { ...(o.preset ? collectParams(undefined, [presetFile(o.preset)]) : {}), ...resolvePathParams(collectParams(o.param, o.file), notebooks) };
      const figuresRoot = o.figuresRoot ? path.resolve(o.figuresRoot) : undefined;
      const r = await runPipeline({ params, only: o.only, figuresRoot, cellTimeoutS: o.cellTimeout, timeoutS: o.timeout, logOutput: o.logOutput });
      if (!r.ok) {
        process.stderr.write(`pipeline: stopped at ${r.failed}\n`);
        process.exitCode = 1;
      }
    });

  program
    .command("doctor")
    .description("what is installed and usable; each missing piece with the command that fixes it")
    .action(async () => {
      const { text, ok } = formatDoctor(await runDoctor());
      process.stdout.write(text + "\n");
      process.exitCode = ok ? 0 : 1;
    });
}
