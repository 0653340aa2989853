// The public API of lib/explain (filled by its stage).
export {};
