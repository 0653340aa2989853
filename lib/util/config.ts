/**
 * Stage configurations as data: each stage lists its fields once (kind, default, range or closed
 * set, one line of documentation), and everything that takes the stage's settings derives from
 * that list: the notebooks' parameters cells (renderParametersCell), the runner's `-p` checks
 * (validateParams, before any cell runs), the CLI options' help and parsing (runner/commands/
 * options.ts addConfigOptions/configValue) and lib's defaults (configDefaults).
 *
 * Hand-written rather than zod/ajv: the project needs four things no schema library gives
 * together: TypeScript source for a parameters cell, commander options, one-line messages in the
 * project's wording, and no new dependency in the notebooks' kernel.
 */

interface FieldBase {
  /** One line shown in the parameters cell, the CLI help and `milpf params`. */
  doc: string;
  /** A path the runner resolves against the project folder (for the pipeline's records). */
  path?: boolean;
  /** The stage command's option for this field (commander flags, e.g. "--working-size <px>"). */
  cli?: string;
}
export interface NumberField extends FieldBase {
  kind: "int" | "number";
  default: number;
  min?: number;
  max?: number;
  /** The max is excluded (overlap < 1). */
  maxExclusive?: boolean;
}
export interface StringField extends FieldBase {
  kind: "string";
  default: string;
  /** A closed set: the value must be one of these. */
  oneOf?: readonly string[];
  /** A further check (e.g. a comma-separated list of names); returns the problem or undefined. */
  check?: (value: string) => string | undefined;
}
export interface BoolField extends FieldBase {
  kind: "bool";
  default: boolean;
}
export type Field = NumberField | StringField | BoolField;
export type ConfigSpec = Readonly<Record<string, Field>>;

/** The TypeScript value type of a field. */
export type FieldValue<F extends Field> = F extends NumberField
  ? number
  : F extends BoolField
    ? boolean
    : F extends { oneOf: readonly (infer U)[] }
      ? U
      : string;
export type ConfigValues<S extends ConfigSpec> = { -readonly [K in keyof S]: FieldValue<S[K]> };

/** What a field allows, in words: "an integer in [1, 1000]", "one of: cpu, cuda, webgpu". */
export function describeAllowed(f: Field): string {
  if (f.kind === "bool") return "true or false";
  if (f.kind === "string") return f.oneOf ? `one of: ${f.oneOf.map((v) => (v === "" ? '""' : v)).join(", ")}` : "text";
  const what = f.kind === "int" ? "an integer" : "a number";
  const hi = f.max === undefined ? undefined : `${f.max}${f.maxExclusive ? ")" : "]"}`;
  if (f.min !== undefined && hi !== undefined) return `${what} in [${f.min}, ${hi}`;
  if (f.min !== undefined) return `${what} >= ${f.min}`;
  if (hi !== undefined) return `${what} ${f.maxExclusive ? "<" : "<="} ${f.max}`;
  return what;
}

/**
 * Check one value against its field; return it typed (a number given for a text field becomes
 * text), or throw one line naming the parameter (`label`), the value and what is allowed.
 */
export function checkValue(where: string, label: string, f: Field, value: unknown, shown: string = JSON.stringify(value)): string | number | boolean {
  const fail = (why?: string): never => {
    throw new Error(`${where}: ${label}: ${shown} ${why ?? "is not allowed"}; allowed: ${describeAllowed(f)}`);
  };
  if (f.kind === "bool") {
    if (typeof value !== "boolean") fail();
    return value as boolean;
  }
  if (f.kind === "string") {
    const v = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
    if (typeof v !== "string") return fail("is not text");
    if (f.oneOf && !f.oneOf.includes(v)) fail();
    const problem = f.check?.(v);
    if (problem) fail(problem);
    return v;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return fail("is not a number");
  if (f.kind === "int" && !Number.isInteger(value)) fail("is not an integer");
  if (f.min !== undefined && value < f.min) fail("is out of range");
  if (f.max !== undefined && (f.maxExclusive ? value >= f.max : value > f.max)) fail("is out of range");
  return value;
}

/**
 * Check parameters given by name (a notebook's `-p` values, a parameters file): every name must
 * be a field and every value allowed. Returns the checked values (given ones only).
 */
export function validateParams(where: string, spec: ConfigSpec, params: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(params)) {
    const f = spec[name];
    if (!f) throw new Error(`${where}: unknown parameter ${name}; known: ${Object.keys(spec).join(", ")}`);
    out[name] = checkValue(where, `parameter ${name}`, f, value);
  }
  return out;
}

/** Check the given parameters that `spec` has a field for; leave the others as they are. */
export function checkKnownParams<T extends Record<string, unknown>>(where: string, spec: ConfigSpec, params: T): T {
  const known = Object.fromEntries(Object.entries(params).filter(([k]) => k in spec));
  return { ...params, ...validateParams(where, spec, known) };
}

/** Every field's default, typed. */
export function configDefaults<S extends ConfigSpec>(spec: S): ConfigValues<S> {
  return Object.fromEntries(Object.entries(spec).map(([k, f]) => [k, f.default])) as ConfigValues<S>;
}

/** Defaults overlaid with given values, each checked; `where` names the caller in messages. */
export function resolveConfig<S extends ConfigSpec>(where: string, spec: S, given: Partial<Record<keyof S, unknown>>): ConfigValues<S> {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...configDefaults(spec), ...validateParams(where, spec, defined) } as ConfigValues<S>;
}

/** The TypeScript type of a field in a parameters cell: wide, so any allowed value compiles. */
export function tsType(f: Field): string {
  if (f.kind === "bool") return "boolean";
  if (f.kind === "string") return f.oneOf ? f.oneOf.map((v) => JSON.stringify(v)).join(" | ") : "string";
  return "number";
}

/**
 * One typed `const`. A union type (a closed set, boolean) is given with `as`, not as an
 * annotation: TypeScript narrows an annotated union const to its initial value, so after
 * `const adapter: "vindr" | "synthetic" = "vindr"` the test `adapter === "synthetic"` would not
 * compile; `as` keeps the union and still refuses a value outside it.
 */
export function typedConst(name: string, type: string, value: unknown): string {
  return type.includes("|") || type === "boolean" ? `const ${name} = ${JSON.stringify(value)} as ${type};` : `const ${name}: ${type} = ${JSON.stringify(value)};`;
}

/**
 * A notebook's parameters cell, rendered from its stage config: one commented, typed `const`
 * per field. `overrides` gives the notebook's own defaults where they differ from lib's (the
 * synthetic tutorial's sizes), with the reason as a comment.
 */
export function renderParametersCell(spec: ConfigSpec, overrides: Readonly<Record<string, { value: string | number | boolean; why: string }>> = {}): string {
  const lines = ["// Parameters (generated from the stage config: `milpf params`); the runner checks and injects overrides after this cell."];
  for (const [name, f] of Object.entries(spec)) {
    const o = overrides[name];
    lines.push(`// ${f.doc} (${describeAllowed(f)}${o ? `; lib default ${JSON.stringify(f.default)}: ${o.why}` : ""})`);
    lines.push(typedConst(name, tsType(f), o ? o.value : f.default));
  }
  return lines.join("\n");
}

/** The injected cell's line for one parameter, typed as the config declares it (else by its JSON type). */
export function renderParameter(name: string, value: unknown, f: Field | undefined): string {
  const type = f ? tsType(f) : typeof value === "string" ? "string" : typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : undefined;
  return type ? typedConst(name, type, value) : `const ${name} = ${JSON.stringify(value)};`;
}

/**
 * A value typed on a command line, checked against its field: "12" -> 12 for a number field,
 * "true"/"false" for a flag, text as it is. One error naming the option and the text.
 */
export function parseFieldText(where: string, label: string, f: Field, text: string): string | number | boolean {
  const shown = `'${text}'`;
  if (f.kind === "string") return checkValue(where, label, f, text, shown);
  if (f.kind === "bool") return checkValue(where, label, f, text === "true" ? true : text === "false" ? false : text, shown);
  return checkValue(where, label, f, text.trim() === "" ? Number.NaN : Number(text), shown);
}
