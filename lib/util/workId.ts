import * as crypto from "node:crypto";
import * as fs from "node:fs";

/**
 * Work identity: a piece of work (one image tiled, one image embedded, one head trained) is
 * reused only when the hash of its inputs' content, the parameters that matter and the code
 * version of the stage all match the record written when it was done. Tile and embed use
 * this module; a train stage can build its identity the same way (the store's array
 * checksums as inputs, its options as params, CODE_VERSIONS.train).
 */

/**
 * Version of each stage's code, as far as it changes the results. Bump a number when a change
 * to the stage makes earlier outputs wrong, or changes the numbers a fresh run would give; every
 * record of that stage is then redone. train 2: the head after H sums in another order
 * (lib/head/README.md, "Why the head after H is hand-written"), so trained models differ from
 * version 1's in the last bits, and a run's selected models and tables could differ from those
 * reused ones. tile 3: a "linear" enlargement to the working size is centre-aligned bilinear
 * (lib/preprocess/bilinear.ts); libvips's sampled half a working pixel off the recorded transform.
 */
export const CODE_VERSIONS = { tile: 3, embed: 2, train: 2, explain: 1 } as const;

export type StageName = keyof typeof CODE_VERSIONS;

/** The parts of a work identity, kept in the record so a mismatch can say why work is redone. */
export interface WorkIdentity {
  stage: StageName;
  code: number;
  /** Hash of the inputs' content (see hashInputs). */
  inputs: string;
  /** Hash of the parameters that change the result (see hashJson). */
  params: string;
}

/** sha256 (hex) of a file's bytes, read in 4 MiB pieces. Throws naming the file when it cannot be read. */
export function hashFile(file: string): string {
  const h = crypto.createHash("sha256");
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** sha256 (hex) of bytes. */
export function hashBytes(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** Canonical JSON (object keys sorted), so the hash of equal parameters never depends on key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}

export function hashJson(v: unknown): string {
  return crypto.createHash("sha256").update(canonicalJson(v)).digest("hex");
}

/** A file's content hash with the size and mtime it was taken at (to skip re-reading an unchanged file). */
export interface FileFingerprint {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * Content hash of a file, re-using `known` when the file's size and mtime still match it
 * (reading a large DICOM again only when it may have changed). A file with a new mtime but
 * the same bytes gets the same hash, so its work is still reused.
 */
export function fingerprintFile(file: string, known?: FileFingerprint | null): FileFingerprint {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && typeof known.sha256 === "string") return known;
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: hashFile(file) };
}

/** Hash of named input hashes (names sorted). */
export function hashInputs(inputs: Record<string, string>): string {
  return hashJson(inputs);
}

export function workIdentity(stage: StageName, inputs: Record<string, string>, params: unknown): WorkIdentity {
  return { stage, code: CODE_VERSIONS[stage], inputs: hashInputs(inputs), params: hashJson(params) };
}

/**
 * Why recorded work cannot be reused for `want` (null: it can). The reason is what a summary
 * prints: "new", "input changed", "parameters changed", "code version changed (1 -> 2)".
 */
export function staleReason(have: Partial<WorkIdentity> | null | undefined, want: WorkIdentity): string | null {
  if (!have) return "new";
  if (have.stage !== want.stage || have.code !== want.code) return `code version changed (${String(have.code)} -> ${want.code})`;
  if (have.inputs !== want.inputs) return "input changed";
  if (have.params !== want.params) return "parameters changed";
  return null;
}

/** Count reasons into a short phrase: "3 new, 1 input changed". */
export function reasonSummary(reasons: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return Array.from(counts.entries())
    .map(([r, n]) => `${n} ${r}`)
    .join(", ");
}
