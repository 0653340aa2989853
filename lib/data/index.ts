// The public API of lib/data (filled by its stage).
export {};
