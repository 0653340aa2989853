/**
 * Head configurations: which streams a head has and how each stream pools its instances.
 * The nine ablation rows of the paper's Table 4 are named in ABLATION_CONFIGS (the default grid);
 * EXTRA_CONFIGS are selectable by name but not trained by default; HEAD_CONFIGS is both.
 */
/**
 * How a stream pools its bag of 8-wide rows h (n x 8):
 *   "mean", "max"   over the instances, per feature
 *   "attn"          latent-query attention (the authors' local stream): k = h Wk + bk, v = h Wv + bv,
 *                   a = softmax_i(k_i . q / sqrt 8) with one learned q ~ N(0, 1), z = sum_i a_i v_i
 *   "selfattn"      Q/K/V self-attention then a mean (the authors' global "attention" ablation):
 *                   Q, K, V = h W + b (three Linear(8, 8)), A = softmax(Q K^T / sqrt 8) row-wise (n x n),
 *                   z = mean_i (A V)_i; the per-instance weight is the column mean of A
 */
export type Aggregator = "mean" | "max" | "attn" | "selfattn";
export type InstancePooling = "mean" | "max";

export interface HeadConfig {
  /** Short name used in files and on the command line. */
  name: string;
  /** Label as in the paper's Table 4. */
  label: string;
  /** Global stream (whole views) pooling, or null when the head has no global stream. */
  global: Aggregator | null;
  /** Local stream (tiles) pooling, or null when the head has no local stream. */
  local: Aggregator | null;
  /**
   * "inf. only" baselines: when set, the head is the global stream alone trained on single images
   * (each image inherits its bag's label, no MIL); the bag score is the mean / max of the image
   * probabilities at inference. `global` and `local` must then be null.
   */
  instance: InstancePooling | null;
}

/** The paper's Table 4 rows, in the paper's order. */
export const ABLATION_CONFIGS: readonly HeadConfig[] = [
  { name: "global-mean-inf", label: "global mean (inf. only)", global: null, local: null, instance: "mean" },
  { name: "global-mean", label: "global mean", global: "mean", local: null, instance: null },
  { name: "global-max-inf", label: "global max (inf. only)", global: null, local: null, instance: "max" },
  { name: "global-max", label: "global max", global: "max", local: null, instance: null },
  { name: "global-attn", label: "global attn", global: "attn", local: null, instance: null },
  { name: "local-attn", label: "local attn only", global: null, local: "attn", instance: null },
  { name: "max+mean", label: "max + mean", global: "max", local: "mean", instance: null },
  { name: "max+max", label: "max + max", global: "max", local: "max", instance: null },
  { name: "max+attn", label: "max + attn (full)", global: "max", local: "attn", instance: null },
];

/** The full MIL-PF head (global max + local attention). */
export const FULL_CONFIG: HeadConfig = ABLATION_CONFIGS[8];

/**
 * The authors' code's other global attention: Q/K/V self-attention over the bag's views, then the
 * mean (Aggregator "selfattn"). Table 4's "global attn" row (`global-attn`) is the latent-query
 * attention, the one that gives the full head the authors' parameter count.
 */
export const GLOBAL_SELFATTN_CONFIG: HeadConfig = { name: "global-selfattn", label: "global attn (Q/K/V)", global: "selfattn", local: null, instance: null };

/**
 * Configs selectable by name that the default grid ("all") does not train. Kept out of
 * ABLATION_CONFIGS on purpose: the default grid, and with it the identity of trained units
 * (lib/head/units.ts), is the paper's nine rows.
 */
export const EXTRA_CONFIGS: readonly HeadConfig[] = [GLOBAL_SELFATTN_CONFIG];

/** Every named config: the Table 4 rows, then EXTRA_CONFIGS. */
export const HEAD_CONFIGS: readonly HeadConfig[] = [...ABLATION_CONFIGS, ...EXTRA_CONFIGS];

const AGGREGATORS: readonly Aggregator[] = ["mean", "max", "attn", "selfattn"];

export function validateConfig(c: HeadConfig): HeadConfig {
  for (const [stream, agg] of [["global", c.global], ["local", c.local]] as const)
    if (agg !== null && !AGGREGATORS.includes(agg)) throw new Error(`head config ${c.name}: unknown ${stream} aggregator "${String(agg)}" (known: ${AGGREGATORS.join(", ")})`);
  if (c.instance !== null) {
    if (c.global !== null || c.local !== null) throw new Error(`head config ${c.name}: an instance ("inf. only") config has no MIL streams`);
  } else if (c.global === null && c.local === null) {
    throw new Error(`head config ${c.name}: needs a global or a local stream`);
  }
  return c;
}

/**
 * Configs by name: "all" (the nine Table 4 rows, ABLATION_CONFIGS), or a comma-separated list of
 * names from HEAD_CONFIGS (the Table 4 rows and EXTRA_CONFIGS, e.g. "global-selfattn").
 */
export function configsByName(spec: string): HeadConfig[] {
  if (spec.trim() === "all") return [...ABLATION_CONFIGS];
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((name) => {
      const c = HEAD_CONFIGS.find((x) => x.name === name);
      if (!c) throw new Error(`unknown head config "${name}" (known: ${HEAD_CONFIGS.map((x) => x.name).join(", ")})`);
      return c;
    });
}

/** True when the config's head has a global stream (MIL global pooling or the instance baseline). */
export function hasGlobalStream(c: HeadConfig): boolean {
  return c.global !== null || c.instance !== null;
}

export function hasLocalStream(c: HeadConfig): boolean {
  return c.local !== null;
}
