// The public API of lib/head: the MIL-PF head, grid training, synthetic embeddings, deployment.
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
