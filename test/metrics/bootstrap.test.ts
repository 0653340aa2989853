import { describe, expect, it } from "vitest";
import { MetricError, bootstrapCi, evaluateSplit, quantileSorted, resampleMetrics, rocAuc } from "../../lib/metrics";
import { Rng } from "../../lib/util/rng";

function signalData(seed: number, nPatients: number): { labels: number[]; scores: number[]; patients: string[] } {
  const rng = new Rng(seed);
  const labels: number[] = [];
  const scores: number[] = [];
  const patients: string[] = [];
  for (let p = 0; p < nPatients; p++) {
    const bags = 1 + (p % 3);
    for (let b = 0; b < bags; b++) {
      const y = rng.bernoulli(0.4) ? 1 : 0;
      labels.push(y);
      scores.push(rng.normal(y * 1.2, 1));
      patients.push(`P${p}`);
    }
  }
  return { labels, scores, patients };
}

describe("quantileSorted (numpy 'linear')", () => {
  it("by hand", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    // h = 3 * 0.025 = 0.075 -> 1 + 0.075 * (2 - 1)
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 15);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([5], 0.3)).toBe(5);
  });
});

describe("bootstrapCi", () => {
  const data = signalData(3, 80);
  const opts = { iterations: 300, seed: 42, alpha: 0.05 };

  it("same seed, same interval; another seed, another interval", () => {
    const a = bootstrapCi(data.labels, data.scores, data.patients, resampleMetrics.auc(), opts);
    const b = bootstrapCi(data.labels, data.scores, data.patients, resampleMetrics.auc(), opts);
    const c = bootstrapCi(data.labels, data.scores, data.patients, resampleMetrics.auc(), { ...opts, seed: 43 });
    expect(b).toEqual(a);
    expect(c.lower === a.lower && c.upper === a.upper).toBe(false);
  });

  it("the interval contains the point estimate, which is the full-data AUC", () => {
    const r = bootstrapCi(data.labels, data.scores, data.patients, resampleMetrics.auc(), opts);
    expect(r.estimate).toBe(rocAuc(data.labels, data.scores));
    expect(r.lower).toBeLessThan(r.estimate);
    expect(r.upper).toBeGreaterThan(r.estimate);
    expect(r.upper - r.lower).toBeLessThan(0.4);
    expect(r.valid + r.skippedOneClass + r.skippedNonFinite).toBe(300);
    expect(r.patients).toBe(80);
  });

  it("a narrower level gives a narrower interval", () => {
    const wide = bootstrapCi(data.labels, data.scores, data.patients, resampleMetrics.auc(), opts);
    const narrow = bootstrapCi(data.labels, data.scores, data.patients, resampleMetrics.auc(), { ...opts, alpha: 0.5 });
    expect(narrow.lower).toBeGreaterThanOrEqual(wide.lower);
    expect(narrow.upper).toBeLessThanOrEqual(wide.upper);
  });

  it("resamples patients: every drawn patient brings all of its bags", () => {
    // 30 patients with 1, 2 or 3 bags each; the metric checks that each drawn patient appears
    // with a multiple of its own bag count, and returns the number of distinct patients drawn.
    const nPatients = 30;
    const patients: string[] = [];
    const labels: number[] = [];
    const scores: number[] = [];
    const bagsOf = new Map<string, number>();
    for (let p = 0; p < nPatients; p++) {
      const bags = 1 + (p % 3);
      bagsOf.set(`P${p}`, bags);
      for (let b = 0; b < bags; b++) {
        patients.push(`P${p}`);
        labels.push(p % 2);
        scores.push(p);
      }
    }
    const run = (groups: string[] | null): { broken: number; distinct: number[] } => {
      let broken = 0;
      const distinct: number[] = [];
      bootstrapCi(
        labels,
        scores,
        groups,
        (_y, _s, indices) => {
          const count = new Map<string, number>();
          for (const i of indices) count.set(patients[i], (count.get(patients[i]) ?? 0) + 1);
          for (const [p, c] of count) if (c % (bagsOf.get(p) as number) !== 0) broken++;
          distinct.push(count.size);
          return count.size;
        },
        { iterations: 200, seed: 1 },
      );
      return { broken, distinct };
    };
    const byPatient = run(patients);
    expect(byPatient.broken).toBe(0);
    // 30 patients drawn with replacement: never more than 30 distinct, about 30 (1 - 1/e) = 19.
    expect(Math.max(...byPatient.distinct)).toBeLessThanOrEqual(nPatients);
    const mean = byPatient.distinct.reduce((a, b) => a + b, 0) / byPatient.distinct.length;
    expect(mean).toBeGreaterThan(16);
    expect(mean).toBeLessThan(22);
    // Resampling rows instead splits patients apart (so the check above can fail).
    expect(run(null).broken).toBeGreaterThan(0);
  });

  it("one-class resamples are skipped and counted", () => {
    // Two patients, one per class: half of the resamples draw the same patient twice.
    const r = bootstrapCi([0, 0, 1], [0.1, 0.2, 0.9], ["a", "a", "b"], resampleMetrics.auc(), { iterations: 1000, seed: 7 });
    expect(r.skippedOneClass).toBeGreaterThan(400);
    expect(r.skippedOneClass).toBeLessThan(600);
    expect(r.valid).toBe(1000 - r.skippedOneClass);
    expect(r.lower).toBe(1);
    expect(r.upper).toBe(1);
  });

  it("bad input and hopeless cases throw", () => {
    expect(() => bootstrapCi([0, 1], [0.1, 0.2], ["a"], resampleMetrics.auc())).toThrow(/1 patient ids but 2 labels/);
    expect(() => bootstrapCi([0, 1], [0.1, 0.2], null, resampleMetrics.auc(), { iterations: 0 })).toThrow(MetricError);
    expect(() => bootstrapCi([0, 1], [0.1, 0.2], null, () => NaN, { iterations: 20 })).toThrow(/no valid resample out of 20/);
  });

  it("evaluateSplit attaches intervals for AUC, balanced accuracy and spec@sens", () => {
    const m = evaluateSplit(data, 0.5, { bootstrap: { iterations: 200, seed: 9 } });
    expect(m.ci).toBeDefined();
    const ci = m.ci!;
    expect(ci.auc.estimate).toBe(m.auc);
    expect(ci.balancedAccuracy!.estimate).toBe(m.balancedAccuracy);
    expect(ci.specificityAtSensitivity.estimate).toBe(m.specificityAtSensitivity);
    for (const b of [ci.auc, ci.balancedAccuracy!, ci.specificityAtSensitivity]) {
      expect(b.lower).toBeLessThanOrEqual(b.upper);
      expect(b.patients).toBe(80);
    }
  });
});
