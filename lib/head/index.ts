// The public API of lib/head (filled by its stage).
export {};
