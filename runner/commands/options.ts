import * as path from "node:path";
import { Option, type Command } from "commander";
import { describeAllowed, parseFieldText, type ConfigSpec } from "../../lib/util/config";
import { resolveProjectPath } from "../../lib/util/paths";
/**
 * Numeric command-line options, parsed one way for every stage command: an empty, non-finite,
 * non-integer (when `int`) or out-of-range value is one error naming the option and the value,
 * e.g. "tile: --tile-size must be an integer, got '12.5'".
 */
export interface NumberOptionRule {
  int?: boolean;
  min?: number;
  max?: number;
  /** Prefix of the message (the subcommand), e.g. "tile". */
  command?: string;
}

export function numberOption(text: string, name: string, rule: NumberOptionRule = {}): number {
  const v = Number(text);
  const ok =
    text.trim() !== "" &&
    Number.isFinite(v) &&
    (!rule.int || Number.isInteger(v)) &&
    (rule.min === undefined || v >= rule.min) &&
    (rule.max === undefined || v <= rule.max);
  if (ok) return v;
  const kind = rule.int ? "an integer" : "a number";
  const range =
    rule.min !== undefined && rule.max !== undefined
      ? ` in [${rule.min}, ${rule.max}]`
      : rule.min !== undefined
        ? ` >= ${rule.min}`
        : rule.max !== undefined
          ? ` <= ${rule.max}`
          : "";
  throw new Error(`${rule.command ? `${rule.command}: ` : ""}--${name} must be ${kind}${range}, got '${text}'`);
}

/**
 * Paths on the command line resolve against the current directory (like any Unix tool); an
 * option left at its default resolves against the project folder (the defaults name the
 * project's data/ and figures/ folders). `source` is commander's getOptionValueSource(key).
 */
export function cliPath(value: string, source: string | undefined): string {
  return source === "default" ? resolveProjectPath(value) : path.resolve(value);
}

/** Resolve the named path options of `o` in place (see cliPath). */
export function resolvePathOptions<T extends object>(cmd: Pick<Command, "getOptionValueSource">, o: T, keys: (keyof T & string)[]): T {
  const rec = o as Record<string, unknown>;
  for (const k of keys) {
    const v = rec[k];
    if (typeof v === "string") rec[k] = cliPath(v, cmd.getOptionValueSource(k));
  }
  return o;
}

/**
 * The stage command's options, derived from the stage's config (lib/<stage>/stageConfig.ts):
 * each field with a `cli` flag becomes an option whose help is the field's documentation and
 * what it allows, and whose default is the field's default (as text; configValue parses it).
 * The CLI, the notebooks and lib thereby share one definition.
 */
export function addConfigOptions(cmd: Command, spec: ConfigSpec): Command {
  for (const f of Object.values(spec)) {
    if (!f.cli) continue;
    const o = new Option(f.cli, `${f.doc} (${describeAllowed(f)})`);
    if (f.kind === "string" && f.oneOf) o.choices([...f.oneOf]);
    cmd.addOption(f.kind === "string" && f.default === "" ? o : o.default(String(f.default)));
  }
  return cmd;
}

/** The typed value of a config-derived option: one error naming the command, the option and the text. */
export function configValue<T extends string | number | boolean = number>(command: string, spec: ConfigSpec, field: string, text: string): T {
  const f = spec[field];
  const flag = f.cli ? f.cli.split(/\s/)[0] : `--${field}`;
  return parseFieldText(command, flag, f, text) as T;
}

/**
 * Prints what a stage redid and why (the first 50 images redone for another reason than being
 * new) and its notes, each line prefixed with the command's name.
 */
export function writeRedone(write: (s: string) => void, command: string, s: { redone: { imageId: string; reason: string }[]; redoneSummary: string; notes: string[] }): void {
  if (s.redone.length > 0) {
    write(`${command}: redone ${s.redone.length} image(s): ${s.redoneSummary}\n`);
    for (const r of s.redone.filter((x) => x.reason !== "new").slice(0, 50)) write(`${command}: redone ${r.imageId}: ${r.reason}\n`);
  }
  for (const n of s.notes) write(`${command}: ${n}\n`);
}
