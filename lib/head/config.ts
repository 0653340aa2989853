/**
 * Head configurations: which streams a head has and how each stream pools its instances.
 * The nine ablation rows of the paper's Table 4 are named in ABLATION_CONFIGS.
 */
export type Aggregator = "mean" | "max" | "attn";
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

export function validateConfig(c: HeadConfig): HeadConfig {
  if (c.instance !== null) {
    if (c.global !== null || c.local !== null) throw new Error(`head config ${c.name}: an instance ("inf. only") config has no MIL streams`);
  } else if (c.global === null && c.local === null) {
    throw new Error(`head config ${c.name}: needs a global or a local stream`);
  }
  return c;
}

/** Configs by name: "all", or a comma-separated list of names from ABLATION_CONFIGS. */
export function configsByName(spec: string): HeadConfig[] {
  if (spec.trim() === "all") return [...ABLATION_CONFIGS];
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((name) => {
      const c = ABLATION_CONFIGS.find((x) => x.name === name);
      if (!c) throw new Error(`unknown head config "${name}" (known: ${ABLATION_CONFIGS.map((x) => x.name).join(", ")})`);
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
