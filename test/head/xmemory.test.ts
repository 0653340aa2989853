import { describe, expect, it } from "vitest";
import { FULL_CONFIG, sourceFromStoreData, synthesizeEmbeddings, trainGrid, type EmbeddingSource } from "../../lib/head";

// X kept in memory between epochs (TrainGridOptions.xMemoryBytes): the same models whether X is
// streamed every epoch, partly kept, or wholly kept; and a kept chunk is read from the source once.
const data = synthesizeEmbeddings({ bags: 90, tilesPerBag: 8, viewsPerBag: 2, dim: 16, seed: 3, prevalence: 0.4, positiveTilesPerBag: 2, signalStrength: 1 });

function counting(): { src: EmbeddingSource; reads: { g: number; t: number; bytes: number } } {
  const inner = sourceFromStoreData(data, 16);
  const reads = { g: 0, t: 0, bytes: 0 };
  const src: EmbeddingSource = {
    ...inner,
    readGlobals: (b) => {
      reads.g++;
      const x = inner.readGlobals(b);
      reads.bytes += x.data.byteLength;
      return x;
    },
    readTiles: (b) => {
      reads.t++;
      const x = inner.readTiles(b);
      reads.bytes += x.data.byteLength;
      return x;
    },
  };
  return { src, reads };
}

describe("X kept in memory across epochs", () => {
  it("gives the same models streamed, partly kept and wholly kept; kept chunks are read once", async () => {
    const opts = { configs: [FULL_CONFIG], seeds: [1, 2], epochs: 5, patience: 100, progress: false, chunkRows: 120 };
    const streamed = counting();
    const a = await trainGrid({ ...opts, source: streamed.src, xMemoryBytes: 0 });
    const kept = counting();
    const b = await trainGrid({ ...opts, source: kept.src, xMemoryBytes: 1e9 });
    const part = counting();
    const c = await trainGrid({ ...opts, source: part.src, xMemoryBytes: Math.floor(b.timing.xCachedBytes / 2) });
    expect(a.timing.xCachedBytes).toBe(0);
    expect(b.timing.xCachedBytes).toBeGreaterThan(0);
    expect(c.timing.xCachedBytes).toBeGreaterThan(0);
    expect(c.timing.xCachedBytes).toBeLessThanOrEqual(b.timing.xCachedBytes / 2);
    // streamed: every epoch reads every train + val chunk; kept: only the first epoch does (the final scoring reads once more in both)
    expect(kept.reads.t).toBeLessThan(streamed.reads.t);
    expect(streamed.reads.bytes - kept.reads.bytes).toBe(4 * b.timing.xCachedBytes); // epochs 2..5 re-read exactly what was kept
    expect(part.reads.bytes).toBeGreaterThan(kept.reads.bytes);
    expect(part.reads.bytes).toBeLessThan(streamed.reads.bytes);
    for (const r of [b, c]) {
      r.runs.forEach((run, i) => {
        for (const k of Object.keys(run.params)) expect(run.params[k]).toEqual(a.runs[i].params[k]);
        expect(run.scores).toEqual(a.runs[i].scores);
      });
    }
  });

  it("rejects a negative budget, naming the parameter", async () => {
    await expect(trainGrid({ configs: [FULL_CONFIG], seeds: [1], epochs: 1, progress: false, source: sourceFromStoreData(data, 16), xMemoryBytes: -1 })).rejects.toThrow(/xMemoryBytes/);
  });
});
