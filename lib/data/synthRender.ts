import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { writeDicom } from "../dicom/write";
import type { WritableTransferSyntax } from "../dicom/uids";
import type { LesionBox } from "../types";
import { writeFileAtomic } from "../util/atomic";
import { Rng } from "../util/rng";
import { type BreastShape, type Density, type LesionSpec, type ViewPosition, renderBreast } from "./phantom";
import type { AnatomySpec } from "./physics";
import { powerLawTexturePair } from "./texture";

/**
 * Rendering and writing of one planned breast (all its views). Used in-process and by the
 * worker threads of the generator; everything it needs is in the (JSON-serialisable) task.
 */

export interface ImageTask {
  imageId: string;
  seriesId: string;
  view: ViewPosition;
  transferSyntax: WritableTransferSyntax;
  bitsStored: 12 | 14;
  photometric: "MONOCHROME1" | "MONOCHROME2";
  rescaleSlope: number;
  rescaleIntercept: number;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  instanceNumber: number;
  /** Which texture field: [pair index, 0 = real part | 1 = imaginary part]. */
  texture: [number, 0 | 1];
  noiseSeed: number;
  /** Files, relative to the dataset folder. */
  dicomFile: string;
  maskFile: string;
  truthFile: string;
}

export interface BreastTask {
  patientId: string;
  studyId: string;
  laterality: "L" | "R";
  chestWallSide: "left" | "right";
  density: Density;
  birads: number;
  shape: BreastShape;
  lesions: LesionSpec[];
  /** Generator v3: normal anatomy (islands, lymph nodes, vessels, skin folds); absent in v2. */
  anatomy?: AnatomySpec[];
  widthPx: number;
  heightPx: number;
  pixelSpacingMm: number;
  textureSeeds: number[];
  images: ImageTask[];
}

/** What the ground-truth JSON of an image holds (also returned to the generator). */
export interface ImageTruth {
  imageId: string;
  studyId: string;
  laterality: "L" | "R";
  view: ViewPosition;
  widthPx: number;
  heightPx: number;
  chestWallSide: "left" | "right";
  birads: number;
  density: Density;
  photometric: "MONOCHROME1" | "MONOCHROME2";
  bitsStored: number;
  transferSyntax: WritableTransferSyntax;
  pixelPaddingValue: number;
  /** Lesion boxes in the original DICOM pixel frame. */
  lesions: LesionBox[];
  breastAreaPx: number;
}

export interface BreastResult {
  truths: ImageTruth[];
  written: number;
  reused: number;
}

/** DICOM PatientOrientation (row direction \ column direction) of a view. */
function patientOrientation(laterality: "L" | "R", chestWallSide: "left" | "right", view: ViewPosition): string {
  const row = chestWallSide === "left" ? "A" : "P";
  const col = view === "MLO" ? "F" : laterality === "L" ? "R" : "L";
  return `${row}\\${col}`;
}

/** Percentile of stored values over the mask (histogram; values are < 2^16). */
function maskedPercentile(pixels: Uint16Array, mask: Uint8Array, q: number): number {
  const hist = new Uint32Array(65536);
  let n = 0;
  for (let i = 0; i < pixels.length; i++) {
    if (mask[i]) {
      hist[pixels[i]]++;
      n++;
    }
  }
  const target = q * n;
  let acc = 0;
  for (let v = 0; v < hist.length; v++) {
    acc += hist[v];
    if (acc >= target) return v;
  }
  return 65535;
}

/** The texture pair `pairIdx` of a planned breast (real/imaginary parts of one inverse FFT). */
export function plannedTexturePair(task: BreastTask, pairIdx: number): [Float32Array, Float32Array] {
  // largest structures ~1/3 of the image: flatten the spectrum below 3 cycles per image
  return powerLawTexturePair(task.widthPx, task.heightPx, new Rng(task.textureSeeds[pairIdx]), { minFrequency: 3 / Math.max(task.widthPx, task.heightPx) });
}

export interface PlannedImagePixels {
  /** The stored values written to the DICOM file (inverted for MONOCHROME1, padding strip included). */
  stored: Uint16Array;
  breastMask: Uint8Array;
  lesions: LesionBox[];
  /** 1st / 99th percentile of the breast's MONOCHROME2 values and the window centre in stored units. */
  lo: number;
  hi: number;
  centerStored: number;
  padding: number;
}

/** Render one planned image exactly as the generator writes it. Deterministic. */
export function renderPlannedImage(task: BreastTask, im: ImageTask, texture?: Float32Array): PlannedImagePixels {
  const w = task.widthPx;
  const h = task.heightPx;
  const tex = texture ?? plannedTexturePair(task, im.texture[0])[im.texture[1]];
  const r = renderBreast(
    {
      widthPx: w,
      heightPx: h,
      view: im.view,
      chestWallSide: task.chestWallSide,
      density: task.density,
      shape: task.shape,
      lesions: task.lesions,
      anatomy: task.anatomy,
      bitsStored: im.bitsStored,
      texture: tex,
    },
    new Rng(im.noiseSeed),
  );
  const maxVal = 2 ** im.bitsStored - 1;
  // detector padding: a strip along the edge away from the chest wall, exactly 0 (MONOCHROME2)
  const stripPx = Math.max(2, Math.round(0.012 * w));
  for (let y = 0; y < h; y++) {
    for (let k = 0; k < stripPx; k++) {
      const x = task.chestWallSide === "left" ? w - 1 - k : k;
      r.pixels[y * w + x] = 0;
    }
  }
  const lo = maskedPercentile(r.pixels, r.breastMask, 0.01);
  const hi = maskedPercentile(r.pixels, r.breastMask, 0.99);
  let stored = r.pixels;
  let centerStored = (lo + hi) / 2;
  let padding = 0;
  if (im.photometric === "MONOCHROME1") {
    stored = new Uint16Array(r.pixels.length);
    for (let i = 0; i < stored.length; i++) stored[i] = maxVal - r.pixels[i];
    centerStored = maxVal - centerStored;
    padding = maxVal;
  }
  return { stored, breastMask: r.breastMask, lesions: r.lesions, lo, hi, centerStored, padding };
}

/** Render and write one breast's views; images whose ground-truth JSON exists are reused. */
export async function renderAndWriteBreast(outDir: string, task: BreastTask): Promise<BreastResult> {
  const truths: ImageTruth[] = [];
  let written = 0;
  let reused = 0;
  const pending = task.images.filter((im) => {
    const truthPath = path.join(outDir, im.truthFile);
    if (fs.existsSync(truthPath) && fs.existsSync(path.join(outDir, im.dicomFile)) && fs.existsSync(path.join(outDir, im.maskFile))) {
      try {
        truths.push(JSON.parse(fs.readFileSync(truthPath, "utf8")) as ImageTruth);
        reused++;
        return false;
      } catch {
        return true; // unreadable: render again
      }
    }
    return true;
  });
  if (pending.length === 0) return { truths: sortTruths(truths, task), written, reused };
  const textures = new Map<number, [Float32Array, Float32Array]>();
  const w = task.widthPx;
  const h = task.heightPx;
  for (const im of pending) {
    const [pairIdx, part] = im.texture;
    let pair = textures.get(pairIdx);
    if (!pair) {
      pair = plannedTexturePair(task, pairIdx);
      textures.set(pairIdx, pair);
    }
    const r = renderPlannedImage(task, im, pair[part]);
    const { stored, centerStored, lo, hi, padding } = r;
    const slope = im.rescaleSlope;
    const intercept = im.rescaleIntercept;
    await writeDicom(path.join(outDir, im.dicomFile), {
      pixels: stored,
      rows: h,
      columns: w,
      bitsStored: im.bitsStored,
      photometric: im.photometric,
      transferSyntax: im.transferSyntax,
      tags: {
        patientId: task.patientId,
        studyInstanceUid: im.studyInstanceUid,
        seriesInstanceUid: im.seriesInstanceUid,
        sopInstanceUid: im.sopInstanceUid,
        laterality: task.laterality,
        viewPosition: im.view,
        windowCenter: Math.round((slope * centerStored + intercept) * 10) / 10,
        windowWidth: Math.max(1, Math.round(slope * (hi - lo) * 1.15)),
        rescaleSlope: slope,
        rescaleIntercept: intercept,
        pixelSpacingMm: [task.pixelSpacingMm, task.pixelSpacingMm],
        presentationIntentType: "FOR PRESENTATION",
        pixelPaddingValue: padding,
        patientName: `SYNTH^${task.patientId}`,
        studyDate: "20260101",
        studyId: task.studyId.slice(0, 16),
        accessionNumber: task.studyId.slice(0, 16),
        seriesNumber: im.instanceNumber,
        instanceNumber: im.instanceNumber,
        extra: [{ tag: 0x00200020, vr: "CS", value: patientOrientation(task.laterality, task.chestWallSide, im.view) }],
      },
    });
    const maskBytes = Buffer.alloc(w * h);
    let area = 0;
    for (let i = 0; i < w * h; i++) {
      if (r.breastMask[i]) {
        maskBytes[i] = 255;
        area++;
      }
    }
    const png = await sharp(maskBytes, { raw: { width: w, height: h, channels: 1 } }).png({ compressionLevel: 2 }).toBuffer();
    writeFileAtomic(path.join(outDir, im.maskFile), png);
    const truth: ImageTruth = {
      imageId: im.imageId,
      studyId: task.studyId,
      laterality: task.laterality,
      view: im.view,
      widthPx: w,
      heightPx: h,
      chestWallSide: task.chestWallSide,
      birads: task.birads,
      density: task.density,
      photometric: im.photometric,
      bitsStored: im.bitsStored,
      transferSyntax: im.transferSyntax,
      pixelPaddingValue: padding,
      lesions: r.lesions,
      breastAreaPx: area,
    };
    // written last: its presence marks the image complete
    writeFileAtomic(path.join(outDir, im.truthFile), JSON.stringify(truth, null, 1) + "\n");
    truths.push(truth);
    written++;
  }
  return { truths: sortTruths(truths, task), written, reused };
}

function sortTruths(truths: ImageTruth[], task: BreastTask): ImageTruth[] {
  const order = new Map(task.images.map((im, i) => [im.imageId, i]));
  return truths.sort((a, b) => (order.get(a.imageId) ?? 0) - (order.get(b.imageId) ?? 0));
}
