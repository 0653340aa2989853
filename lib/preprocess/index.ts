// The public API of lib/preprocess (filled by its stage).
export {};
