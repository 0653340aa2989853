import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * A compiled `milpf` CLI for tests that spawn it: the project's dist/ when it is newer than
 * the embed/store/tiling sources (as after `npm run build`), else a private tsc build in a
 * temp folder (type errors elsewhere do not block emit). Returns the script and the env.
 */
export function compiledCli(): { script: string; env: NodeJS.ProcessEnv } {
  const sources = Math.max(
    ...["lib/embed", "lib/store", "lib/tiling", "lib/util", "lib/head", "runner/commands"].map((d) => newestMtime(path.join(root, d))),
  );
  const dist = path.join(root, "dist", "runner", "cli.js");
  const distEmbed = path.join(root, "dist", "lib", "embed", "run.js");
  if (fs.existsSync(dist) && fs.existsSync(distEmbed) && fs.statSync(distEmbed).mtimeMs >= sources) {
    return { script: path.join(root, "bin", "milpf.js"), env: { ...process.env } };
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-cli-"));
  try {
    execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "tsconfig.json"), "--outDir", out], {
      cwd: root,
      stdio: "pipe",
    });
  } catch {
    // tsc exits non-zero on type errors in files under edit by others; it still emits.
  }
  // the compiled code finds its project root (and code version) by the package.json above it
  fs.copyFileSync(path.join(root, "package.json"), path.join(out, "package.json"));
  const script = path.join(out, "runner", "cli.js");
  if (!fs.existsSync(script)) throw new Error(`could not compile the CLI into ${out}`);
  return { script, env: { ...process.env, NODE_PATH: path.join(root, "node_modules") } };
}
