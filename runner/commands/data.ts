import { numberOption, resolvePathOptions } from "./options";
import type { Command } from "commander";
import { ADAPTERS, type AdapterName, loadDataset } from "../../lib/data/adapters";
import { DATASET_LAYOUTS, type DatasetLayout, writeSyntheticLayout } from "../../lib/data/layouts";
import { makeSplits, writeSplits } from "../../lib/data/splits";
import { SYNTHETIC_VERSIONS, type SyntheticVersion, generateSyntheticDataset } from "../../lib/data/synthetic";
import { DEFAULT_PATHS, resolveProjectPath } from "../../lib/util/paths";

function int(name: string): (v: string) => number {
  return (v) => numberOption(v, name, { int: true });
}

function float(name: string): (v: string) => number {
  return (v) => numberOption(v, name);
}

/** Subcommands of the data stage: `milpf synth`, `milpf synth-layout`, `milpf splits`. */
export function register(program: Command): void {
  program
    .command("synth")
    .description("generate the synthetic mammography dataset (DICOM + VinDr-layout tables + ground truth)")
    .option("--out <dir>", "output folder (project-relative or absolute)", DEFAULT_PATHS.syntheticDataset)
    .option("--patients <n>", "number of patients (one exam, two breasts each)", int("patients"), 100)
    .option("--height <px>", "image height in pixels (width = 13/16 of it)", int("height"), 1024)
    .option("--seed <s>", "random seed", int("seed"), 0)
    .option("--prevalence <p>", "fraction of breasts that are suspicious (BI-RADS 4-6)", float("prevalence"), 0.3)
    .option("--workers <n>", "worker threads (default: min(4, cores))", int("workers"))
    .option("--generator <v>", `generator version (${SYNTHETIC_VERSIONS.join(" | ")}; 3 = physical lesion scale, docs in lib/data/README.md)`, int("generator"), 3)
    .option("--json", "print the summary as JSON")
    .action(async (o: { out: string; patients: number; height: number; seed: number; prevalence: number; workers?: number; generator: number; json?: boolean }, cmd: Command) => {
      resolvePathOptions(cmd, o, ["out"]);
      const summary = await generateSyntheticDataset({
        outDir: resolveProjectPath(o.out),
        patients: o.patients,
        heightPx: o.height,
        seed: o.seed,
        prevalence: o.prevalence,
        workers: o.workers,
        version: o.generator as SyntheticVersion,
      });
      if (o.json) {
        console.log(JSON.stringify(summary, null, 2));
        return;
      }
      console.log(
        `synthetic set in ${summary.outDir}: ${summary.patients} patients, ${summary.breasts} breasts ` +
          `(${summary.suspiciousBreasts} suspicious, ${summary.benignBreasts} benign, ${summary.negativeBreasts} negative), ` +
          `${summary.images} images ${summary.widthPx}x${summary.heightPx} (${summary.imagesWritten} written, ${summary.imagesReused} reused) ` +
          `in ${summary.seconds.toFixed(1)} s with ${summary.workers} worker(s)`,
      );
      console.log(`transfer syntaxes: ${Object.entries(summary.transferSyntaxCounts).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    });

  program
    .command("synth-layout")
    .description("write a synthetic set (VinDr layout) in a real dataset's layout (vindr | rsna | embed), to try that adapter end to end")
    .requiredOption("--layout <name>", `the layout to write (${DATASET_LAYOUTS.join(", ")})`)
    .requiredOption("--out <dir>", "output folder (new, or written by an earlier synth-layout)")
    .option("--from <dir>", "the source set in the VinDr layout (milpf synth's output)", DEFAULT_PATHS.syntheticDataset)
    .option("--copy", "copy the DICOMs (default: hard links, copies where a link is impossible)")
    .option("--json", "print the summary (with the id map) as JSON")
    .action(async (o: { layout: string; out: string; from: string; copy?: boolean; json?: boolean }, cmd: Command) => {
      resolvePathOptions(cmd, o, ["out", "from"]);
      if (!(DATASET_LAYOUTS as readonly string[]).includes(o.layout)) throw new Error(`--layout must be one of ${DATASET_LAYOUTS.join(", ")}, got "${o.layout}"`);
      const s = await writeSyntheticLayout({ from: resolveProjectPath(o.from), layout: o.layout as DatasetLayout, out: resolveProjectPath(o.out), copy: o.copy });
      if (o.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      console.log(`${s.out}: ${s.layout} layout, ${s.patients} patients, ${s.breasts} breasts, ${s.images} images (${s.linked} linked, ${s.copied} copied); tables ${s.tables.join(", ")}`);
      for (const d of s.differences) console.log(`  differs: ${d}`);
      console.log(`try it: milpf pipeline -p datasetDir ${s.out} -p adapter ${s.layout}`);
    });

  program
    .command("splits")
    .description("make train/val/test splits (grouped by patient, stratified by BI-RADS) and write them as CSV")
    .option("--adapter <name>", `dataset adapter (${ADAPTERS.join(", ")})`, "synthetic")
    .option("--dir <dir>", "dataset folder", DEFAULT_PATHS.syntheticDataset)
    .option("--out <file>", "split CSV (patient_id, split)", DEFAULT_PATHS.splits)
    .option("--seed <s>", "random seed", int("seed"), 42)
    .option("--train <f>", "train fraction", float("train"), 0.7)
    .option("--val <f>", "val fraction", float("val"), 0.1)
    .option("--test <f>", "test fraction", float("test"), 0.2)
    .option("--ignore-given", "ignore a split column the dataset provides")
    .action(async (o: { adapter: string; dir: string; out: string; seed: number; train: number; val: number; test: number; ignoreGiven?: boolean }, cmd: Command) => {
      resolvePathOptions(cmd, o, ["dir", "out"]);
      if (!(ADAPTERS as readonly string[]).includes(o.adapter)) throw new Error(`--adapter must be one of ${ADAPTERS.join(", ")}, got "${o.adapter}"`);
      const { records, skipped } = await loadDataset({ adapter: o.adapter as AdapterName, dir: resolveProjectPath(o.dir) } as Parameters<typeof loadDataset>[0]);
      const splits = makeSplits(records, { seed: o.seed, fractions: { train: o.train, val: o.val, test: o.test }, respectGiven: !o.ignoreGiven });
      const out = resolveProjectPath(o.out);
      writeSplits(out, splits);
      const counts: Record<string, number> = { train: 0, val: 0, test: 0 };
      for (const s of splits.values()) counts[s]++;
      console.log(`${out}: ${splits.size} patients (train ${counts.train}, val ${counts.val}, test ${counts.test}) from ${records.length} images`);
      if (skipped.length) {
        console.log(`skipped ${skipped.length} row(s):`);
        for (const s of skipped.slice(0, 20)) console.log(`  ${s.file}:${s.row}: ${s.reason}`);
        if (skipped.length > 20) console.log(`  ... and ${skipped.length - 20} more`);
      }
    });
}
