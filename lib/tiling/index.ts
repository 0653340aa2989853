// The public API of lib/tiling: tile grid, tissue rules, tile crops, the tile manifest.
export * from "./params";
export * from "./grid";
export * from "./crop";
export { fileStem, processImage, jobKey, jobIdentity, checkDone, doneRecordFile, type ProcessedImage, type TileJob, type PresentationLoader } from "./process";
export { workerScriptPath, type WorkerMemory } from "./pool";
export * from "./manifest";
export * from "./images";
export { ensureSyntheticDataset } from "./dataset";
export * from "./figures";
