import * as fs from "node:fs";
import * as path from "node:path";
import type { StoreMeta } from "../store/format";
import { writeFileAtomic, writeJsonAtomic, readJson } from "../util/atomic";
import { hashBytes, hashJson, staleReason, workIdentity, type WorkIdentity } from "../util/workId";
import { validateConfig, type HeadConfig } from "./config";
import { paramSpecs } from "./params";
import type { CurvePoint, GridResult, RunResult, TrainSettings, TrainTiming } from "./train";
import { concatTyped } from "../util/arrays";

/**
 * Resumable training (CLAM/TRIDENT-style per-item state): the grid of (config, seed) runs is
 * cut into units of consecutive seeds (every config of those seeds trains together, so the
 * X passes stay stacked). A finished unit is written as `units/seeds-A-B.json` (the record:
 * work identity, curves, epochs) and `units/seeds-A-B.bin` (the kept weights and the scores of
 * every bag, float32, checksummed in the record). A later run reuses a unit only when its
 * identity matches (lib/util/workId.ts): the store's content (its array checksums and bags),
 * the configs, the seeds, the training settings, the kernel and the code version. A changed
 * store, a changed setting or a corrupt weights file redoes the unit and says why.
 */
export const UNITS_DIR = "units";

export interface UnitRunRecord {
  config: string;
  seed: number;
  bestEpoch: number;
  epochsRun: number;
  bestValAuc: number | null;
  /** [epoch, train loss, val AUC (null when undefined)] */
  curve: [number, number, number | null][];
}

export interface UnitRecord {
  version: 1;
  kind: "milpf-train-unit";
  identity: WorkIdentity;
  seeds: number[];
  configs: HeadConfig[];
  dim: number;
  nBags: number;
  settings: TrainSettings;
  kernel: string;
  postH: string;
  timing: TrainTiming;
  runs: UnitRunRecord[];
  /** sha256 of the .bin file. */
  weightsSha256: string;
  finishedAt: string;
}

/** The content identity of a store for training: its array checksums, bags, encoder and shape. */
export function storeContentId(meta: StoreMeta): string {
  return hashJson({ checksums: meta.checksums ?? null, bags: meta.bags, images: meta.images, dim: meta.dim, dtype: meta.dtype, encoder: withoutFolder(meta.encoder), partial: meta.partial ?? null });
}

/**
 * An encoder's record without the folder it was loaded from: where a model lives is not what it
 * is, so a store embedded in one checkout (or with a moved model folder) has the same identity in
 * another, and its trained units and heads stay usable there (see also checkSameEncoder).
 */
export function withoutFolder<E extends { params?: Record<string, unknown> }>(e: E): E {
  if (!e.params || !("folder" in e.params)) return e;
  const { folder: _folder, ...params } = e.params;
  return { ...e, params };
}

/** Consecutive blocks of `size` seeds. */
export function seedBlocks(seeds: number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`train: seedsPerUnit must be a positive integer (got ${size})`);
  const out: number[][] = [];
  for (let i = 0; i < seeds.length; i += size) out.push(seeds.slice(i, i + size));
  return out;
}

export function unitIdentity(storeId: string, configs: HeadConfig[], seeds: number[], settings: TrainSettings, kernel: string, postH: string): WorkIdentity {
  return workIdentity("train", { store: storeId }, { configs, seeds, settings, kernel, postH });
}

export function unitName(seeds: number[]): string {
  return `seeds-${seeds[0]}-${seeds[seeds.length - 1]}`;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Write a finished unit: the weights file first, then the record that vouches for it. */
export function writeUnit(dir: string, identity: WorkIdentity, seeds: number[], configs: HeadConfig[], grid: GridResult): void {
  const nBags = grid.bags.length;
  const parts: Float32Array[] = [];
  for (const r of grid.runs) {
    for (const s of paramSpecs(r.config, grid.dim)) {
      const a = r.params[s.name];
      if (!a || a.length !== sizeOf(s.shape)) throw new Error(`train unit ${unitName(seeds)}: parameter ${s.name} of ${r.config.name} seed ${r.seed} missing or of wrong size`);
      parts.push(a);
    }
    parts.push(r.scores);
  }
  const all = concatTyped(parts, Float32Array);
  const bytes = new Uint8Array(all.buffer);
  const base = path.join(dir, UNITS_DIR, unitName(seeds));
  writeFileAtomic(`${base}.bin`, bytes);
  const rec: UnitRecord = {
    version: 1,
    kind: "milpf-train-unit",
    identity,
    seeds,
    configs,
    dim: grid.dim,
    nBags,
    settings: grid.settings,
    kernel: grid.kernel,
    postH: grid.postH,
    timing: grid.timing,
    runs: grid.runs.map((r) => ({
      config: r.config.name,
      seed: r.seed,
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      bestValAuc: Number.isFinite(r.bestValAuc) ? r.bestValAuc : null,
      curve: r.curve.map((p) => [p.epoch, p.trainLoss, Number.isFinite(p.valAuc) ? p.valAuc : null]),
    })),
    weightsSha256: hashBytes(bytes),
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomic(`${base}.json`, rec);
}

/**
 * What differs between the settings a finished unit was trained with and `want` (its record's
 * configs, settings, kernel and head after H), e.g. "configs global-max, this run
 * global-max,max+attn"; "" when the record cannot be read or nothing listed differs.
 */
export function unitParamsDiff(dir: string, seeds: number[], want: { configs: HeadConfig[]; settings: TrainSettings; kernel: string; postH: string }): string {
  let rec: UnitRecord;
  try {
    rec = readJson<UnitRecord>(path.join(dir, UNITS_DIR, `${unitName(seeds)}.json`));
  } catch {
    return "";
  }
  const out: string[] = [];
  const names = (cs: HeadConfig[]): string => cs.map((c) => c.name).join(",");
  if (hashJson(rec.configs) !== hashJson(want.configs)) out.push(`configs ${names(rec.configs)}, this run ${names(want.configs)}`);
  const settings = Object.keys(want.settings).filter((k) => hashJson(rec.settings?.[k as keyof TrainSettings]) !== hashJson(want.settings[k as keyof TrainSettings]));
  for (const k of settings) out.push(`${k} ${String(rec.settings?.[k as keyof TrainSettings])}, this run ${String(want.settings[k as keyof TrainSettings])}`);
  if (rec.kernel !== want.kernel) out.push(`kernel ${rec.kernel}, this run ${want.kernel}`);
  if (rec.postH !== want.postH) out.push(`head after H ${rec.postH}, this run ${want.postH}`);
  return out.join("; ");
}

export interface LoadedUnit {
  runs: RunResult[];
  timing: TrainTiming;
}

/**
 * A finished unit whose identity matches `want`, or the reason it cannot be reused ("new",
 * "parameters changed", "input changed", "code version changed (1 -> 2)", "corrupt (...)").
 */
export function loadUnit(dir: string, seeds: number[], want: WorkIdentity, dim: number, nBags: number): LoadedUnit | { reason: string } {
  const base = path.join(dir, UNITS_DIR, unitName(seeds));
  if (!fs.existsSync(`${base}.json`)) return { reason: "new" };
  let rec: UnitRecord;
  try {
    rec = readJson<UnitRecord>(`${base}.json`);
  } catch (e) {
    return { reason: `corrupt (${(e as Error).message})` };
  }
  if (rec.kind !== "milpf-train-unit" || rec.version !== 1) return { reason: `corrupt (${base}.json: not a train unit record)` };
  const why = staleReason(rec.identity, want);
  if (why) return { reason: why };
  let buf: Buffer;
  try {
    buf = fs.readFileSync(`${base}.bin`);
  } catch {
    return { reason: `corrupt (${base}.bin missing)` };
  }
  if (hashBytes(buf) !== rec.weightsSha256) return { reason: `corrupt (${base}.bin: checksum mismatch)` };
  if (rec.dim !== dim || rec.nBags !== nBags) return { reason: "input changed" };
  const all = new Float32Array(buf.length / 4);
  new Uint8Array(all.buffer).set(buf);
  const byName = new Map(rec.configs.map((c) => [c.name, validateConfig(c)]));
  const runs: RunResult[] = [];
  let at = 0;
  for (const r of rec.runs) {
    const config = byName.get(r.config);
    if (!config) return { reason: `corrupt (${base}.json: unknown config ${r.config})` };
    const params: Record<string, Float32Array> = {};
    for (const s of paramSpecs(config, dim)) {
      const n = sizeOf(s.shape);
      params[s.name] = all.slice(at, at + n);
      at += n;
    }
    const scores = all.slice(at, at + nBags);
    at += nBags;
    const curve: CurvePoint[] = r.curve.map(([epoch, trainLoss, valAuc]) => ({ epoch, trainLoss, valAuc: valAuc ?? NaN }));
    runs.push({ config, seed: r.seed, bestEpoch: r.bestEpoch, epochsRun: r.epochsRun, bestValAuc: r.bestValAuc ?? -Infinity, curve, params, scores });
  }
  if (at !== all.length) return { reason: `corrupt (${base}.bin: ${all.length} values, the record describes ${at})` };
  return { runs, timing: rec.timing };
}
