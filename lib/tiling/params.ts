import type { TilingParams } from "../types";

/** Paper defaults (DINOv2: 518 px tiles and global views on a 4096 px working image). The
 * synthetic pipeline passes workingSizePx 1024, tileSizePx 128, globalSizePx 128. */
export const DEFAULT_TILING_PARAMS: TilingParams = {
  workingSizePx: 4096,
  tileSizePx: 518,
  overlap: 0,
  tissueRule: "maskFraction",
  // 0 = keep every tile that touches the breast mask (so every tissue pixel is covered).
  minTissueFraction: 0,
  meanIntensityFactor: 0.05,
  globalSizePx: 518,
  preprocessing: "milpf",
};

/** Largest working image side accepted (a 8192 px 16-bit working image is 128 MiB per image in memory). */
export const MAX_WORKING_SIZE_PX = 8192;
/** Largest global view side accepted. */
export const MAX_GLOBAL_SIZE_PX = 4096;

/** Fill defaults and validate; one clear error per bad value. */
export function resolveTilingParams(p: Partial<TilingParams> = {}): TilingParams {
  const out: TilingParams = { ...DEFAULT_TILING_PARAMS, ...p };
  const posInt = (k: "workingSizePx" | "tileSizePx" | "globalSizePx"): void => {
    if (!Number.isInteger(out[k]) || out[k] < 8) throw new Error(`tiling params: ${k} must be an integer >= 8, got ${out[k]}`);
  };
  posInt("workingSizePx");
  posInt("tileSizePx");
  posInt("globalSizePx");
  if (out.workingSizePx > MAX_WORKING_SIZE_PX)
    throw new Error(`tiling params: workingSizePx must be <= ${MAX_WORKING_SIZE_PX} (the paper uses 4096), got ${out.workingSizePx}`);
  if (out.tileSizePx > out.workingSizePx)
    throw new Error(`tiling params: tileSizePx (${out.tileSizePx}) must be <= workingSizePx (${out.workingSizePx}): a tile is a part of the working image`);
  if (out.globalSizePx > MAX_GLOBAL_SIZE_PX) throw new Error(`tiling params: globalSizePx must be <= ${MAX_GLOBAL_SIZE_PX}, got ${out.globalSizePx}`);
  if (!(out.overlap >= 0 && out.overlap < 1)) throw new Error(`tiling params: overlap must be in [0, 1), got ${out.overlap}`);
  if (out.tissueRule !== "maskFraction" && out.tissueRule !== "meanIntensity")
    throw new Error(`tiling params: tissueRule must be maskFraction or meanIntensity, got ${String(out.tissueRule)}`);
  if (!(out.minTissueFraction >= 0 && out.minTissueFraction <= 1))
    throw new Error(`tiling params: minTissueFraction must be in [0, 1], got ${out.minTissueFraction}`);
  if (!(out.meanIntensityFactor >= 0 && out.meanIntensityFactor < 1))
    throw new Error(`tiling params: meanIntensityFactor must be in [0, 1), got ${out.meanIntensityFactor}`);
  if (out.preprocessing !== "milpf" && out.preprocessing !== "authors")
    throw new Error(`tiling params: preprocessing must be milpf or authors, got ${String(out.preprocessing)}`);
  return out;
}

export const TISSUE_RULES = ["maskFraction", "meanIntensity"] as const;

/** A tissue rule from text (a notebook parameter, a CLI option); one clear error naming `name`. */
export function parseTissueRule(value: unknown, name = "tissueRule"): TilingParams["tissueRule"] {
  if (typeof value === "string" && (TISSUE_RULES as readonly string[]).includes(value)) return value as TilingParams["tissueRule"];
  throw new Error(`${name}: ${JSON.stringify(value)} is not a tissue rule; allowed: ${TISSUE_RULES.join(", ")}`);
}
