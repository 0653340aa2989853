import { Command } from "commander";
import * as commands from "./commands";
import { joinParamPairs } from "./commands/runner";

/** The `milpf` command line: thin over lib/ and the runner. Each stage registers its subcommands. */
export function buildProgram(): Command {
  const program = new Command();
  program.name("milpf").description("MIL-PF mammography toolkit: notebooks, pipeline and stage commands");
  // Options belong to the command they follow: without this, `milpf embed merge S0 --out X`
  // hands `--out X` to `embed` (which has its own --out) instead of `merge`.
  program.enablePositionalOptions();
  for (const register of Object.values(commands)) register(program);
  return program;
}

// Run when executed directly or through bin/milpf.js (also via npx / node_modules/.bin symlinks:
// require.main.filename is the resolved launcher path).
if (require.main === module || /[\\/]bin[\\/]milpf\.js$/.test(require.main?.filename ?? "")) {
  Promise.resolve()
    // `-p NAME VALUE` of run/pipeline -> `-p NAME=VALUE` (see joinParamPairs)
    .then(() => buildProgram().parseAsync(["run", "pipeline"].includes(process.argv[2] ?? "") ? joinParamPairs(process.argv) : process.argv))
    .catch((e: unknown) => {
      process.stderr.write(`milpf: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
}
