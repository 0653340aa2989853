import { ADAPTERS } from "../data/adapters";
import { LABEL_TASKS } from "../data/labels";
import { SPLIT_FRACTIONS } from "../data/splits";
import { PREPROCESS_PRESETS } from "../preprocess/preprocess";
import type { ConfigSpec } from "../util/config";
import { DEFAULT_PATHS } from "../util/paths";
import { DEFAULT_TILING_PARAMS, MAX_GLOBAL_SIZE_PX, MAX_WORKING_SIZE_PX, TISSUE_RULES } from "./params";

/** Stage 1 (tile, notebook 01_tile, `milpf tile`): one validated config (lib/util/config.ts). */
export const TILE_STAGE = {
  datasetDir: { kind: "string", cli: "--dataset <dir>", default: DEFAULT_PATHS.syntheticDataset, path: true, doc: "dataset folder (the synthetic set is generated here when it holds none)" },
  adapter: { kind: "string", cli: "--adapter <name>", default: "synthetic", oneOf: ADAPTERS, doc: "dataset layout (lib/data/adapters)" },
  task: { kind: "string", cli: "--task <name>", default: "", oneOf: ["", ...LABEL_TASKS], doc: 'label task: "" = the adapter\'s own (BI-RADS; RSNA: cancer)' },
  patients: { kind: "int", default: 360, min: 1, max: 100_000, doc: "synthetic set only: patients to generate" },
  generator: { kind: "int", default: 3, min: 2, max: 3, doc: "synthetic set only: generator version (3 = mammography's scale physics)" },
  heightPx: { kind: "int", default: 1024, min: 64, max: 8192, doc: "synthetic set only: image height" },
  seed: { kind: "int", cli: "--seed <s>", default: 42, min: 0, doc: "seed of a new split file (and of the synthetic set)" },
  workingSizePx: { kind: "int", cli: "--working-size <px>", default: DEFAULT_TILING_PARAMS.workingSizePx, min: 8, max: MAX_WORKING_SIZE_PX, doc: "side of the square working image" },
  tileSizePx: { kind: "int", cli: "--tile-size <px>", default: DEFAULT_TILING_PARAMS.tileSizePx, min: 8, max: MAX_WORKING_SIZE_PX, doc: "tile side (= the encoder's input)" },
  globalSizePx: { kind: "int", cli: "--global-size <px>", default: DEFAULT_TILING_PARAMS.globalSizePx, min: 8, max: MAX_GLOBAL_SIZE_PX, doc: "global view side (= the encoder's input)" },
  overlap: { kind: "number", cli: "--overlap <f>", default: DEFAULT_TILING_PARAMS.overlap, min: 0, max: 1, maxExclusive: true, doc: "tile overlap: 0 for training" },
  tissueRule: { kind: "string", cli: "--tissue-rule <rule>", default: DEFAULT_TILING_PARAMS.tissueRule, oneOf: TISSUE_RULES, doc: "which tiles are kept" },
  minTissueFraction: { kind: "number", cli: "--min-tissue <f>", default: DEFAULT_TILING_PARAMS.minTissueFraction, min: 0, max: 1, doc: "maskFraction rule: minimum mask fraction of a kept tile (0 = any tissue)" },
  preprocessing: { kind: "string", cli: "--preprocessing <preset>", default: DEFAULT_TILING_PARAMS.preprocessing, oneOf: PREPROCESS_PRESETS, doc: 'preprocessing preset: "authors" = mil-pf-core\'s steps for exact reproduction' },
  splitFractions: { kind: "string", cli: "--split-fractions <f>", default: "70/10/20", oneOf: SPLIT_FRACTIONS, doc: "train/val/test shares of a new split file (the paper: 70/10/20; the authors' code: 70/15/15)" },
  splits: { kind: "string", cli: "--splits <file>", default: DEFAULT_PATHS.splits, path: true, doc: "split file (made from seed when missing)" },
  out: { kind: "string", cli: "--out <dir>", default: DEFAULT_PATHS.tiles, path: true, doc: "output folder (manifest.json, images, stage.json)" },
  workers: { kind: "int", cli: "--workers <n>", default: -1, min: -1, max: 256, doc: "worker threads: -1 = all cores, 0 = in the calling process" },
} as const satisfies ConfigSpec;

/** Notebook 01's own defaults: the synthetic tutorial runs at 1024 px, not the paper's 4096. */
export const TILE_NOTEBOOK_DEFAULTS = {
  workingSizePx: { value: 1024, why: "the synthetic tutorial works at 1024 px (0.4 mm/px)" },
  tileSizePx: { value: 128, why: "518/4096 of the working size, as in the paper" },
  globalSizePx: { value: 128, why: "the tutorial's global view" },
} as const;
