import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { codeCell, markdownCell, TSLAB_KERNELSPEC, type Cell, type Notebook } from "../../runner/nbformat";

export const ROOT = path.resolve(__dirname, "..", "..");
export const DEBIAN_PYTHON = "/usr/bin/python3";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `milpf-${prefix}-`));
}

/** A notebook from cells given as source strings ("md:" prefix = markdown; {src, tags} = tagged code). */
export function makeNotebook(cells: (string | { src: string; tags: string[] })[]): Notebook {
  const out: Cell[] = cells.map((c) => {
    if (typeof c !== "string") return codeCell(c.src, c.tags);
    return c.startsWith("md:") ? markdownCell(c.slice(3)) : codeCell(c);
  });
  return { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { ...TSLAB_KERNELSPEC }, language_info: { name: "typescript" } }, cells: out };
}

export function writeNb(dir: string, name: string, nb: Notebook): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(nb, null, 1));
  return file;
}

export function readJsonFile<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** Whether Debian's python3 can import the given modules. */
export function pythonHas(...modules: string[]): boolean {
  if (!fs.existsSync(DEBIAN_PYTHON)) return false;
  return spawnSync(DEBIAN_PYTHON, ["-c", `import ${modules.join(", ")}`]).status === 0;
}

/** Validate a notebook file against the nbformat JSON schema with Debian's python3 nbformat; returns the error text or "". */
export function nbformatErrors(file: string): string {
  const r = spawnSync(DEBIAN_PYTHON, ["-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", file], { encoding: "utf8" });
  return r.status === 0 ? "" : r.stderr || `exit ${r.status}`;
}

/** The compiled kernel worker must exist (npm test builds first). */
export function requireBuild(): void {
  const worker = path.join(ROOT, "dist", "runner", "kernel-worker.js");
  if (!fs.existsSync(worker)) throw new Error(`${worker} missing: run \`npm run build\` before these tests`);
}

export function text(s: string | string[]): string {
  return Array.isArray(s) ? s.join("") : s;
}
