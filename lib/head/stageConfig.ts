import type { ConfigSpec } from "../util/config";
import { DEFAULT_PATHS } from "../util/paths";
import { configsByName } from "./config";
import { DEFAULT_TRAIN_SETTINGS } from "./train";

/** Stage 3 (train, notebook 03_train_ablations, `milpf train`): one validated config (lib/util/config.ts). */
export const TRAIN_STAGE = {
  embeddings: { kind: "string", cli: "--store <dir>", default: DEFAULT_PATHS.embeddings, path: true, doc: "embedding store of stage 2" },
  trainDir: { kind: "string", cli: "--out <dir>", default: DEFAULT_PATHS.train, path: true, doc: "output folder (predictions, curves, results, heads, stage.json)" },
  seeds: { kind: "int", cli: "--seeds <n>", default: 36, min: 1, max: 10_000, doc: "runs (seeds) per configuration; the paper: 36" },
  configs: {
    kind: "string",
    cli: "--configs <list>",
    default: "all",
    doc: '"all" = the 9 rows of the paper\'s Table 4, or comma-separated config names (also global-selfattn, not in "all")',
    check: (v: string) => {
      try {
        configsByName(v);
        return undefined;
      } catch (e) {
        return `is not a config list (${(e as Error).message})`;
      }
    },
  },
  epochs: { kind: "int", cli: "--epochs <n>", default: DEFAULT_TRAIN_SETTINGS.epochs, min: 1, max: 100_000, doc: "maximum epochs" },
  patience: { kind: "int", cli: "--patience <n>", default: DEFAULT_TRAIN_SETTINGS.patience, min: 1, max: 100_000, doc: "early-stopping patience (epochs)" },
  startEpoch: { kind: "int", cli: "--start-epoch <n>", default: DEFAULT_TRAIN_SETTINGS.startEpoch, min: 0, max: 100_000, doc: "first epoch early stopping watches (Keras start_from_epoch; the authors: 0)" },
  bootstrap: { kind: "int", cli: "--bootstrap <n>", default: 0, min: 0, max: 1_000_000, doc: "patient-bootstrap resamples for the selected runs' 95 % CIs (0 = none)" },
  resultsDir: { kind: "string", default: "", path: true, doc: 'where to publish Table 1 and Table 4 with the parameters ("" = nowhere else)' },
} as const satisfies ConfigSpec;

/** Notebook 03's own defaults, and why they differ from lib's. */
export const TRAIN_NOTEBOOK_DEFAULTS = {
  seeds: { value: 6, why: "the tutorial's time; the `paper` preset uses 36" },
  startEpoch: {
    value: 150,
    why: 'with the built-in encoder on the synthetic set, 0 stops runs before they learn (lib/head/README.md, "Early-stopping warm-up"); on real data use 0',
  },
  bootstrap: { value: 1000, why: "the notebook reports CIs" },
} as const;
