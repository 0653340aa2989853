import * as path from "node:path";
import { cleanTempFiles, writeFileAtomic, writeJsonAtomic } from "./atomic";
import { resolveConfig, type ConfigSpec } from "./config";
import { acquireLock } from "./lock";
import { Progress } from "./progress";
import { writeStageRecord, type StageRecord } from "./stage";
import { reasonSummary, type StageName } from "./workId";

/**
 * The one skeleton of the four stages (tile, embed, train, explain). A stage says what is
 * specific to it: how to list its items, how to tell whether an item's stored result is still
 * good (its work identity, lib/util/workId.ts), how to compute one, and how to combine the
 * results into the stage's outputs. runStage owns the control flow around that:
 *
 *  1. resolve the configuration: the given settings are checked against the stage's ConfigSpec
 *     (defaults filled in; one error naming the stage, field, value and what is allowed);
 *  2. take the output folder's lock (lib/util/lock.ts; a stale lock taken over is a note) and
 *     remove the temporary files of killed runs;
 *  3. open what the work needs (`open`: an encoder, a store) and list the items (`items`; items
 *     left out while listing come back as skipped);
 *  4. per item: reuse its stored result when `check` finds it matches the item's identity, else
 *     note why it is redone ("new", "input changed", "parameters changed", "code version changed
 *     (1 -> 2)", "output file missing", "corrupt (...)"), compute it (`compute`, optionally with
 *     the next item's inputs prefetched, or all of them at once in `runAll`, e.g. a worker pool),
 *     and tick the progress bar. An item that throws is skipped with its error and the batch goes
 *     on (`onItemError: "stop"` makes it fatal instead, for a stage whose outputs need every item);
 *  5. `finish` combines the results; the files it returns are written atomically, then the stage
 *     record (stage.json: resolved config, code version, input identities, upstream records and
 *     the summary: done with reasons, reused, skipped). A fatal error anywhere leaves no stage
 *     output and no record behind (only finished items' own files, which a re-run reuses).
 *
 * The lock is released and `close` called whatever happens.
 */

/** An item left out, and why (`item`: set for an item whose computation failed). */
export interface SkippedItem<I = unknown> {
  id: string;
  error: string;
  item?: I;
}

/** How one item went: its result, or the error it was skipped for. */
export type ItemOutcome<R> = { ok: true; result: R } | { ok: false; error: string };

/** What the skeleton knows once it holds the folder. */
export interface StageContext<C = Record<string, unknown>> {
  stage: StageName;
  outDir: string;
  /** The configuration resolved against the stage's ConfigSpec (empty without one). */
  config: C;
  /** Lines worth telling: a stale lock taken over, temporary files removed. */
  notes: string[];
  /** Temporary files of killed runs removed at the start. */
  cleaned: string[];
}

/** What the item loop did, handed to `finish`. */
export interface StageWork<I, R> {
  items: I[];
  /** Per item (same order): its result, reused or computed; undefined when it was skipped. */
  results: (R | undefined)[];
  reused: number;
  /** The items computed by this run (skipped ones too), each with why it was not reused. */
  redone: { id: string; reason: string }[];
  /** The items of `redone` that succeeded. */
  done: number;
  /** Items left out while listing, then the items whose computation failed (in item order). */
  skipped: SkippedItem<I>[];
  /** Ids of the items whose computation failed (a subset of redone). */
  failed: Set<string>;
  /** The reasons counted into one phrase ("3 new, 1 input changed"), through `reasonKind`. */
  reasons: string;
}

/** The record parts only the stage knows; the skeleton adds stage, code version, time and summary. */
export interface StageRecordParts {
  config: Record<string, unknown>;
  inputs: Record<string, unknown>;
  upstream: Record<string, unknown>;
  /** Stage-specific facts kept in the record (skipped counts, the train work, ...). */
  extra?: Record<string, unknown>;
}

export interface StageFinish<O> {
  /** What runStage returns. */
  value: O;
  /** Output files (relative to the folder, in writing order): text or bytes as they are, anything else as JSON. */
  files?: [string, unknown][];
  /** The stage record's parts; null writes none (a shard run, which is not a finished stage). */
  record: StageRecordParts | null;
}

export interface StageDefinition<S, I, R, O, P = void> {
  stage: StageName;
  /** The output folder (absolute): locked, cleaned, holds the outputs and stage.json. */
  outDir: string;
  /** The settings to check against the stage's spec (fields named as the spec names them; undefined = the default). */
  config?: { spec: ConfigSpec; given: Record<string, unknown> };
  /** Where notes are told as they happen (they are returned in the context either way). */
  say?: (line: string) => void;
  /** The work's unit in the summary ("images", "breasts"). */
  unit: string;
  /** Once the folder is held: what the work needs (an encoder, a store, a selection step). */
  open(ctx: StageContext): Promise<S> | S;
  /** Called whatever happens once `open` succeeded. */
  close?(state: S): Promise<void> | void;
  /** The items, and those left out while listing. */
  items(state: S, ctx: StageContext): { items: I[]; skipped?: SkippedItem<I>[] };
  id(item: I): string;
  /** The stored result when it matches the item's identity, else why the item is redone. Throwing is fatal. */
  check(item: I, state: S): { reuse: R } | { reason: string };
  /** Loads an item's inputs while the previous item computes (errors skip the item). */
  prefetch?(item: I, state: S): Promise<P>;
  /** Computes one item (writing its own files atomically, its record last). Throwing skips it. */
  compute(item: I, state: S, prefetched: P): Promise<R>;
  /** Computes all to-do items another way (a worker pool): settle(k, outcome) once per todo[k]. */
  runAll?(todo: I[], state: S, settle: (k: number, outcome: ItemOutcome<R>) => void): Promise<void>;
  /** "skip" (default): a failed item is skipped and the batch goes on; "stop": it is fatal. */
  onItemError?: "skip" | "stop";
  /** After each item computed (not reused): counts so far; may throw to stop the run (fatal). */
  afterItem?(computed: number, total: number): void;
  /** The progress bar over the to-do items (null: none, e.g. the item shows its own). */
  progress: { label: string | ((state: S) => string); unit: string; weight?: (item: I) => number; enabled: boolean } | null;
  /** The kind of a reason in the summary phrase (default: the reason itself). */
  reasonKind?(reason: string): string;
  /** Combines the results: the outputs to write, the record, the value to return. */
  finish(state: S, work: StageWork<I, R>, ctx: StageContext): Promise<StageFinish<O>> | StageFinish<O>;
}

/** Runs one stage through the skeleton (see the module comment); returns `finish`'s value and the record written. */
export async function runStage<S, I, R, O, P = void>(def: StageDefinition<S, I, R, O, P>): Promise<{ value: O; record: StageRecord | null; ctx: StageContext }> {
  const config = def.config ? (resolveConfig(def.stage, def.config.spec, def.config.given) as Record<string, unknown>) : {};
  const outDir = path.resolve(def.outDir);
  const lock = acquireLock(outDir, { command: def.stage });
  try {
    const notes: string[] = [];
    const note = (line: string): void => {
      notes.push(line);
      def.say?.(line);
    };
    if (lock.tookOver) note(lock.tookOver);
    const cleaned = cleanTempFiles(outDir, { recursive: true });
    if (cleaned.length) note(`removed ${cleaned.length} temporary file(s) of an interrupted run`);
    const ctx: StageContext = { stage: def.stage, outDir, config, notes, cleaned };
    const state = await def.open(ctx);
    try {
      const work = await runItems(def, state, ctx);
      const fin = await def.finish(state, work, ctx);
      for (const [rel, data] of fin.files ?? []) {
        const file = path.join(outDir, rel);
        if (typeof data === "string" || data instanceof Uint8Array) writeFileAtomic(file, data);
        else writeJsonAtomic(file, data);
      }
      const record = fin.record
        ? writeStageRecord(outDir, {
            stage: def.stage,
            config: fin.record.config,
            inputs: fin.record.inputs,
            upstream: fin.record.upstream,
            summary: { unit: def.unit, done: work.done, reused: work.reused, reasons: work.reasons, ...(work.skipped.length ? { skipped: work.skipped.length } : {}) },
            ...fin.record.extra,
          })
        : null;
      return { value: fin.value, record, ctx };
    } finally {
      await def.close?.(state);
    }
  } finally {
    lock.release();
  }
}

/** Step 4: reuse or compute every item, skipping the ones that fail. */
async function runItems<S, I, R, O, P>(def: StageDefinition<S, I, R, O, P>, state: S, ctx: StageContext): Promise<StageWork<I, R>> {
  const listed = def.items(state, ctx);
  const items = listed.items;
  const results: (R | undefined)[] = items.map(() => undefined);
  const redone: { id: string; reason: string }[] = [];
  const todo: number[] = [];
  items.forEach((item, i) => {
    const c = def.check(item, state);
    if ("reuse" in c) {
      results[i] = c.reuse;
    } else {
      todo.push(i);
      redone.push({ id: def.id(item), reason: c.reason });
    }
  });
  const errors: (string | undefined)[] = items.map(() => undefined);
  const p = def.progress;
  const weight = (i: number): number => p?.weight?.(items[i]) ?? 1;
  const bar = p ? new Progress({ label: typeof p.label === "string" ? p.label : p.label(state), total: todo.reduce((s, i) => s + weight(i), 0), unit: p.unit, enabled: p.enabled }) : null;
  let computed = 0;
  const settle = (k: number, outcome: ItemOutcome<R>): void => {
    const i = todo[k];
    if (outcome.ok) results[i] = outcome.result;
    else if (def.onItemError === "stop") throw new Error(outcome.error);
    else errors[i] = outcome.error;
    computed++;
    bar?.tick(weight(i));
    def.afterItem?.(computed, todo.length);
  };
  if (def.runAll) {
    await def.runAll(
      todo.map((i) => items[i]),
      state,
      settle,
    );
  } else {
    const stop = def.onItemError === "stop";
    const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
    // Prefetch: the next item's inputs load while this one computes.
    const { prefetch } = def;
    const load = (k: number): Promise<P | Error> | null => (prefetch && k < todo.length ? prefetch(items[todo[k]], state).catch(asError) : null);
    let next = load(0);
    for (let k = 0; k < todo.length; k++) {
      const pre = next ? await next : (undefined as P);
      next = load(k + 1);
      let outcome: ItemOutcome<R>;
      try {
        if (pre instanceof Error) throw pre;
        outcome = { ok: true, result: await def.compute(items[todo[k]], state, pre) };
      } catch (e) {
        if (stop) throw e;
        outcome = { ok: false, error: asError(e).message };
      }
      settle(k, outcome);
    }
  }
  // failures listed in item order, whatever order a pool finished them in
  const skipped: SkippedItem<I>[] = [...(listed.skipped ?? [])];
  const failed = new Set<string>();
  errors.forEach((error, i) => {
    if (error === undefined) return;
    skipped.push({ id: def.id(items[i]), error, item: items[i] });
    failed.add(def.id(items[i]));
  });
  const kind = def.reasonKind ?? ((r: string): string => r);
  return {
    items,
    results,
    reused: items.length - todo.length,
    redone,
    done: todo.length - failed.size,
    skipped,
    failed,
    reasons: reasonSummary(redone.map((r) => kind(r.reason))),
  };
}

/** Reason kind for reasons that name a file after ": " ("output missing: /x/y.png" -> "output missing"). */
export function reasonBeforeColon(reason: string): string {
  return reason.includes(": ") ? reason.slice(0, reason.indexOf(": ")) : reason;
}
