import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TEMP_FILE_PATTERN } from "../../lib/util/atomic";
import { LOCK_FILE } from "../../lib/util/lock";
import { Rng } from "../../lib/util/rng";

/** Every temporary file (writers' patterns) under `dir`. */
export function tempFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (TEMP_FILE_PATTERN.test(e.name) || e.name === LOCK_FILE) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/**
 * Start `args` (node + a milpf command) `kills` times and SIGKILL each after a seeded random
 * delay in [minMs, maxMs). Returns the delays and how many runs were still running when killed.
 */
export async function killLoop(args: string[], env: NodeJS.ProcessEnv, o: { kills: number; minMs: number; maxMs: number; seed: number }): Promise<{ delays: number[]; killed: number }> {
  const rng = new Rng(o.seed);
  const delays: number[] = [];
  let killed = 0;
  for (let k = 0; k < o.kills; k++) {
    const delay = Math.round(rng.range(o.minMs, o.maxMs));
    delays.push(delay);
    const child = spawn(process.execPath, args, { env, stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    const timer = setTimeout(() => child.kill("SIGKILL"), delay);
    const r = await exited;
    clearTimeout(timer);
    if (r.signal === "SIGKILL") killed++;
  }
  return { delays, killed };
}
