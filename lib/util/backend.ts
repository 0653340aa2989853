import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";

/** The tfjs backend in use and why it was chosen. */
export interface TfBackendChoice {
  /** tfjs backend name: "tensorflow" (tfjs-node / tfjs-node-gpu), "wasm" or "cpu". */
  name: string;
  /** Which package provides it and why the better ones were not used. */
  reason: string;
}

/** The one tfjs instance of the process (tfjs-node, tfjs-node-gpu and danfojs-node all register into it). */
export function tf(): typeof tfTypes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("@tensorflow/tfjs") as typeof tfTypes;
}

/**
 * The name in the package.json that `pkg` resolves to, or null when it is not installed. In this
 * project `@tensorflow/tfjs-node` is an npm alias of plain `@tensorflow/tfjs` (so that danfojs-node
 * installs): the resolved name then is "@tensorflow/tfjs", not the real native package.
 */
export function resolvedPackageName(pkg: string): string | null {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    return null;
  }
  try {
    return (JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { name?: string }).name ?? null;
  } catch {
    return null;
  }
}

let chosen: Promise<TfBackendChoice> | null = null;

/**
 * Pick the best tfjs backend available, once per process, and log the choice on stderr:
 * @tensorflow/tfjs-node-gpu > @tensorflow/tfjs-node (only the real native package, not this
 * project's alias of plain tfjs) > wasm (@tensorflow/tfjs-backend-wasm) > cpu.
 * Set MILPF_TF_BACKEND=wasm|cpu|tensorflow to force one (tests, comparisons).
 */
export function selectTfBackend(opts: { log?: (line: string) => void } = {}): Promise<TfBackendChoice> {
  if (!chosen) {
    chosen = pick().then((c) => {
      (opts.log ?? ((l: string) => process.stderr.write(l + "\n")))(`tfjs backend: ${c.name} (${c.reason})`);
      return c;
    });
  }
  return chosen;
}

async function tryNative(pkg: string, skipped: string[]): Promise<boolean> {
  const name = resolvedPackageName(pkg);
  if (name === null) {
    skipped.push(`${pkg} not installed`);
    return false;
  }
  if (name !== pkg) {
    skipped.push(`${pkg} is an alias of ${name}, not the native package`);
    return false;
  }
  try {
    require(pkg); // registers the "tensorflow" backend into the shared tfjs instance
    if (await tf().setBackend("tensorflow")) return true;
    skipped.push(`${pkg} loaded but the tensorflow backend did not initialise`);
  } catch (e) {
    skipped.push(`${pkg} failed to load (${firstLine(e)})`);
  }
  return false;
}

async function pick(): Promise<TfBackendChoice> {
  const t = tf();
  const forced = process.env.MILPF_TF_BACKEND?.trim();
  const skipped: string[] = [];
  if (forced) {
    if (forced === "tensorflow") {
      if ((await tryNative("@tensorflow/tfjs-node-gpu", skipped)) || (await tryNative("@tensorflow/tfjs-node", skipped))) {
        return { name: "tensorflow", reason: "forced by MILPF_TF_BACKEND" };
      }
      throw new Error(`MILPF_TF_BACKEND=tensorflow but no native tfjs package works: ${skipped.join("; ")}`);
    }
    if (forced === "wasm") require("@tensorflow/tfjs-backend-wasm");
    if (!(await t.setBackend(forced))) throw new Error(`MILPF_TF_BACKEND=${forced}: tfjs could not initialise that backend`);
    await t.ready();
    return { name: forced, reason: "forced by MILPF_TF_BACKEND" };
  }
  if (await tryNative("@tensorflow/tfjs-node-gpu", skipped)) return { name: "tensorflow", reason: "@tensorflow/tfjs-node-gpu (native, GPU)" };
  if (await tryNative("@tensorflow/tfjs-node", skipped)) {
    return { name: "tensorflow", reason: `@tensorflow/tfjs-node (native CPU); ${skipped.join("; ")}` };
  }
  try {
    require("@tensorflow/tfjs-backend-wasm");
    if (await t.setBackend("wasm")) {
      await t.ready();
      return { name: "wasm", reason: `@tensorflow/tfjs-backend-wasm; ${skipped.join("; ")}` };
    }
    skipped.push("wasm backend did not initialise");
  } catch (e) {
    skipped.push(`@tensorflow/tfjs-backend-wasm failed (${firstLine(e)})`);
  }
  await t.setBackend("cpu");
  await t.ready();
  return { name: "cpu", reason: `pure-JS fallback; ${skipped.join("; ")}` };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** Where a package is installed (folder), or null: used by `milpf doctor`. */
export function packageDir(pkg: string): string | null {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}
