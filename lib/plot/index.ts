// The public API of lib/plot (filled by its stage).
export {};
