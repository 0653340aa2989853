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
 * Start `args` (node + a milpf command) up to `kills` times and SIGKILL each after a seeded random
 * delay in [minMs, maxMs). The loop ends early when a run finishes on its own: resumed work
 * only shrinks, so every later run would finish too. Returns the delays used, how many runs
 * were killed mid-run, whether one finished, and the exit codes of runs that failed unkilled.
 */
export async function killLoop(
  args: string[],
  env: NodeJS.ProcessEnv,
  o: { kills: number; minMs: number; maxMs: number; seed: number },
): Promise<{ delays: number[]; killed: number; finished: boolean; failures: number[] }> {
  const rng = new Rng(o.seed);
  const delays: number[] = [];
  const failures: number[] = [];
  let killed = 0;
  let finished = false;
  for (let k = 0; k < o.kills && !finished; k++) {
    const delay = Math.round(rng.range(o.minMs, o.maxMs));
    delays.push(delay);
    const child = spawn(process.execPath, args, { env, stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    const timer = setTimeout(() => child.kill("SIGKILL"), delay);
    const r = await exited;
    clearTimeout(timer);
    if (r.signal === "SIGKILL") killed++;
    else if (r.code === 0) finished = true;
    else failures.push(r.code ?? -1);
  }
  return { delays, killed, finished, failures };
}
