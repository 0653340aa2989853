// The public API of lib/embed (filled by its stage).
export {};
