import { EXECUTION_PROVIDERS } from "../embed/stageConfig";
import type { ConfigSpec } from "../util/config";
import { DEFAULT_PATHS } from "../util/paths";

/** Splits explain evaluates or selects on ("all" = every breast). */
export const EXPLAIN_SPLITS = ["train", "val", "test", "all"] as const;

/**
 * Stage 4 (explain, notebook 04_explain, `milpf explain`): one validated config. The training
 * run's records give everything else (its head, its store, the store's manifest and encoder).
 */
export const EXPLAIN_STAGE = {
  trainDir: { kind: "string", cli: "--run <dir>", default: DEFAULT_PATHS.train, path: true, doc: "training run folder of stage 3" },
  provider: { kind: "string", cli: "--provider <name>", default: "cpu", oneOf: EXECUTION_PROVIDERS, doc: "onnxruntime execution provider of the encoder" },
  explainDir: { kind: "string", cli: "--out <dir>", default: DEFAULT_PATHS.explain, path: true, doc: "output folder (explain.json, cases, stage.json)" },
  cases: { kind: "int", cli: "--cases <n>", default: 0, min: 0, max: 1_000_000, doc: "0 = every breast of the split (the evaluation); N = a quick look at N breasts, half positive" },
  overlap: { kind: "number", cli: "--overlap <f>", default: 0.75, min: 0, max: 1, maxExclusive: true, doc: "tile overlap of the maps (the paper: 0.75)" },
  split: { kind: "string", cli: "--split <name>", default: "test", oneOf: EXPLAIN_SPLITS, doc: "split the cases come from" },
  selectionSplit: { kind: "string", cli: "--selection-split <name>", default: "val", oneOf: ["train", "val", "test"], doc: "split the sharp method's parameters are chosen on (then applied to split)" },
  selectionCases: { kind: "int", cli: "--selection-cases <n>", default: 0, min: 0, max: 1_000_000, doc: "0 = every breast of the selection split; N = at most N (quicker, noisier)" },
  caseSeed: { kind: "int", cli: "--seed <n>", default: 0, min: 0, doc: "seed of the case choice" },
} as const satisfies ConfigSpec;

/** Notebook 04's own defaults, and why they differ from lib's. */
export const EXPLAIN_NOTEBOOK_DEFAULTS = {
  selectionCases: { value: 32, why: "keeps the synthetic pipeline within CI's time (the 576-entry grid on 32 validation breasts)" },
} as const;
