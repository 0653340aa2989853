// The public API of lib/embed: encoders (ONNX, built-in, tiny ViT) and the embedding run.
export * from "./encoder";
export { OnnxGraphBuilder } from "../util/onnxGraph";
export type { OnnxAttr, OnnxDim } from "../util/onnxGraph";
export { parsePreprocessorConfig, greyToPixelValues, resampleKernel } from "./preprocess";
export type { PreprocessorConfig } from "./preprocess";
export { loadOnnxEncoder, chooseOutput, createSession } from "./onnxEncoder";
export type { OnnxEncoderOptions } from "./onnxEncoder";
export { writeBuiltinEncoder, buildBuiltinModel, builtinFeatureCount, phantomCalibrationImages, BUILTIN_MODEL_TYPE, BUILTIN_VERSION } from "./builtin";
export type { BuiltinEncoderOptions } from "./builtin";
export { buildTinyVit, writeTinyVit } from "./tinyVit";
export type { TinyVitOptions } from "./tinyVit";
export { loadEncoder } from "./loadEncoder";
export type { LoadEncoderOptions } from "./loadEncoder";
export { runEmbedding, planBags, parseShard, parseProvider, parseDtype, runStatsRows, CHUNK_DIR, RUN_STATS_FILE } from "./run";
export type { RunEmbeddingOptions, EmbeddingRunResult, EmbeddingRunStats, Shard } from "./run";
export { pca2, globalPcaFigure } from "./pca";
export type { Pca2 } from "./pca";
export { describeEmbedding } from "./report";
