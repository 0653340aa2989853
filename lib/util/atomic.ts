import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Atomic file writes: write to a temporary file in the same folder, fsync, then rename over the
 * target. A crash never leaves a half-written file under the final name.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const fd = fs.openSync(tmp, "w");
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // the folder itself is the problem: nothing was created
    }
    throw writeError(file, e);
  }
}

/** An error of a write, naming the target (not the temporary file) and the system's reason. */
function writeError(file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === "EISDIR" ? "is a folder" : err.code === "EACCES" || err.code === "EPERM" ? "permission denied" : err.code === "ENOSPC" ? "no space left on the device" : err.code === "ENOTDIR" ? "a part of the path is not a folder" : err.code === "EEXIST" ? "a part of the path is a file" : (err.code ?? err.message);
  return new Error(`${file}: cannot write (${why})`);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.promises.mkdir(dir, { recursive: true });
    const handle = await fs.promises.open(tmp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(file, e);
  }
}

export function readJson<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Temporary files of the writers in this project: `.NAME.PID.STAMP.tmp` (writeFileAtomic),
 * `.NAME.PID.tmp` (HDF5 export) and `.NAME.PID.writing` (store assembly).
 */
export const TEMP_FILE_PATTERN = /^\..+\.(\d+)(\.\d+)?\.(tmp|writing)$/;

/**
 * Remove temporary files left by killed runs in `dir` (and its sub-folders when `recursive`),
 * except those of this process. Call it at the start of a run that holds the folder's lock
 * (lib/util/lock.ts), so no live writer owns them. Returns the removed paths.
 */
export function cleanTempFiles(dir: string, opts: { recursive?: boolean } = {}): string[] {
  const removed: string[] = [];
  if (!fs.existsSync(dir)) return removed;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (opts.recursive) walk(p);
        continue;
      }
      const m = TEMP_FILE_PATTERN.exec(e.name);
      if (!m || Number(m[1]) === process.pid) continue;
      fs.rmSync(p, { force: true });
      removed.push(p);
    }
  };
  walk(dir);
  return removed;
}
