import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadVindr } from "../../lib/data/adapters/vindr";

// Reproduction 8 of issue 13: rows with a label or split that cannot be read are reported in
// the skipped list (as a bad laterality already was), not dropped silently.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-badlabels-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("VinDr adapter: bad label and split rows", () => {
  it("lists banana, BI-RADS 9, empty BI-RADS and split bogus as skipped, keeps the good rows", async () => {
    const rows = [
      "study_id,series_id,image_id,laterality,view_position,height,width,breast_birads,breast_density,split",
      "s1,x,i1,L,CC,10,10,BI-RADS 1,DENSITY A,training", // 2: good
      "s1,x,i2,L,MLO,10,10,banana,DENSITY A,training", // 3
      "s1,x,i3,R,CC,10,10,BI-RADS 9,DENSITY A,training", // 4
      "s1,x,i4,R,MLO,10,10,,DENSITY A,training", // 5
      "s2,x,i5,L,CC,10,10,BI-RADS 4,DENSITY B,bogus", // 6
      "s2,x,i6,X,CC,10,10,BI-RADS 4,DENSITY B,test", // 7: laterality (already reported before)
      "s2,x,i7,R,CC,10,10,BI-RADS 3,DENSITY B,test", // 8: good (BI-RADS 3: valid, no label by design)
      "s2,x,i8,R,MLO,10,10,BI-RADS 5,DENSITY B,", // 9: good (no split: made from the split file)
    ];
    fs.writeFileSync(path.join(tmp, "breast-level_annotations.csv"), rows.join("\n") + "\n");
    const r = await loadVindr({ dir: tmp, checkFiles: false });
    expect(r.records.map((x) => x.imageId)).toEqual(["i1", "i7", "i8"]);
    const file = path.join(tmp, "breast-level_annotations.csv");
    expect(r.skipped).toEqual([
      { file, row: 3, reason: 'breast_birads "banana" is not BI-RADS 0-6' },
      { file, row: 4, reason: 'breast_birads "BI-RADS 9" is not BI-RADS 0-6' },
      { file, row: 5, reason: "empty breast_birads" },
      { file, row: 6, reason: 'split "bogus" is not a known split name (training/train, validation/val, test)' },
      { file, row: 7, reason: 'laterality "X" is not L or R' },
    ]);
  });
});
