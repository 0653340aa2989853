// The public API of lib/data: synthetic phantom and dataset generator, dataset adapters, labels, splits.
export * as phantom from "./phantom";
export * as texture from "./texture";
export * as csv from "./csv";
export { renderBreast, renderBreastMask, sampleBreastShape, sampleLesions } from "./phantom";
export type { BreastShape, BreastSpec, Density, LesionSpec, MassShape, RenderedBreast, ViewPosition } from "./phantom";
export { powerLawTexturePair } from "./texture";
export {
  generateSyntheticDataset,
  planSyntheticDataset,
  DEFAULT_SYNTHETIC_TRANSFER_SYNTAXES,
  SYNTHETIC_GENERATOR_VERSION,
  groundTruthFiles,
  readImageTruth,
  BREAST_LEVEL_COLUMNS,
  FINDING_COLUMNS,
} from "./synthetic";
export type { SyntheticOptions, SyntheticSummary } from "./synthetic";
export type { ImageTruth } from "./synthRender";
export { makeSplits, applySplits, writeSplits, readSplits, allocateCounts, patientStratum, DEFAULT_FRACTIONS } from "./splits";
export type { SplitFractions, SplitOptions } from "./splits";
export * as labels from "./labels";
export { biradsToLabel, parseBirads, parseDensity, embedAssessmentToBirads, EMBED_ASSESSMENT } from "./labels";
export * as adapters from "./adapters";
export { loadDataset, ADAPTERS } from "./adapters";
export type { AdapterName, AdapterResult, LoadDatasetOptions, SkippedRow } from "./adapters";
export { renderPlannedImage, plannedTexturePair } from "./synthRender";
export type { BreastTask, ImageTask, PlannedImagePixels } from "./synthRender";
