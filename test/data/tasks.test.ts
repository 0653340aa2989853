import { describe, expect, it } from "vitest";
import { LABEL_TASKS, applyLabelTask, defaultTask, parseLabelTask } from "../../lib/data/labels";

/** Label tasks of the paper's Table 2 (lib/data/labels.ts), on hand-made breasts. */
function records(): { breastId: string; birads: number | null; label: 0 | 1 | null; lesions: { kind: string }[] }[] {
  return [
    // breast A: BI-RADS 4 with a calcification cluster on one view
    { breastId: "A", birads: 4, label: 1, lesions: [{ kind: "calcification" }] },
    { breastId: "A", birads: 4, label: 1, lesions: [] },
    // breast B: BI-RADS 5 with a mass
    { breastId: "B", birads: 5, label: 1, lesions: [{ kind: "mass" }] },
    // breast C: BI-RADS 2 (left out of the birads task) with a benign mass
    { breastId: "C", birads: 2, label: null, lesions: [{ kind: "mass" }] },
    // breast D: BI-RADS 1, no finding
    { breastId: "D", birads: 1, label: 0, lesions: [] },
    // breast E: no assessment at all
    { breastId: "E", birads: null, label: null, lesions: [] },
  ];
}

describe("label tasks", () => {
  it("mass: a breast with a Mass box is positive, other assessed breasts negative, every view alike", () => {
    const r = records();
    applyLabelTask(r, "mass", "vindr");
    expect(r.map((x) => x.label)).toEqual([0, 0, 1, 1, 0, null]);
  });
  it("calcification: a breast with a calcification box is positive on all its views", () => {
    const r = records();
    applyLabelTask(r, "calcification", "synthetic");
    expect(r.map((x) => x.label)).toEqual([1, 1, 0, 0, 0, null]);
  });
  it("the adapter's own task leaves its labels alone", () => {
    const r = records();
    applyLabelTask(r, "birads", "vindr");
    expect(r.map((x) => x.label)).toEqual([1, 1, 1, null, 0, null]);
    expect(defaultTask("rsna")).toBe("cancer");
    expect(defaultTask("embed")).toBe("birads");
  });
  it("refuses tasks the adapter cannot give, and unknown names, with one clear message", () => {
    expect(() => applyLabelTask(records(), "mass", "rsna")).toThrow(/needs finding boxes/);
    expect(() => applyLabelTask(records(), "cancer", "vindr")).toThrow(/not available with adapter "vindr"/);
    expect(() => parseLabelTask("masses", "--task")).toThrow(`--task: "masses" is not a label task; allowed: ${LABEL_TASKS.join(", ")}`);
    expect(parseLabelTask("calcification")).toBe("calcification");
  });
});
