import * as path from "node:path";
import type { Command } from "commander";
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
      const params = collectParams(o.param, o.file);
      const name = path.basename(notebook, ".ipynb");
      const output = o.output ?? path.join(projectRoot(), "figures", name, `${name}.ipynb`);
      const r = await executeNotebook({ input: notebook, output, params, figuresDir: o.figures, cellTimeoutS: o.cellTimeout, timeoutS: o.timeout, logOutput: o.logOutput });
      if (!r.ok) process.exitCode = 1;
    });

  program
    .command("pipeline")
    .description(`execute ${PIPELINE_NOTEBOOKS.join(", ")} in order; each output notebook goes to figures/<name>/<name>.ipynb beside its figures`)
    .option("-p, --param <name value>", "a parameter: -p NAME VALUE; each notebook gets those its parameters cell declares; repeatable", collect)
    .option("-f, --file <params>", "parameters file (.json or .yaml); repeatable", collect)
    .option("--only <names...>", "run only these notebooks (in pipeline order)")
    .option("--cell-timeout <s>", "seconds one cell may run", seconds("--cell-timeout"))
    .option("--timeout <s>", "seconds each notebook may take", seconds("--timeout"))
    .option("--log-output", "print the cells' stdout/stderr live while they run")
    .action(async (o: RunCliOptions & { only?: string[] }) => {
      const r = await runPipeline({ params: collectParams(o.param, o.file), only: o.only, cellTimeoutS: o.cellTimeout, timeoutS: o.timeout, logOutput: o.logOutput });
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
