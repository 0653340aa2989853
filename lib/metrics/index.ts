// The public API of lib/metrics (filled by its stage).
export {};
