// The public API of lib/preprocess: orientation, breast mask, crop/pad/resize, coordinates.
export * from "./grey16";
export * from "./morphology";
export * from "./orient";
export * from "./mask";
export * from "./transform";
export * from "./preprocess";
export * from "./dicomImage";
