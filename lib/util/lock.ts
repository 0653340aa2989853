import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * One writer per output folder: an advisory lock file `<dir>/.milpf.lock` holding the pid,
 * host and start time of the run that owns the folder. It is created with O_EXCL, so of two
 * runs (on one machine or on several sharing a file system) only one gets it; the other
 * refuses with a message naming the owner. The owner touches the file every
 * `heartbeatMs`; a lock is stale, and is taken over (and reported), when its pid is dead on
 * this host, or when its heartbeat is older than `staleMs` (the way to see a dead owner on
 * another machine).
 */
export const LOCK_FILE = ".milpf.lock";

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface Lock {
  file: string;
  info: LockInfo;
  /** Set when a stale lock was taken over: one line saying whose. */
  tookOver: string | null;
  release(): void;
}

export interface LockOptions {
  /** What the run is, for the message another run prints ("embed", "tile"). */
  command: string;
  heartbeatMs?: number;
  /** Age of the heartbeat after which a lock of another host counts as stale (default 10 min, env MILPF_LOCK_STALE_S). */
  staleMs?: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(file: string): { info: LockInfo | null; mtimeMs: number } | null {
  try {
    const st = fs.statSync(file);
    let info: LockInfo | null = null;
    try {
      info = JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
    } catch {
      info = null; // being written, or damaged
    }
    return { info, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** Take the lock of `dir` or throw one error naming the folder and the run that holds it. */
export function acquireLock(dir: string, opts: LockOptions): Lock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const staleMs = opts.staleMs ?? Number(process.env.MILPF_LOCK_STALE_S ?? 600) * 1000;
  const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), command: opts.command };
  let tookOver: string | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, JSON.stringify(info) + "\n");
      fs.closeSync(fd);
      let released = false;
      const timer = setInterval(() => {
        try {
          const now = new Date();
          fs.utimesSync(file, now, now);
        } catch {
          // folder removed under us: nothing to keep alive
        }
      }, heartbeatMs);
      timer.unref();
      const release = (): void => {
        if (released) return;
        released = true;
        clearInterval(timer);
        process.removeListener("exit", release);
        const cur = readLock(file);
        if (cur?.info && cur.info.pid === info.pid && cur.info.host === info.host && cur.info.startedAt === info.startedAt) fs.rmSync(file, { force: true });
      };
      process.on("exit", release);
      return { file, info, tookOver, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`${file}: cannot create the lock file (${(e as Error).message})`);
    }
    const cur = readLock(file);
    if (!cur) continue; // released in between: try again
    const owner = cur.info;
    const age = Date.now() - cur.mtimeMs;
    const deadHere = owner !== null && owner.host === info.host && !pidAlive(owner.pid);
    const silent = age > staleMs;
    const unreadable = owner === null && age > 5_000;
    if (!deadHere && !silent && !unreadable) {
      throw new Error(
        `${dir}: in use by another milpf ${owner?.command ?? "run"} (pid ${owner?.pid ?? "?"} on ${owner?.host ?? "?"}, since ${owner?.startedAt ?? "?"}); ` +
          `wait for it to finish, or remove ${file} if that run is gone`,
      );
    }
    tookOver =
      `took over the stale lock of ${owner ? `pid ${owner.pid} on ${owner.host} (${owner.command}, since ${owner.startedAt})` : "an unreadable lock file"}: ` +
      (deadHere ? "that process is gone" : `no heartbeat for ${Math.round(age / 1000)} s`);
    // Move the stale file aside, then check it was the one judged stale (another run may have
    // taken it over in between: then put that run's lock back).
    const aside = `${file}.stale.${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue;
    }
    const moved = readLock(aside);
    if (moved?.info && owner && (moved.info.pid !== owner.pid || moved.info.startedAt !== owner.startedAt)) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // a third run holds it now; ours will fail on the next attempt
      }
      tookOver = null;
    }
    fs.rmSync(aside, { force: true });
  }
  throw new Error(`${file}: could not take the lock (another run keeps taking it)`);
}

/** Run `fn` holding the lock of `dir`; the lock is released whatever happens. */
export async function withLock<T>(dir: string, opts: LockOptions, fn: (lock: Lock) => Promise<T>): Promise<T> {
  const lock = acquireLock(dir, opts);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
