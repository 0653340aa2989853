import * as fs from "node:fs";
import * as path from "node:path";
import type { EncoderInfo } from "../types";
import { STORE_FILES, type StoreMeta } from "../store/format";
import { readJson } from "../util/atomic";
import type { StageRecord } from "../util/stage";
import type { HeadConfig } from "./config";
import { HEAD_FILES, loadHead, type TrainedHead } from "./deploy";
import type { TrainSettings } from "./train";
import type { TrainWork } from "./run";
import { storeContentId, withoutFolder } from "./units";

/** The record `runTraining` writes as `<out>/stage.json`. */
export interface TrainStageRecord extends StageRecord {
  stage: "train";
  config: { configs: string[]; seeds: number[]; seedsPerUnit: number; settings: TrainSettings; kernel: string; postH: string; predictions: string; sensitivity: number; bootstrap: unknown };
  inputs: { store: string; storeId: string };
  upstream: { embed: { encoder: EncoderInfo; params: Record<string, unknown>; createdAt: string } };
  work: TrainWork;
}

/** A finished training run and what it was trained from, read through the stage records. */
export interface TrainRun {
  dir: string;
  record: TrainStageRecord;
  /** The selected run of the main configuration (`<dir>/head`). */
  headDir: string;
  /** The embedding store the head was trained on, and its record (store.json). */
  storeDir: string;
  store: StoreMeta;
  /** The tile manifest the store was embedded from. */
  manifest: string;
  /** The encoder the store was embedded with: its description, and how to load it ("builtin" or an ONNX folder), when recorded. */
  encoder: EncoderInfo;
  encoderSpec: string | null;
}

/**
 * Read a training run folder through its records: `<dir>/stage.json` (train) -> the store's
 * `store.json` (embed) -> the manifest and the encoder. Every link is checked: a missing record,
 * a store that changed since training, or a missing manifest is one error naming the file.
 */
export function readTrainRun(dir: string): TrainRun {
  const runDir = path.resolve(dir);
  const stageFile = path.join(runDir, "stage.json");
  if (!fs.existsSync(runDir)) throw new Error(`${runDir}: training run folder not found (run \`milpf train\` or notebook 03 first)`);
  if (!fs.existsSync(stageFile)) throw new Error(`${stageFile}: not found: ${runDir} is not a finished training run of this version (re-run \`milpf train --out ${runDir}\`; finished work is reused)`);
  const record = readJson<TrainStageRecord>(stageFile);
  if (record.stage !== "train" || !record.inputs?.store) throw new Error(`${stageFile}: not a train stage record (it is the "${String(record.stage)}" stage's); give the folder \`milpf train --out\` wrote`);
  const storeDir = record.inputs.store;
  const storeFile = path.join(storeDir, STORE_FILES.meta);
  if (!fs.existsSync(storeFile)) throw new Error(`${stageFile}: the store it was trained on, ${storeDir}, is gone (${STORE_FILES.meta} not found)`);
  const store = readJson<StoreMeta>(storeFile);
  if (storeContentId(store) !== record.inputs.storeId) {
    throw new Error(`${stageFile}: the store ${storeDir} changed after this head was trained (its content identity differs); re-run training on it`);
  }
  const manifest = typeof store.params.manifest === "string" ? store.params.manifest : null;
  if (!manifest) throw new Error(`${storeFile}: records no tile manifest (params.manifest)`);
  const headDir = path.join(runDir, "head");
  if (!fs.existsSync(path.join(headDir, HEAD_FILES.meta))) throw new Error(`${path.join(headDir, HEAD_FILES.meta)}: not found (the run's selected head)`);
  const spec = typeof store.params.encoderSpec === "string" ? store.params.encoderSpec : store.encoder.name === "milpf-builtin" || store.encoder.params?.milpf_name === "milpf-builtin" ? "builtin" : null;
  return { dir: runDir, record, headDir, storeDir, store, manifest, encoder: store.encoder, encoderSpec: spec };
}

/** The run's selected head; `config` picks another configuration's selected run (`<dir>/heads/<config>`). */
export function loadTrainRunHead(run: TrainRun, config?: HeadConfig["name"]): TrainedHead {
  const dir = config ? path.join(run.dir, "heads", config.replace(/[^A-Za-z0-9_.+-]/g, "_")) : run.headDir;
  const head = loadHead(dir);
  if (head.dim !== run.store.dim) throw new Error(`${path.join(dir, HEAD_FILES.meta)}: head dim ${head.dim} does not match its store's dim ${run.store.dim} (${run.storeDir})`);
  return head;
}

/**
 * Check that an encoder is the one a store was embedded with (name, dim, input size and
 * parameters; the execution provider may differ). Throws one error naming both.
 */
export function checkSameEncoder(store: EncoderInfo, got: Omit<EncoderInfo, "provider">, where: string): void {
  // The folder an encoder was loaded from is where it lives, not what it is: a store embedded in
  // one checkout and explained from another (or a moved model folder) is the same encoder.
  const identity = (e: Omit<EncoderInfo, "provider">): Record<string, unknown> => ({ name: e.name, dim: e.dim, inputSizePx: e.inputSizePx, ...(withoutFolder(e).params ?? {}) });
  const a = identity(store);
  const b = identity(got);
  const differ = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  if (differ.length > 0) {
    throw new Error(
      `${where}: the head was trained on embeddings of encoder ${store.name} (dim ${store.dim}, input ${store.inputSizePx} px), but explain was given ${got.name} (dim ${got.dim}, input ${got.inputSizePx} px); they differ in ${differ.join(", ")}`,
    );
  }
}
