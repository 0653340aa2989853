import * as path from "node:path";
import { resolveProjectPath } from "../util/paths";

/**
 * The folder this run's figures and tables go to: env MILPF_FIGURES_DIR (set by the runner;
 * project-relative or absolute), else figures/<notebook>/ where the notebook name comes from
 * MILPF_NOTEBOOK or Jupyter's JPY_SESSION_NAME, else figures/interactive/.
 */
export function figuresDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MILPF_FIGURES_DIR) return resolveProjectPath(env.MILPF_FIGURES_DIR);
  const nb = env.MILPF_NOTEBOOK || (env.JPY_SESSION_NAME ? path.basename(env.JPY_SESSION_NAME, ".ipynb") : "");
  return resolveProjectPath(path.join("figures", nb ? safeName(nb) : "interactive"));
}

/** A figure/table name as a file name: characters other than [A-Za-z0-9._-] become "_". */
export function safeName(name: string): string {
  const s = name.trim().replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "");
  if (!s) throw new Error(`figure name ${JSON.stringify(name)} is empty once made file-safe`);
  return s;
}
