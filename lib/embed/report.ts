import type { StoreReader } from "../store/format";
import type { EmbeddingRunStats } from "./run";
import { pca2 } from "./pca";

/**
 * The notebook's closing "what you saw" paragraph (Markdown) for the embedding stage, with the
 * numbers of this run. Throughput is given both ways, labelled: wall clock (the whole call:
 * decoding, encoder, writing) and encoder time only.
 */
export function describeEmbedding(stats: EmbeddingRunStats, store: StoreReader): string {
  const m = store.meta;
  const rows = stats.embeddedRows ?? stats.globals + stats.tiles;
  const wall = stats.seconds > 0 ? rows / stats.seconds : 0;
  const bytes = (m.globalCount + m.tileCount) * m.dim * (m.dtype === "float16" ? 2 : 4);
  const parts = [
    `**What you saw.** The ${stats.encoder} encoder (${m.dim}-d, ${m.encoder.inputSizePx} px input) ran on ${stats.provider} over ${stats.images} images of ${stats.bags} breasts: ` +
      `${m.globalCount} global views and ${m.tileCount} tiles (${(m.tileCount / Math.max(1, stats.bags)).toFixed(1)} tiles per breast).`,
    rows > 0 && stats.embeddedImages > 0
      ? `This run embedded ${rows} of them (${stats.embeddedImages} images; ${stats.reusedImages} reused from an earlier run) in ${stats.seconds.toFixed(1)} s wall clock: ${wall.toFixed(1)} views + tiles per second wall clock, ${stats.tilesPerSecond.toFixed(1)} per second of encoder time${stats.encoderSeconds !== undefined ? ` (${stats.encoderSeconds.toFixed(1)} s in the encoder; the rest is decoding the PNGs and writing)` : ""}.`
      : `Every image was reused from an earlier run (${stats.reusedImages} images); nothing was embedded now.`,
    stats.skipped.length ? `${stats.skipped.length} image(s) were skipped (listed above).` : "No image was skipped.",
    `The store holds ${(bytes / 2 ** 20).toFixed(1)} MiB of ${m.dtype} embeddings, every row L2-normalised.`,
  ];
  if (m.globalCount >= 3) {
    const p = pca2(store.readGlobals(), m.globalCount, m.dim);
    parts.push(`The two leading principal components explain ${(100 * p.explained[0]).toFixed(1)} % and ${(100 * p.explained[1]).toFixed(1)} % of the global embeddings' variance.`);
  }
  parts.push("Stage 3 (`03_train_ablations`) trains the MIL-PF head on this store.");
  return parts.join(" ");
}
