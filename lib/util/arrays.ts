/** The typed arrays `concatTyped` joins. */
interface TypedArrayLike {
  readonly length: number;
  set(array: ArrayLike<number>, offset?: number): void;
}

/** Joins typed arrays end to end into a new one of the type `ctor` makes (also when `parts` is empty). */
export function concatTyped<T extends TypedArrayLike>(parts: readonly T[], ctor: new (length: number) => T): T {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new ctor(n);
  let o = 0;
  for (const p of parts) {
    out.set(p as unknown as ArrayLike<number>, o);
    o += p.length;
  }
  return out;
}
