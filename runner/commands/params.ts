import * as path from "node:path";
import type { Command } from "commander";
import { STAGES } from "../../lib/stages";
import { describeAllowed, renderParametersCell } from "../../lib/util/config";
import { projectRoot } from "../../lib/util/paths";
import { hasTag, readNotebook, sourceText, writeNotebook } from "../nbformat";
import { PARAMETERS_TAG } from "../parameterize";

/** The parameters cell a pipeline notebook should hold: rendered from its stage config. */
export function expectedParametersCell(notebook: string): string {
  const stage = STAGES.find((s) => s.notebook === notebook);
  if (!stage) throw new Error(`${notebook}: not a pipeline notebook (known: ${STAGES.map((s) => s.notebook).join(", ")})`);
  return renderParametersCell(stage.config, stage.notebookDefaults);
}

/**
 * Rewrite the parameters cell of each pipeline notebook in `dir` from its stage config; returns
 * the notebooks that changed. Other cells are left as they are.
 */
export function writeParametersCells(dir: string): string[] {
  const changed: string[] = [];
  for (const s of STAGES) {
    const file = path.join(dir, `${s.notebook}.ipynb`);
    const nb = readNotebook(file);
    const cell = nb.cells.find((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
    if (!cell) throw new Error(`${file}: no cell tagged "${PARAMETERS_TAG}"`);
    const want = expectedParametersCell(s.notebook);
    if (sourceText(cell.source) === want) continue;
    cell.source = want;
    writeNotebook(file, nb);
    changed.push(file);
  }
  return changed;
}

export function register(program: Command): void {
  program
    .command("params")
    .description("the stages' configs: every parameter of each pipeline notebook, its default and what it allows (lib/stages.ts)")
    .argument("[notebook]", "one pipeline notebook (e.g. 03_train_ablations)")
    .option("--write", "rewrite the notebooks' parameters cells from the configs (after changing a config)")
    .action((notebook: string | undefined, o: { write?: boolean }) => {
      if (o.write) {
        const changed = writeParametersCells(path.join(projectRoot(), "notebooks"));
        console.log(changed.length ? `rewrote the parameters cell of ${changed.join(", ")}` : "the parameters cells already match the configs");
        return;
      }
      for (const s of STAGES.filter((x) => !notebook || x.notebook === notebook)) {
        console.log(`${s.notebook} (stage ${s.stage}; record: <${s.output}>/stage.json)`);
        for (const [name, f] of Object.entries(s.config)) {
          const nbDefault = (s.notebookDefaults as Record<string, { value: unknown }>)[name];
          const def = nbDefault ? `${JSON.stringify(nbDefault.value)} (lib/CLI: ${JSON.stringify(f.default)})` : JSON.stringify(f.default);
          console.log(`  ${name.padEnd(18)} ${def.padEnd(34)} ${describeAllowed(f)}: ${f.doc}`);
        }
      }
      if (notebook && !STAGES.some((x) => x.notebook === notebook)) throw new Error(`params: ${notebook} is not a pipeline notebook (known: ${STAGES.map((s) => s.notebook).join(", ")})`);
    });
}
