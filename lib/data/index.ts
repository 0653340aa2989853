// The public API of lib/data: synthetic phantom and dataset generator, dataset adapters, labels, splits.
export * as phantom from "./phantom";
export * as texture from "./texture";
export { renderBreast, renderBreastMask, sampleBreastShape, sampleLesions } from "./phantom";
export type { BreastShape, BreastSpec, Density, LesionSpec, MassShape, RenderedBreast, ViewPosition } from "./phantom";
export { powerLawTexturePair } from "./texture";
export {
  generateSyntheticDataset,
  planSyntheticDataset,
  DEFAULT_SYNTHETIC_TRANSFER_SYNTAXES,
  SYNTHETIC_GENERATOR_VERSION,
  SYNTHETIC_GENERATOR_VERSIONS,
  SYNTHETIC_VERSIONS,
  parseSyntheticVersion,
  groundTruthFiles,
  readImageTruth,
  BREAST_LEVEL_COLUMNS,
  FINDING_COLUMNS,
} from "./synthetic";
export type { SyntheticOptions, SyntheticSummary, SyntheticVersion } from "./synthetic";
export type { ImageTruth } from "./synthRender";
export { makeSplits, applySplits, writeSplits, readSplits, allocateCounts, patientStratum, DEFAULT_FRACTIONS, SPLIT_FRACTIONS, parseSplitFractions } from "./splits";
export type { SplitFractions, SplitOptions } from "./splits";
export * as labels from "./labels";
export { biradsToLabel, parseBirads, parseDensity, embedAssessmentToBirads, EMBED_ASSESSMENT, LABEL_TASKS, parseLabelTask, applyLabelTask, defaultTask } from "./labels";
export type { LabelTask } from "./labels";
export { physicsProbe, fitLogisticProbe } from "./probe";
export type { ProbeResult, ProbeComparison } from "./probe";
export { pxPerMm, sampleAnatomy } from "./physics";
export * as adapters from "./adapters";
export { loadDataset, ADAPTERS } from "./adapters";
export type { AdapterName, AdapterResult, LoadDatasetOptions, SkippedRow } from "./adapters";
export { writeSyntheticLayout, DATASET_LAYOUTS, LAYOUT_DIFFERENCES, LAYOUT_INFO_FILE } from "./layouts";
export type { DatasetLayout, LayoutOptions, LayoutSummary, LayoutImage } from "./layouts";
export { renderPlannedImage, plannedTexturePair } from "./synthRender";
export type { BreastTask, ImageTask, PlannedImagePixels } from "./synthRender";
