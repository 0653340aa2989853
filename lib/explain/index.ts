// The public API of lib/explain: attention heat maps, lesion boxes, detection AP, overlays.
export * from "./heatmap";
export * from "./frames";
export * from "./boxes";
export * from "./detection";
export * from "./colormap";
export * from "./overlay";
export * from "./explainBag";
export * from "./report";
export * from "./runExplain";
export * from "./figures";
export * from "./loaders";
export * from "./froc";
export * from "./sharp";
export * from "./select";
