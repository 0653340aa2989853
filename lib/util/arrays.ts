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

/**
 * Float32 arrays kept by key and handed out again (grown when too small), so that a loop over
 * chunks or jobs leaves no garbage per step. `get` returns a view of the first n floats; the
 * caller owns it until it asks for the same key again.
 */
export class ReusedArrays {
  private readonly bufs = new Map<string, Float32Array>();
  constructor(private readonly alloc: (n: number) => Float32Array = (n) => new Float32Array(n)) {}

  get(key: string, n: number): Float32Array {
    let b = this.bufs.get(key);
    if (!b || b.length < n) {
      this.bufs.delete(key); // let the smaller one go before allocating
      b = this.alloc(n);
      this.bufs.set(key, b);
    }
    return b.subarray(0, n);
  }
}
