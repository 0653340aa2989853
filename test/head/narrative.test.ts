import { describe, expect, it } from "vitest";
import { ablationFindings, ablationNarrative } from "../../lib/head/narrative";
import type { ConfigSummary } from "../../lib/head/results";

/** A summary with a given selected test AUC, CI and seed spread (only the fields the narrative reads). */
function summary(config: string, label: string, auc: number, lo: number, hi: number, best: number): ConfigSummary {
  const interval = { estimate: auc, lower: lo, upper: hi, alpha: 0.05, iterations: 100, valid: 100, skipped: 0 };
  const split = (n: number) => ({ n, nPositive: n / 2, nNegative: n / 2, auc, threshold: 0.5, balancedAccuracy: 0.7, sensitivity: 0.7, specificity: 0.7, sensitivityTarget: 0.9, specificityAtSensitivity: 0.5, specAtSensSensitivity: 0.9, specAtSensThreshold: 0.4, ci: { auc: interval, balancedAccuracy: null, specificityAtSensitivity: interval } });
  return {
    config,
    label,
    runs: 4,
    selectedSeed: 2,
    selectedBestEpoch: 10,
    selectedValAuc: 0.8,
    selected: { threshold: { threshold: 0.5, rule: "balancedAccuracy", value: 0.7 }, val: split(60), test: split(120) },
    spread: { valAuc: { mean: 0.8, sd: 0.01, min: 0.79, max: 0.81, n: 4 }, testAuc: { mean: auc - 0.005, sd: 0.004, min: auc - 0.01, max: best, n: 4 }, testSpecAtSens: { mean: 0.5, sd: 0, min: 0.5, max: 0.5, n: 4 } },
  } as unknown as ConfigSummary;
}

describe("notebook 03's narrative reads its own numbers", () => {
  it("claims a difference only when the CIs are apart, and ranks rows by test AUC", () => {
    const rows = [summary("global-mean-inf", "global mean (inf. only)", 0.7, 0.65, 0.75, 0.71), summary("global-max", "global max", 0.72, 0.67, 0.77, 0.73), summary("max+max", "max + max", 0.8, 0.76, 0.84, 0.81), summary("max+attn", "max + attn (full)", 0.85, 0.81, 0.89, 0.852)];
    const f = ablationFindings(rows);
    expect(f.ranking.map((r) => r.config)).toEqual(["max+attn", "max+max", "global-max", "global-mean-inf"]);
    expect(f.silVsFull!.diff).toBeCloseTo(0.15, 12);
    expect(f.silVsFull!.ciApart).toBe(true);
    expect(f.dualBeatGlobalMax).toEqual([{ config: "max+max", beats: true, ciApart: false }, { config: "max+attn", beats: true, ciApart: true }]);
    const text = ablationNarrative(rows);
    expect(text).toContain("max + attn (full) is 0.150 AUC above global mean (inf. only)");
    expect(text).toContain("do not overlap");
    expect(text).toContain("test AUC 0.850; over its 4 seeds the test AUC is 0.845 ± 0.004");
    expect(text).toContain("0.002 above the selected one");
  });
  it("says the run cannot tell two rows apart when their CIs overlap, whichever is higher", () => {
    const rows = [summary("global-mean-inf", "global mean (inf. only)", 0.9, 0.85, 0.95, 0.9), summary("max+attn", "max + attn (full)", 0.88, 0.83, 0.93, 0.9)];
    const text = ablationNarrative(rows);
    expect(text).toContain("is 0.020 AUC below global mean (inf. only)");
    expect(text).toContain("cannot tell them apart");
    expect(text).not.toContain("do not overlap");
  });
});
