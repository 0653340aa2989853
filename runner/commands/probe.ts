import type { Command } from "commander";
import * as path from "node:path";
import { physicsProbe } from "../../lib/data/probe";
import { openStore } from "../../lib/store/read";
import { readManifest } from "../../lib/tiling/manifest";
import { DEFAULT_PATHS, resolveProjectPath } from "../../lib/util/paths";
import { writeJsonAtomic } from "../../lib/util/atomic";

/** `milpf probe`: the synthetic benchmark's scale-physics probe (lib/data/probe.ts) on a store. */
export function register(program: Command): void {
  program
    .command("probe")
    .description("linear probes (held out by patient) on a store: calcification-only positives and masses vs negatives, global view vs max over tiles")
    .option("--store <dir>", "embedding store", DEFAULT_PATHS.embeddings)
    .option("--manifest <file>", "the tile manifest the store was made from (lesion boxes)", `${DEFAULT_PATHS.tiles}/manifest.json`)
    .option("--json <file>", "also write the result as JSON")
    .action((o: { store: string; manifest: string; json?: string }) => {
      const store = openStore(resolveProjectPath(o.store));
      const res = physicsProbe(store, readManifest(resolveProjectPath(o.manifest)));
      for (const c of res.comparisons) {
        console.log(`${c.positives} (${c.nPositiveBags} bags) vs negatives (${c.nNegativeBags}): global AUC ${c.globalAuc.toFixed(3)}, max over tiles AUC ${c.tileMaxAuc.toFixed(3)}`);
      }
      if (o.json) writeJsonAtomic(path.resolve(o.json), { store: store.dir, ...res });
    });
}
