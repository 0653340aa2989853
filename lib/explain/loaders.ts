import * as fs from "node:fs";
import * as path from "node:path";
import type { Encoder, ExecutionProviderName } from "../embed/encoder";
import { loadEncoder } from "../embed/loadEncoder";
import { HEAD_FILES, loadHead, type HeadFile, type TrainedHead } from "../head/deploy";
import { readJson } from "../util/atomic";

/** The run's encoder: "builtin" or an HF-style ONNX folder (lib/embed's loadEncoder). */
export async function loadRunEncoder(spec: string, provider: ExecutionProviderName = "cpu"): Promise<Encoder> {
  if (!["cpu", "cuda", "webgpu"].includes(provider)) throw new Error(`explain: unknown execution provider '${provider}' (cpu, cuda, webgpu)`);
  return loadEncoder(spec, { provider });
}

function findHeadFiles(dir: string, depth: number): string[] {
  const out: string[] = [];
  if (fs.existsSync(path.join(dir, HEAD_FILES.meta))) out.push(dir);
  if (depth === 0) return out;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory()) out.push(...findHeadFiles(path.join(dir, e.name), depth - 1));
  }
  return out;
}

function numberIn(info: Record<string, unknown>, keys: string[]): number {
  for (const k of keys) {
    const v = info[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return -Infinity;
}

/**
 * The head folder of a training run: `<run>` itself when it holds head.json, else the head
 * folders up to three levels below (`milpf train` writes `<run>/head` = the selected run of the
 * main configuration and `<run>/heads/<config>`), preferring (1) a head with a local attention
 * stream (it has tile attention to map), (2) the run's designated head: `<run>/head`, or a path
 * segment named "best" or "selected", (3) the full max+attn configuration, (4) the highest
 * validation AUC recorded in its info, (5) path order.
 */
export function findRunHead(runDir: string): string {
  if (!fs.existsSync(runDir)) throw new Error(`${runDir}: training run folder not found (run \`milpf train\` first)`);
  const dirs = findHeadFiles(runDir, 3);
  if (dirs.length === 0) throw new Error(`${runDir}: no trained head (${HEAD_FILES.meta}) in this folder or below`);
  const ranked = dirs.map((d, i) => {
    const meta = readJson<HeadFile>(path.join(d, HEAD_FILES.meta));
    const segs = path.relative(runDir, d).split(path.sep);
    return {
      d,
      i,
      chosen: (segs.length === 1 && segs[0] === "head") || segs.some((s) => /^(best|selected)$/i.test(s)) ? 1 : 0,
      attn: meta.config?.local === "attn" ? 1 : 0,
      full: meta.config?.name === "max+attn" ? 1 : 0,
      auc: numberIn(meta.info ?? {}, ["valAuc", "bestValAuc", "val_auc"]),
    };
  });
  ranked.sort((a, b) => b.attn - a.attn || b.chosen - a.chosen || b.full - a.full || b.auc - a.auc || a.i - b.i);
  return ranked[0].d;
}

/** The trained head of a training run folder (see findRunHead), loaded with lib/head's loadHead. */
export function loadRunHead(runDir: string): TrainedHead {
  const dir = findRunHead(runDir);
  const head = loadHead(dir);
  if (head.config.local === null) {
    throw new Error(`${path.join(dir, HEAD_FILES.meta)}: head "${head.config.name}" has no local (tile) stream, so it gives tiles no attention to map; explain a head with a local stream (e.g. max+attn)`);
  }
  return head;
}
