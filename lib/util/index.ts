export * from "./rng";
export * from "./atomic";
export * from "./progress";
export * from "./paths";
export * from "./backend";
export * from "./workId";
export * from "./lock";
export * from "./stage";
