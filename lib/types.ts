/**
 * The typed contracts between the stages. Data flows one way:
 *
 *   dataset table (ImageRecord[]) -> 01_tile (TileManifest) -> 02_embed (embedding store)
 *     -> 03_train (head + predictions) -> 04_explain (maps, boxes, detection tables)
 *
 * Each stage reads only what the stage before wrote, through a typed reader in lib/.
 * Coordinates carry their frame in their name: `...Px` values are pixels; "original" is the
 * DICOM pixel frame (column x, row y, origin top-left), "working" is the preprocessed square
 * image of side `workingSizePx`.
 */

export type Laterality = "L" | "R";
export type Split = "train" | "val" | "test";
export type BinaryLabel = 0 | 1;

/** An axis-aligned box [x0, x1) x [y0, y1) in pixels of some frame. */
export interface BoxPx {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A ground-truth lesion box (from the dataset's finding table). */
export interface LesionBox extends BoxPx {
  /** "mass", "calcification", or the dataset's own category text. */
  kind: string;
  birads: number | null;
}

/** One image of a dataset, as every adapter (VinDr, RSNA, EMBED, synthetic) returns it. */
export interface ImageRecord {
  patientId: string;
  studyId: string;
  imageId: string;
  /** The bag: one breast in one exam, `${studyId}_${laterality}`. */
  breastId: string;
  laterality: Laterality;
  /** View position as the dataset says it: CC, MLO, XCCL, ... */
  view: string;
  /** Absolute path of the DICOM file. */
  filePath: string;
  /** Breast-level BI-RADS (0-6) where known. */
  birads: number | null;
  /** Binary label per the reference: BI-RADS 1 -> 0, 4/5/6 -> 1, else null (left out); RSNA cancer. */
  label: BinaryLabel | null;
  density: string | null;
  /** Split from the dataset or from the split file; null until assigned. */
  split: Split | null;
  /** Lesion boxes in the original DICOM pixel frame (empty where the dataset gives none). */
  lesions: LesionBox[];
}

/** How a preprocessed (working-frame) image relates to its original DICOM frame. */
export interface ImageTransform {
  originalWidthPx: number;
  originalHeightPx: number;
  /** True when the image was mirrored left-right so that the breast touches the left edge. */
  flipped: boolean;
  /** Crop box in the (possibly flipped) original frame. */
  crop: BoxPx;
  /** Side of the padded square, in original pixels. */
  squareSizePx: number;
  /** Offset of the crop inside the square, in original pixels. */
  padXPx: number;
  padYPx: number;
  /** Side of the working image. */
  workingSizePx: number;
  /** workingSizePx / squareSizePx. */
  scale: number;
}

/** One tile of a working image. */
export interface TileRecord {
  xPx: number;
  yPx: number;
  sizePx: number;
  /** Fraction of the tile's pixels inside the breast mask. */
  tissueFraction: number;
}

export interface TilingParams {
  workingSizePx: number;
  tileSizePx: number;
  /** 0 for classification, 0.75 for explanation. */
  overlap: number;
  tissueRule: "maskFraction" | "meanIntensity";
  /** For "maskFraction": minimum fraction of tissue pixels in a tile. */
  minTissueFraction: number;
  /** For "meanIntensity": the authors' rule, tile mean > factor x image max. */
  meanIntensityFactor: number;
  globalSizePx: number;
  /** Preprocessing preset (lib/preprocess/preprocess.ts PREPROCESS_PRESETS): "milpf" or "authors". */
  preprocessing: "milpf" | "authors";
}

/** One image in the tile manifest. */
export interface ManifestImage {
  imageId: string;
  patientId: string;
  studyId: string;
  breastId: string;
  laterality: Laterality;
  view: string;
  label: BinaryLabel | null;
  birads: number | null;
  split: Split | null;
  sourceFile: string;
  transform: ImageTransform;
  /** 16-bit grey PNG of the working image (relative to the manifest's folder). */
  workingImageFile: string;
  /** 16-bit grey PNG of the global view at the encoder's input size (relative). */
  globalViewFile: string;
  /** Lesion boxes mapped into the working frame. */
  lesionsWorking: LesionBox[];
  tiles: TileRecord[];
  /** 8-bit PNG of the breast mask in the working frame (0/255; relative), where written. */
  maskFile?: string;
  /** Notes from preprocessing (e.g. laterality tag overridden by the column sums). */
  notes?: string[];
}

export interface TileManifest {
  version: 1;
  createdAt: string;
  datasetDir: string;
  /** Label task of the labels below (lib/data/labels.ts); absent in manifests written before tasks existed (= birads). */
  task?: string;
  params: TilingParams;
  images: ManifestImage[];
  /** Images that could not be processed, with the reason (the batch went on without them). */
  skipped: { file: string; error: string }[];
}

/** One bag (breast) in an embedding store. */
export interface StoreBag {
  bagId: string;
  patientId: string;
  label: BinaryLabel;
  split: Split;
}

/** Which encoder produced a store, and how. */
export interface EncoderInfo {
  name: string;
  dim: number;
  inputSizePx: number;
  /** Execution provider that actually ran: "cpu", "cuda", "webgpu". */
  provider: string;
  params: Record<string, unknown>;
}
