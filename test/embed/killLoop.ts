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
 * Start `args` (node + a milpf command) and SIGKILL it after a seeded random delay in
 * [minMs, maxMs), until `kills` runs were killed mid-run. Resumed work only shrinks, so a run
 * may finish before its kill: with `reset` (which empties the output folder) the loop then
 * starts over on fresh output and goes on killing (at most 3 x kills starts); without it the
 * loop ends there. Returns the delays, the runs killed, how many finished, and the exit codes of
 * runs that failed unkilled.
 */
export async function killLoop(
  args: string[],
  env: NodeJS.ProcessEnv,
  o: { kills: number; minMs: number; maxMs: number; seed: number; reset?: () => void },
): Promise<{ delays: number[]; killed: number; finished: number; failures: number[] }> {
  const rng = new Rng(o.seed);
  const delays: number[] = [];
  const failures: number[] = [];
  let killed = 0;
  let finished = 0;
  for (let start = 0; killed < o.kills && start < 3 * o.kills; start++) {
    const delay = Math.round(rng.range(o.minMs, o.maxMs));
    delays.push(delay);
    const child = spawn(process.execPath, args, { env, stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    const timer = setTimeout(() => child.kill("SIGKILL"), delay);
    const r = await exited;
    clearTimeout(timer);
    if (r.signal === "SIGKILL") killed++;
    else if (r.code === 0) {
      finished++;
      if (!o.reset) break;
      o.reset();
    } else failures.push(r.code ?? -1);
  }
  return { delays, killed, finished, failures };
}
