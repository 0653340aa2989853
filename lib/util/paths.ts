import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The project root: the nearest folder at or above `from` (default: this file's folder) whose
 * package.json is named "milpf". Notebook parameters hold paths relative to this root, so a
 * notebook gives the same result whether Jupyter or the runner started it, from any folder.
 */
export function projectRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "milpf") return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no milpf package.json found above ${from}`);
    dir = parent;
  }
}

/** Resolve a project-relative path (absolute paths are returned as they are). */
export function resolveProjectPath(p: string): string {
  return path.isAbsolute(p) ? p : path.join(projectRoot(), p);
}

/** The default locations the stages read and write (all project-relative). */
export const DEFAULT_PATHS = {
  syntheticDataset: "data/synthetic",
  splits: "data/work/splits.csv",
  tiles: "data/work/tiles",
  builtinEncoder: "data/models/builtin",
  embeddings: "data/work/embeddings",
  train: "data/work/train",
  explain: "data/work/explain",
  figures: "figures",
} as const;
