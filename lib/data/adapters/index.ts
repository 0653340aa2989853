import { type AdapterResult } from "./common";
import { type EmbedOptions, loadEmbed } from "./embed";
import { type RsnaOptions, loadRsna } from "./rsna";
import { type VindrOptions, loadVindr } from "./vindr";

export type { AdapterResult, SkippedRow } from "./common";
export { applyBreastLevelLabels } from "./common";
export { loadVindr, parseCategoryList, lesionKind, VINDR_BREAST_COLUMNS, VINDR_FINDING_COLUMNS } from "./vindr";
export type { VindrOptions } from "./vindr";
export { loadRsna, RSNA_COLUMNS } from "./rsna";
export type { RsnaOptions } from "./rsna";
export { loadEmbed, EMBED_CLINICAL_COLUMNS, EMBED_METADATA_COLUMNS } from "./embed";
export type { EmbedOptions } from "./embed";
export { loadTable } from "./table";
export type { Table } from "./table";

export type AdapterName = "vindr" | "rsna" | "embed" | "synthetic";
export const ADAPTERS: readonly AdapterName[] = ["vindr", "rsna", "embed", "synthetic"];

export type LoadDatasetOptions =
  | ({ adapter: "vindr" | "synthetic" } & VindrOptions)
  | ({ adapter: "rsna" } & RsnaOptions)
  | ({ adapter: "embed" } & EmbedOptions);

/**
 * Load a dataset's image table through its adapter. Missing image files and unreadable rows are
 * reported in `skipped`, never thrown; a missing or malformed table is one clear Error.
 */
export async function loadDataset(opts: LoadDatasetOptions): Promise<AdapterResult> {
  switch (opts.adapter) {
    case "vindr":
    case "synthetic":
      return loadVindr(opts);
    case "rsna":
      return loadRsna(opts);
    case "embed":
      return loadEmbed(opts);
    default:
      throw new Error(`unknown dataset adapter "${(opts as { adapter: string }).adapter}" (expected ${ADAPTERS.join(", ")})`);
  }
}
