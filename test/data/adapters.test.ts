import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDataset, loadTable, parseCategoryList } from "../../lib/data/adapters";
import { biradsToLabel, embedAssessmentToBirads, parseBirads, parseCancer, parseDensity } from "../../lib/data/labels";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-adapters-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

describe("labels", () => {
  it("maps BI-RADS to the binary label per the reference", () => {
    expect([0, 1, 2, 3, 4, 5, 6, null].map(biradsToLabel)).toEqual([null, 0, null, null, 1, 1, 1, null]);
  });
  it("parses BI-RADS, density and cancer text", () => {
    expect(["BI-RADS 1", "BI-RADS 4", "bi-rads 5", "4A", " 3 ", "", "BI-RADS 7", "x"].map(parseBirads)).toEqual([1, 4, 5, 4, 3, null, null, null]);
    // RSNA's BIRADS column as pandas writes it (floats: the column has blanks)
    expect(["0.0", "1.0", "2.0", "2.00", " 1.0 ", "1.5", "7.0", "nan"].map(parseBirads)).toEqual([0, 1, 2, 2, 1, null, null, null]);
    expect(["DENSITY A", "DENSITY D", "c", "3", "4.0", "", "E"].map(parseDensity)).toEqual(["A", "D", "C", "C", "D", null, null]);
    expect(["1", "0", "1.0", "", "2"].map(parseCancer)).toEqual([1, 0, 1, null, null]);
  });
  it("maps EMBED assessment letters A=0 N=1 B=2 P=3 S=4 M=5 K=6", () => {
    expect(["A", "N", "B", "P", "S", "M", "K", "X", "", "n"].map(embedAssessmentToBirads)).toEqual([0, 1, 2, 3, 4, 5, 6, null, null, 1]);
  });
  it("parses VinDr finding category lists", () => {
    expect(parseCategoryList("['Mass', 'Suspicious Calcification']")).toEqual(["Mass", "Suspicious Calcification"]);
    expect(parseCategoryList("['No Finding']")).toEqual(["No Finding"]);
  });
});

describe("loadTable", () => {
  it("reads with danfojs-node keeping ids as text, and falls back to the CSV parser for a header-only table", async () => {
    const f = path.join(tmp, "t.csv");
    write(f, 'id,name,n\n00123,"a, b",2147483690\n');
    const t = await loadTable(f, ["id"]);
    expect(t.loader).toBe("danfojs-node");
    expect(t.rows).toEqual([{ id: "00123", name: "a, b", n: "2147483690" }]);
    const h = path.join(tmp, "h.csv");
    write(h, "id,name\n");
    const th = await loadTable(h);
    expect(th.loader).toMatch(/^csv/);
    expect(th.columns).toEqual(["id", "name"]);
    expect(th.rows).toEqual([]);
  });
  it("throws one clear error naming the file for a missing table or column", async () => {
    await expect(loadTable(path.join(tmp, "nope.csv"))).rejects.toThrow(/nope\.csv: table not found/);
    const f = path.join(tmp, "t2.csv");
    write(f, "a,b\n1,2\n");
    await expect(loadTable(f, ["a", "zz"])).rejects.toThrow(/t2\.csv: missing column\(s\) zz/);
  });
});

describe("VinDr-Mammo adapter", () => {
  const dir = path.join(tmp, "vindr");
  const breastCsv = [
    "study_id,series_id,image_id,laterality,view_position,height,width,breast_birads,breast_density,split",
    "s1,se1,i1,L,CC,3518,2800,BI-RADS 1,DENSITY C,training",
    "s1,se1,i2,L,MLO,3518,2800,BI-RADS 1,DENSITY C,training",
    "s1,se2,i3,R,CC,3518,2800,BI-RADS 4,DENSITY C,training",
    "s1,se2,i4,R,MLO,3518,2800,BI-RADS 4,DENSITY C,training",
    "s2,se3,i5,L,CC,3518,2800,BI-RADS 3,DENSITY B,test",
    "s2,se3,i6,X,CC,3518,2800,BI-RADS 3,DENSITY B,test",
    "s2,se4,i7,R,CC,3518,2800,BI-RADS 5,DENSITY B,test",
  ].join("\n");
  const findingCsv = [
    "study_id,series_id,image_id,laterality,view_position,height,width,breast_birads,breast_density,finding_categories,finding_birads,xmin,ymin,xmax,ymax,split",
    "s1,se1,i1,L,CC,3518,2800,BI-RADS 1,DENSITY C,['No Finding'],,,,,,training",
    "s1,se2,i3,R,CC,3518,2800,BI-RADS 4,DENSITY C,['Mass'],BI-RADS 4,100.5,200,180.25,260,training",
    "s1,se2,i3,R,CC,3518,2800,BI-RADS 4,DENSITY C,\"['Mass', 'Suspicious Calcification']\",BI-RADS 4,10,20,30,40,training",
    "s1,se2,i4,R,MLO,3518,2800,BI-RADS 4,DENSITY C,['Suspicious Calcification'],BI-RADS 4,5,6,7,8,training",
    "s1,se2,i4,R,MLO,3518,2800,BI-RADS 4,DENSITY C,['Architectural Distortion'],BI-RADS 4,50,60,70,80,training",
    "s2,se4,i7,R,CC,3518,2800,BI-RADS 5,DENSITY B,['Mass'],BI-RADS 5,1,2,,4,test",
  ].join("\n");
  write(path.join(dir, "breast-level_annotations.csv"), breastCsv + "\n");
  write(path.join(dir, "finding_annotations.csv"), findingCsv + "\n");
  for (const [s, i] of [["s1", "i1"], ["s1", "i2"], ["s1", "i3"], ["s1", "i4"], ["s2", "i5"], ["s2", "i6"]]) write(path.join(dir, "images", s, `${i}.dicom`), "x");
  // i7 has no file

  it("reads records, labels, density, split and lesion boxes; reports bad rows and missing files", async () => {
    const { records, skipped } = await loadDataset({ adapter: "vindr", dir });
    expect(records.map((r) => r.imageId)).toEqual(["i1", "i2", "i3", "i4", "i5"]);
    const byId = new Map(records.map((r) => [r.imageId, r]));
    expect(byId.get("i1")).toMatchObject({ patientId: "s1", studyId: "s1", breastId: "s1_L", laterality: "L", view: "CC", birads: 1, label: 0, density: "C", split: "train", lesions: [] });
    expect(byId.get("i1")?.filePath).toBe(path.join(path.resolve(dir), "images", "s1", "i1.dicom"));
    expect(byId.get("i3")).toMatchObject({ breastId: "s1_R", birads: 4, label: 1 });
    expect(byId.get("i3")?.lesions).toEqual([
      { kind: "mass", birads: 4, x0: 100.5, y0: 200, x1: 180.25, y1: 260 },
      { kind: "mass", birads: 4, x0: 10, y0: 20, x1: 30, y1: 40 },
    ]);
    expect(byId.get("i4")?.lesions).toEqual([
      { kind: "calcification", birads: 4, x0: 5, y0: 6, x1: 7, y1: 8 },
      { kind: "Architectural Distortion", birads: 4, x0: 50, y0: 60, x1: 70, y1: 80 },
    ]);
    expect(byId.get("i5")).toMatchObject({ birads: 3, label: null, split: "test", density: "B" });
    const reasons = skipped.map((s) => `${path.basename(s.file)}:${s.row}:${s.reason}`);
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toMatch(/^finding_annotations\.csv:7:.*incomplete box/);
    expect(reasons[1]).toMatch(/^breast-level_annotations\.csv:7:.*laterality "X"/);
    expect(reasons[2]).toMatch(/^breast-level_annotations\.csv:8:missing image file .*i7\.dicom/);
  });

  it("can skip the file check", async () => {
    const { records } = await loadDataset({ adapter: "vindr", dir, checkFiles: false });
    expect(records.map((r) => r.imageId)).toContain("i7");
  });

  it("throws one clear error when the breast-level table is missing", async () => {
    await expect(loadDataset({ adapter: "vindr", dir: path.join(tmp, "empty") })).rejects.toThrow(/breast-level_annotations\.csv: table not found/);
  });
});

describe("RSNA adapter", () => {
  const dir = path.join(tmp, "rsna");
  const csv = [
    "site_id,patient_id,image_id,laterality,view,age,cancer,biopsy,invasive,BIRADS,implant,density,machine_id,difficult_negative_case",
    "2,10006,462822612,L,CC,61.0,0,0,0,,0,,29,False",
    "2,10006,1459541791,L,MLO,61.0,0,0,0,,0,,29,False",
    "2,10006,2147483690,R,MLO,61.0,1,1,1,0,0,B,29,False",
    "2,10006,1864590858,R,CC,61.0,0,0,0,0,0,B,29,False",
    "1,10011,220375232,L,CC,55.0,,0,0,1,0,C,21,True",
    "1,10011,270344397,R,CC,55.0,0,0,0,1,0,C,21,True",
  ].join("\n");
  write(path.join(dir, "train.csv"), csv + "\n");
  for (const [p, i] of [["10006", "462822612"], ["10006", "1459541791"], ["10006", "2147483690"], ["10006", "1864590858"], ["10011", "220375232"]]) {
    write(path.join(dir, "train_images", p, `${i}.dcm`), "x");
  }

  it("labels bags by cancer (max over the breast), keeps big ids exact, reports bad rows and missing files", async () => {
    const { records, skipped } = await loadDataset({ adapter: "rsna", dir });
    expect(records.map((r) => r.imageId)).toEqual(["462822612", "1459541791", "2147483690", "1864590858"]);
    const r = new Map(records.map((x) => [x.imageId, x]));
    expect(r.get("462822612")).toMatchObject({ patientId: "10006", studyId: "10006", breastId: "10006_L", view: "CC", label: 0, birads: null, density: null });
    // the breast's label is the max over its images: cancer on the MLO makes the CC of that breast positive too
    expect(r.get("1864590858")).toMatchObject({ breastId: "10006_R", label: 1, birads: 0, density: "B" });
    expect(r.get("2147483690")?.filePath).toBe(path.join(path.resolve(dir), "train_images", "10006", "2147483690.dcm"));
    expect(skipped.map((s) => s.row)).toEqual([6, 7]);
    expect(skipped[0].reason).toMatch(/cancer "" is not 0 or 1/);
    expect(skipped[1].reason).toMatch(/missing image file/);
  });

  it("reads BIRADS written as floats (\"0.0\", \"1.0\", \"2.0\", as pandas writes a column with blanks)", async () => {
    const fdir = path.join(tmp, "rsna-float");
    const header = "site_id,patient_id,image_id,laterality,view,age,cancer,biopsy,invasive,BIRADS,implant,density,machine_id,difficult_negative_case";
    const rows = [
      ["1", "20001", "3000000001", "L", "CC", "50.0", "1", "1", "1", "0.0", "0", "B", "49", "False"],
      ["1", "20001", "3000000002", "R", "CC", "50.0", "0", "0", "0", "1.0", "0", "B", "49", "False"],
      ["1", "20002", "3000000003", "L", "CC", "60.0", "0", "0", "0", "2.0", "0", "C", "49", "False"],
      ["1", "20002", "3000000004", "R", "CC", "60.0", "0", "0", "0", "", "0", "C", "49", "False"],
    ];
    write(path.join(fdir, "train.csv"), [header, ...rows.map((r) => r.join(","))].join("\n") + "\n");
    for (const r of rows) write(path.join(fdir, "train_images", r[1], `${r[2]}.dcm`), "x");
    const { records, skipped } = await loadDataset({ adapter: "rsna", dir: fdir });
    expect(skipped).toEqual([]);
    expect(records.map((r) => [r.breastId, r.birads, r.label])).toEqual([
      ["20001_L", 0, 1],
      ["20001_R", 1, 0],
      ["20002_L", 2, 0],
      ["20002_R", null, 0],
    ]);
  });
});

describe("EMBED adapter", () => {
  const dir = path.join(tmp, "embed");
  const clinical = [
    "empi_anon,acc_anon,study_date_anon,side,asses,path_severity,tissueden,desc",
    "100,A1,2015-01-01,B,N,,2,screening",
    "100,A1,2015-01-01,L,S,,2,screening",
    "100,A1,2015-01-01,L,B,,2,screening",
    "200,B1,2016-01-01,R,K,0,4,diagnostic",
    "200,B1,2016-01-01,L,P,,4,diagnostic",
    "200,B1,2016-01-01,X,N,,4,diagnostic",
    "300,C1,2017-01-01,L,Q,,1,diagnostic",
    "400,D1,2018-01-01,,N,,3,screening",
    "400,D1,2018-01-01,,S,,3,screening",
  ].join("\n");
  const metadata = [
    "empi_anon,acc_anon,anon_dicom_path,ImageLateralityFinal,ViewPosition,FinalImageType,SOPClassUID",
    "100,A1,/mnt/NAS2/mammo/cohort_1/100/A1/img1.dcm,L,CC,2D,1.2",
    "100,A1,/mnt/NAS2/mammo/cohort_1/100/A1/img2.dcm,L,MLO,2D,1.2",
    "100,A1,/mnt/NAS2/mammo/cohort_1/100/A1/img3.dcm,R,CC,2D,1.2",
    "100,A1,/mnt/NAS2/mammo/cohort_1/100/A1/img4.dcm,R,CC,cview,1.2",
    "200,B1,/mnt/NAS2/mammo/cohort_1/200/B1/img5.dcm,R,MLO,2D,1.2",
    "200,B1,/mnt/NAS2/mammo/cohort_1/200/B1/img6.dcm,L,MLO,2D,1.2",
    "300,C1,/mnt/NAS2/mammo/cohort_1/300/C1/img7.dcm,L,CC,2D,1.2",
    "200,B1,/mnt/NAS2/mammo/cohort_1/200/B1/img8.dcm,R,CC,2D,1.2",
    "400,D1,cohort_1/400/D1/img9.dcm,R,CC,2D,1.2",
  ].join("\n");
  write(path.join(dir, "EMBED_OpenData_clinical_reduced.csv"), clinical + "\n");
  write(path.join(dir, "EMBED_OpenData_metadata_reduced.csv"), metadata + "\n");
  for (const f of ["100/A1/img1.dcm", "100/A1/img2.dcm", "100/A1/img3.dcm", "100/A1/img4.dcm", "200/B1/img5.dcm", "200/B1/img6.dcm", "300/C1/img7.dcm", "400/D1/img9.dcm"]) {
    write(path.join(dir, "cohort_1", f), "x");
  }

  it("joins clinical and metadata on (empi_anon, acc_anon), applies side B to both breasts, takes the max, keeps 2D only", async () => {
    const { records, skipped } = await loadDataset({ adapter: "embed", dir, stripPathPrefix: "/mnt/NAS2/mammo/" });
    expect(records.map((r) => r.imageId)).toEqual(["img1", "img2", "img3", "img5", "img6", "img9"]);
    const r = new Map(records.map((x) => [x.imageId, x]));
    // 100/A1 left: B (N=1) and L (S=4, B=2) -> 4 -> positive; right: only B (N=1) -> negative
    expect(r.get("img1")).toMatchObject({ patientId: "100", studyId: "A1", breastId: "A1_L", laterality: "L", view: "CC", birads: 4, label: 1, density: "B" });
    expect(r.get("img3")).toMatchObject({ breastId: "A1_R", birads: 1, label: 0 });
    expect(r.get("img5")).toMatchObject({ breastId: "B1_R", birads: 6, label: 1, density: "D" });
    expect(r.get("img6")).toMatchObject({ breastId: "B1_L", birads: 3, label: null });
    // blank side: N applies to the whole exam, S (needs a side) is skipped
    expect(r.get("img9")).toMatchObject({ breastId: "D1_R", birads: 1, label: 0, density: "C" });
    expect(r.get("img1")?.filePath).toBe(path.join(path.resolve(dir), "cohort_1", "100", "A1", "img1.dcm"));
    const reasons = skipped.map((s) => `${path.basename(s.file)}:${s.row}:${s.reason}`);
    expect(reasons).toHaveLength(5);
    expect(reasons[0]).toMatch(/clinical_reduced\.csv:7:side "X"/);
    expect(reasons[1]).toMatch(/clinical_reduced\.csv:8:assessment "Q"/);
    expect(reasons[2]).toMatch(/clinical_reduced\.csv:10:no side for assessment "S"/);
    expect(reasons[3]).toMatch(/metadata_reduced\.csv:8:no clinical assessment for exam C1 side L/);
    expect(reasons[4]).toMatch(/metadata_reduced\.csv:9:missing image file .*img8\.dcm/);
  });

  it("asks for the table names when the folder is ambiguous", async () => {
    write(path.join(dir, "other_clinical.csv"), "a\n");
    await expect(loadDataset({ adapter: "embed", dir })).rejects.toThrow(/expected one \*clinical\*\.csv table/);
    const ok = await loadDataset({ adapter: "embed", dir, clinicalTable: "EMBED_OpenData_clinical_reduced.csv", stripPathPrefix: "/mnt/NAS2/mammo" });
    expect(ok.records.length).toBe(6);
  });
});
