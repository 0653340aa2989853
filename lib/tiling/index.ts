// The public API of lib/tiling (filled by its stage).
export {};
