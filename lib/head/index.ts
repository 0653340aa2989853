// The public API of lib/head: the MIL-PF head, grid training, synthetic embeddings, deployment.
// Not exported: the training engine's parts (chunks, engine, runState, adam) and the oracles kept
// for checking in internal/ (float64Head: the float64 reference forward pass behind loadHead;
// tfjsHeadOracle: the tfjs autodiff head after H, postH "tfjs"; xKernelOracles: the tfjs / js X
// passes, kernel "tfjs" / "js"), reached through loadHead, trainGrid's options and createKernel.
export * from "./config";
export * from "./params";
export * from "./kernel";
export * from "./source";
export * from "./postH";
export * from "./train";
export * from "./synth";
export * from "./onnx";
export * from "./deploy";
export * from "./results";
export * from "./run";
export * from "./figures";
export * from "./rowgrad";
export * from "./rowgradPool";
export * from "./narrative";
export * from "./publish";
