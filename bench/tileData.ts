import * as path from "node:path";
import { renderBreast, sampleBreastShape } from "../lib/data";
import { writeDicom, type WritableTransferSyntax } from "../lib/dicom";
import type { ImageRecord } from "../lib/types";
import { Rng } from "../lib/util/rng";

/**
 * Full-size benchmark inputs: n DICOMs of 3328 x 4096 (14-bit phantom, half of them right
 * breasts), written with the given transfer syntax; returns their dataset records. The phantom is
 * rendered once per side (the texture FFT dominates) and written under several names.
 */
export async function writeBenchDicoms(dir: string, n: number, transferSyntax: WritableTransferSyntax, heightPx = 4096): Promise<ImageRecord[]> {
  const widthPx = Math.round((heightPx * 13) / 16);
  const rng = new Rng(2026);
  const shape = sampleBreastShape(rng);
  const sides = (["left", "right"] as const).map((side) =>
    renderBreast({ widthPx, heightPx, view: "CC", chestWallSide: side, density: "C", shape, lesions: [], bitsStored: 14 }, Rng.derive(7, side)),
  );
  const out: ImageRecord[] = [];
  for (let i = 0; i < n; i++) {
    const laterality = i % 2 ? "R" : "L";
    const r = sides[i % 2];
    const file = path.join(dir, `bench${i}.dcm`);
    await writeDicom(file, {
      pixels: r.pixels,
      rows: heightPx,
      columns: widthPx,
      bitsStored: 14,
      photometric: "MONOCHROME2",
      transferSyntax,
      tags: {
        patientId: `P${i}`,
        studyInstanceUid: `1.2.3.${i}`,
        seriesInstanceUid: `1.2.3.${i}.1`,
        sopInstanceUid: `1.2.3.${i}.1.1`,
        laterality,
        viewPosition: "CC",
        windowCenter: 6000,
        windowWidth: 9000,
      },
    });
    out.push({
      patientId: `P${i}`,
      studyId: `S${i}`,
      imageId: `bench${i}`,
      breastId: `S${i}_${laterality}`,
      laterality,
      view: "CC",
      filePath: file,
      birads: 1,
      label: 0,
      density: "C",
      split: "train",
      lesions: [],
    });
  }
  return out;
}
