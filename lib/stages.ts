import { EMBED_STAGE } from "./embed/stageConfig";
import { EXPLAIN_NOTEBOOK_DEFAULTS, EXPLAIN_STAGE } from "./explain/stageConfig";
import { TRAIN_NOTEBOOK_DEFAULTS, TRAIN_STAGE } from "./head/stageConfig";
import { TILE_NOTEBOOK_DEFAULTS, TILE_STAGE } from "./tiling/stageConfig";
import type { ConfigSpec } from "./util/config";

/**
 * The four stages, their notebooks and configs, in pipeline order: the one table the runner, the
 * notebooks' parameters cells and `milpf params` read. `output` names the config field of the
 * folder where the stage writes its record (stage.json).
 */
export const STAGES = [
  { stage: "tile", notebook: "01_tile", config: TILE_STAGE, notebookDefaults: TILE_NOTEBOOK_DEFAULTS, output: "out" },
  { stage: "embed", notebook: "02_embed", config: EMBED_STAGE, notebookDefaults: {}, output: "embeddings" },
  { stage: "train", notebook: "03_train_ablations", config: TRAIN_STAGE, notebookDefaults: TRAIN_NOTEBOOK_DEFAULTS, output: "trainDir" },
  { stage: "explain", notebook: "04_explain", config: EXPLAIN_STAGE, notebookDefaults: EXPLAIN_NOTEBOOK_DEFAULTS, output: "explainDir" },
] as const satisfies readonly {
  stage: string;
  notebook: string;
  config: ConfigSpec;
  notebookDefaults: Readonly<Record<string, { value: string | number | boolean; why: string }>>;
  output: string;
}[];

export type StageName = (typeof STAGES)[number]["stage"];
export type PipelineNotebook = (typeof STAGES)[number]["notebook"];

/** A pipeline notebook's stage entry, or undefined for another notebook. */
export function stageOfNotebook(name: string): (typeof STAGES)[number] | undefined {
  return STAGES.find((s) => s.notebook === name);
}
