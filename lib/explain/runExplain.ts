import * as path from "node:path";
import sharp from "sharp";
import type { BinaryLabel, ManifestImage, Split, TileManifest } from "../types";
import { readGlobalView, readMask, readWorkingImage } from "../tiling/images";
import { readManifest } from "../tiling/manifest";
import { writeEncoderInput } from "../embed/input";
import * as fs from "node:fs";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import type { ConfigValues } from "../util/config";
import { runStage } from "../util/stageRun";
import { hashFile, hashJson, staleReason, workIdentity, type WorkIdentity } from "../util/workId";
import { HEAD_FILES } from "../head/deploy";
import { checkSameEncoder, loadTrainRunHead, readTrainRun } from "../head/record";
import { Progress } from "../util/progress";
import { Rng } from "../util/rng";
import { resolveProjectPath } from "../util/paths";
import type { ExecutionProviderName } from "../embed/encoder";
import { loadRunEncoder } from "./loaders";
import { detectionTable, type DetectionImage, type DetectionRow } from "./detection";
import { explainScoredBag, scoreBagTilesAt, type BagScorer, type ExplainImageInput, type ImageExplanation, type TileEmbedder } from "./explainBag";
import { iou, type ScoredBox } from "./boxes";
import { frocRow, type FrocRow } from "./froc";
import type { TileRect } from "./heatmap";
import { EXPLAIN_STAGE } from "./stageConfig";
import { describeSharp, sharpBoxes, SHARP_DEFAULTS, type SharpParams } from "./sharp";
import { DEFAULT_SHARP_GRID, selectSharpParams, type SelectionImage, type SharpGrid, type SharpSelection } from "./select";
import { heatmapToOriginal, workingBoxToOriginal } from "./frames";
import { renderOverlay, tileGallery } from "./overlay";
import { detectionTableMarkdown, detectionTableCsv, frocTableRows, markdownTable, selectionTableRows } from "./report";

/**
 * `milpf explain` as a library call: pick cases from the tile manifest, explain each bag with
 * the run's encoder and trained head, write overlays, galleries, the original-frame heat maps, a
 * JSON summary and the Table 3-style detection table.
 *
 * out/
 *   explain.json                 ExplainSummary (below)
 *   detection.csv, detection.md  the detection table, `protocol` and `sharp` rows (AP at IoU 0.25, by size bucket and type)
 *   froc.md                      sensitivity at 0.5 / 1 / 2 FP per image, both methods, both hit criteria
 *   sharp_selection.json, .md    the sharp parameters chosen on the validation split and the measured grid
 *   cases/<breastId>/<imageId>_attention.png     working image + attention map + boxes
 *   cases/<breastId>/<imageId>_contribution.png  the same with the contribution map
 *   cases/<breastId>/<imageId>_heat_original.png attention map in the original DICOM frame (8-bit)
 *   cases/<breastId>/gallery.png                 top-k tiles of the bag by attention
 */
export interface RunExplainOptions {
  /** The tile manifest (manifest.json). Default with `run`: the manifest its store was embedded from (its record). */
  manifest?: string;
  /** Output folder. */
  out: string;
  /**
   * The encoder: "builtin", an ONNX encoder folder (loaded and closed here), or an encoder
   * object. Default with `run`: the encoder the run's store was embedded with (its record).
   */
  encoder?: string | TileEmbedder;
  /** Execution provider when the encoder is loaded here (default "cpu"). */
  provider?: ExecutionProviderName;
  /**
   * The training run folder (notebook 03 / `milpf train`): its records give the selected head,
   * the store, the manifest and the encoder (lib/head/record.ts); nothing else need be given.
   */
  run?: string;
  /** A trained head object (lib/head TrainedHead); overrides `run`. */
  head?: BagScorer;
  /**
   * Number of bags to explain, a quick look: half positive (those with lesion boxes first), half
   * negative. Default (undefined or 0): every labelled bag of the split.
   */
  cases?: number;
  /**
   * The `sharp` method's parameters; "select" (default) chooses them on `selectionSplit` with
   * `selectSharpParams` over `sharpGrid` before explaining.
   */
  sharp?: SharpParams | "select";
  sharpGrid?: SharpGrid;
  /** Split the sharp parameters are chosen on (default "val"). */
  selectionSplit?: Split;
  /** At most this many bags of the selection split (default all; a quick look). */
  selectionCases?: number;
  /** Split the cases come from (default "test"; "all" = any). */
  split?: Split | "all";
  overlap?: number;
  seed?: number;
  opacity?: number;
  topK?: number;
  nmsIou?: number;
  /** Gaussian sigma (working px) on the map before box extraction (default 0 = none). */
  smoothSigmaPx?: number;
  /** Width of the overlay PNGs (default 512). */
  overlayWidthPx?: number;
  batchSize?: number;
  /** Free-form facts recorded in explain.json (run folder, encoder name, provider). */
  provenance?: Record<string, unknown>;
  progress?: boolean;
}

export interface ExplainedImage {
  imageId: string;
  view: string;
  tileCount: number;
  /** Protocol boxes (working frame), best first. */
  boxes: ImageExplanation["boxes"];
  boxesOriginal: ImageExplanation["boxesOriginal"];
  /** Sharp boxes (working frame), best first. */
  sharpBoxes: ScoredBox[];
  sharpBoxesOriginal: ScoredBox[];
  lesionsWorking: ManifestImage["lesionsWorking"];
  attentionOverlay: string;
  contributionOverlay: string;
  heatOriginal: string;
  /** Largest per-pixel attention of this view (bag-level weights). */
  maxAttention: number;
}

export interface ExplainedCase {
  breastId: string;
  label: BinaryLabel;
  probability: number;
  logit: number;
  tileCount: number;
  gallery: string;
  galleryValues: number[];
  images: ExplainedImage[];
}

export interface ExplainSummary {
  createdAt: string;
  manifest: string;
  params: { overlap: number; cases: number | "all"; split: string; seed: number; nmsIou: number; smoothSigmaPx: number; quantile: number; minAreaProtocolPx: number; workingSizePx: number; tileSizePx: number };
  provenance: Record<string, unknown>;
  cases: ExplainedCase[];
  /** Detection rows of both methods (`method` = "protocol" | "sharp"). */
  detection: DetectionRow[];
  /** FROC rows: both methods x both hit criteria. */
  froc: FrocRow[];
  /** The sharp parameters used and where they come from (the selection summary when chosen here). */
  sharp: { params: SharpParams; description: string; source: string; selection?: Omit<SharpSelection, "rows"> };
  skipped: { breastId: string; error: string }[];
  /** What was redone and what reused (per case: lib/util/workId.ts identities). */
  work: ExplainWork;
  seconds: number;
}

export interface ExplainWork {
  /** "given", "reused", or "done (<why>)". */
  selection: string;
  casesReused: number;
  casesExplained: number;
  /** Why cases were explained: "128 new", "3 parameters changed". */
  reasons: string;
}

function readJsonOrNull<T>(file: string): T | null {
  try {
    return readJson<T>(file);
  } catch {
    return null; // a damaged record: the work is redone
  }
}

interface Bag {
  breastId: string;
  label: BinaryLabel;
  images: ManifestImage[];
}

/** Every labelled bag of a split ("all" = any), positives (with lesion boxes first) then negatives, sorted by id. */
export function allCases(manifest: TileManifest, split: Split | "all"): Bag[] {
  return chooseCases(manifest, Number.MAX_SAFE_INTEGER, split, 0).sort(
    (a, b) => b.label - a.label || Number(hasLesions(b)) - Number(hasLesions(a)) || (a.breastId < b.breastId ? -1 : 1),
  );
}

function hasLesions(b: Bag): boolean {
  return b.images.some((i) => i.lesionsWorking.length > 0);
}

/** Choose bags: ceil(n/2) positives (with lesion boxes first) and the rest negatives, seeded. */
export function chooseCases(manifest: TileManifest, n: number, split: Split | "all", seed: number): Bag[] {
  const bags = new Map<string, Bag>();
  for (const img of manifest.images) {
    if (img.label === null) continue;
    if (split !== "all" && img.split !== split) continue;
    let b = bags.get(img.breastId);
    if (!b) bags.set(img.breastId, (b = { breastId: img.breastId, label: img.label, images: [] }));
    b.images.push(img);
  }
  const all = [...bags.values()].sort((a, b) => (a.breastId < b.breastId ? -1 : 1));
  const rng = Rng.derive(seed, "explain-cases");
  const hasLesion = (b: Bag): boolean => b.images.some((i) => i.lesionsWorking.length > 0);
  const pos = rng.shuffle(all.filter((b) => b.label === 1));
  pos.sort((a, b) => Number(hasLesion(b)) - Number(hasLesion(a))); // stable: lesion bags first
  const neg = rng.shuffle(all.filter((b) => b.label === 0));
  const nPos = Math.min(pos.length, Math.max(Math.ceil(n / 2), n - neg.length));
  const nNeg = Math.min(neg.length, n - nPos);
  return [...pos.slice(0, nPos), ...neg.slice(0, nNeg)];
}

/** One view of a breast as explain reads it: working image, tissue mask, encoder-ready global view, lesions. */
export async function loadExplainView(manifestDir: string, img: ManifestImage, encoder: TileEmbedder): Promise<ExplainImageInput> {
  const working = await readWorkingImage(manifestDir, img);
  if (working.widthPx !== working.heightPx) throw new Error(`${img.workingImageFile}: working image is not square`);
  const mask = img.maskFile ? await readMask(manifestDir, img) : Uint8Array.from(working.pixels, (v) => (v > 0 ? 1 : 0));
  const g = await readGlobalView(manifestDir, img);
  if (g.widthPx !== g.heightPx) throw new Error(`${img.globalViewFile}: global view is ${g.widthPx} x ${g.heightPx}, expected a square`);
  // prepared like the embed stage does (resized when the encoder takes another size)
  const globalView = new Float32Array(encoder.inputSizePx * encoder.inputSizePx);
  await writeEncoderInput(g, encoder, globalView, 0);
  return {
    imageId: img.imageId,
    working: working.pixels,
    workingSizePx: working.widthPx,
    mask,
    globalView,
    lesionsWorking: img.lesionsWorking,
    transform: img.transform,
  };
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "_");
}

export async function runExplain(opts: RunExplainOptions): Promise<ExplainSummary> {
  const run = opts.run ? readTrainRun(resolveProjectPath(opts.run)) : null;
  let head = opts.head;
  let headId: string | null = null;
  if (!head) {
    if (!run) throw new Error("runExplain: give a training run folder (run) or a head");
    const h = loadTrainRunHead(run);
    if (h.config.local === null) {
      throw new Error(`${path.join(run.headDir, HEAD_FILES.meta)}: head "${h.config.name}" has no local (tile) stream, so it gives tiles no attention to map; explain a run whose main configuration has one (e.g. max+attn)`);
    }
    head = h;
    headId = hashJson({ weights: hashFile(path.join(run.headDir, HEAD_FILES.weights)), config: h.config, dim: h.dim });
  }
  let manifest = opts.manifest ? resolveProjectPath(opts.manifest) : null;
  if (run) {
    if (manifest && path.resolve(manifest) !== path.resolve(run.manifest)) {
      throw new Error(`explain: manifest ${manifest} is not the one the run ${run.dir} was trained from (${run.manifest}); leave it out to use the run's`);
    }
    manifest = run.manifest;
  }
  if (!manifest) throw new Error("runExplain: give a training run folder (run) or a manifest");
  const ids = { head: headId, store: run ? run.record.inputs.storeId : null };
  const o = { ...opts, manifest };
  if (opts.encoder !== undefined && typeof opts.encoder !== "string") return explainWith(o, opts.encoder, head, {}, ids);
  const spec = typeof opts.encoder === "string" ? opts.encoder : run?.encoderSpec;
  if (!spec) throw new Error(run ? `${run.storeDir}: its record does not say how to load encoder ${run.encoder.name}; give encoder (its ONNX folder)` : "runExplain: give an encoder");
  const encoder = await loadRunEncoder(spec, opts.provider);
  try {
    if (run) checkSameEncoder(run.encoder, encoder, `explain ${run.dir}`);
    return await explainWith(o, encoder, head, { encoder: encoder.name, provider: encoder.provider }, ids);
  } finally {
    await encoder.close();
  }
}

/** Identities of what explains: the head's weights and the store it was trained on (null: given as objects, never reused). */
interface ExplainIds {
  head: string | null;
  store: string | null;
}

/** A finished case as `cases/<breast>/case.json` holds it, with the identity of its work. */
interface CaseRecord {
  identity: WorkIdentity;
  case: ExplainedCase;
}

/**
 * Explain's selection step (the skeleton's `open` hook): the sharp parameters, given or chosen
 * on the validation split; the choice is a piece of work of its own, reused by its identity.
 */
async function sharpStep(opts: RunExplainOptions & { manifest: string }, manifest: TileManifest, manifestDir: string, encoder: TileEmbedder, head: BagScorer, ids: ExplainIds, out: string, seed: number, skipped: ExplainSummary["skipped"], work: ExplainWork): Promise<ExplainSummary["sharp"]> {
  const tiling = manifest.params;
  // 1. The sharp parameters: given, or chosen on the validation split.
  let sharpInfo: ExplainSummary["sharp"];
  if (opts.sharp && opts.sharp !== "select") {
    sharpInfo = { params: opts.sharp, description: describeSharp(opts.sharp), source: "given" };
  } else {
    const selSplit = opts.selectionSplit ?? EXPLAIN_STAGE.selectionSplit.default;
    const grid = opts.sharpGrid ?? DEFAULT_SHARP_GRID;
    const all = allCases(manifest, selSplit);
    const selBags = opts.selectionCases ? chooseCases(manifest, opts.selectionCases, selSplit, seed) : all;
    const selIdentity = ids.head && ids.store ? workIdentity("explain", { head: ids.head, store: ids.store, images: hashJson(selBags.map((b) => b.images)) }, { step: "sharp selection", grid, selSplit, seed, batchSize: opts.batchSize ?? null }) : null;
    const selFile = path.join(out, "sharp_selection.json");
    const haveSel = selIdentity && fs.existsSync(selFile) ? readJsonOrNull<SharpSelection & { identity?: WorkIdentity }>(selFile) : null;
    const selWhy = selIdentity ? (haveSel ? staleReason(haveSel.identity, selIdentity) : "new") : "no identity (head or encoder given as objects)";
    work.selection = selWhy === null ? "reused" : `done (${selWhy})`;
    const byOverlap = new Map<number, SelectionImage[]>(grid.overlap.map((o) => [o, []]));
    const progress = new Progress({ label: `explain: choosing sharp parameters on ${selSplit}`, total: selBags.length, unit: "bags", enabled: opts.progress !== false && selWhy !== null });
    for (const bag of selWhy === null ? [] : selBags) {
      try {
        const inputs: ExplainImageInput[] = [];
        for (const img of bag.images) inputs.push(await loadExplainView(manifestDir, img, encoder));
        const scoredAt = await scoreBagTilesAt(inputs, encoder, head, { overlaps: grid.overlap, tiling, batchSize: opts.batchSize });
        for (const o of grid.overlap) {
          const sc = scoredAt.get(o)!;
          sc.images.forEach((im, i) =>
            byOverlap.get(o)!.push({ imageId: im.imageId, workingSizePx: im.workingSizePx, tiles: im.tiles, attention: im.attention, contribution: im.contribution, probability: sc.probability, groundTruth: inputs[i].lesionsWorking }),
          );
        }
      } catch (e) {
        skipped.push({ breastId: `${bag.breastId} (selection)`, error: (e as Error).message });
      }
      progress.tick();
    }
    try {
      const failed = selWhy === null && haveSel ? (haveSel as { error?: string }).error : undefined;
      if (failed) throw new Error(failed);
      const sel = selWhy === null && haveSel ? haveSel : selectSharpParams(byOverlap, grid, { split: selSplit });
      const { rows, ...rest } = sel;
      delete (rest as { identity?: WorkIdentity }).identity;
      sharpInfo = { params: sel.chosen, description: describeSharp(sel.chosen), source: `chosen on the ${selSplit} split (${sel.images} images, ${sel.lesions} lesions)`, selection: rest };
      writeJsonAtomic(selFile, { ...sel, identity: selIdentity });
      writeFileAtomic(
        path.join(out, "sharp_selection.md"),
        `Sharp parameters chosen on the ${selSplit} split (${sel.images} images, ${sel.lesions} lesions); objective: ${sel.objective}.\n\n` +
          `Chosen: ${describeSharp(sel.chosen)}\n\n${markdownTable(selectionTableRows(sel.ablation))}\nAll ${rows.length} grid entries:\n\n${markdownTable(selectionTableRows(rows))}`,
      );
    } catch (e) {
      // recorded too: a selection that cannot be made (no lesions on the split) is not retried while nothing changed
      if (selIdentity) writeJsonAtomic(selFile, { identity: selIdentity, error: (e as Error).message });
      sharpInfo = { params: SHARP_DEFAULTS, description: describeSharp(SHARP_DEFAULTS), source: `defaults (no selection: ${(e as Error).message})` };
      process.stderr.write(`explain: ${sharpInfo.source}\n`);
    }
  }
  return sharpInfo;
}

/** What explain holds while it runs: the resolved settings, the bags, the sharp parameters (its selection step). */
interface ExplainState {
  nCases: number | null;
  split: Split | "all";
  seed: number;
  overlap: number;
  bags: Bag[];
  sharpInfo: ExplainSummary["sharp"];
  /** Bags the selection step could not score. */
  selectionSkipped: ExplainSummary["skipped"];
  selection: string;
  /** The parameters of a case's work identity. */
  caseParams: Record<string, unknown>;
}

/**
 * Explain through the stage skeleton (lib/util/stageRun.ts): the selection step is its `open`
 * hook, each bag a work item (reused when cases/<breast>/case.json matches its identity and its
 * files are there), the detection tables and explain.json its outputs.
 */
async function explainWith(opts: RunExplainOptions & { manifest: string }, encoder: TileEmbedder, head: BagScorer, facts: Record<string, unknown>, ids: ExplainIds): Promise<ExplainSummary> {
  const t0 = Date.now();
  const out = resolveProjectPath(opts.out);
  const manifestFile = resolveProjectPath(opts.manifest);
  const manifestDir = path.dirname(manifestFile);
  const manifest = readManifest(manifestFile);
  const tiling = manifest.params;
  const nmsIou = opts.nmsIou ?? 0.5;
  const caseDir = (bag: Bag): string => path.join(out, "cases", safeName(bag.breastId));
  const caseIdentity = (bag: Bag, s: ExplainState): WorkIdentity | null =>
    ids.head && ids.store ? workIdentity("explain", { head: ids.head, store: ids.store, images: hashJson(bag.images) }, { ...s.caseParams, label: bag.label }) : null;
  const { value } = await runStage<ExplainState, Bag, ExplainedCase, ExplainSummary>({
    stage: "explain",
    outDir: out,
    config: { spec: EXPLAIN_STAGE, given: { cases: opts.cases, overlap: opts.overlap, split: opts.split, selectionSplit: opts.selectionSplit, selectionCases: opts.selectionCases, caseSeed: opts.seed } },
    say: (line) => process.stderr.write(`explain: ${line}\n`),
    unit: "breasts",
    open: async (ctx) => {
      const cfg = ctx.config as ConfigValues<typeof EXPLAIN_STAGE>;
      const nCases = cfg.cases > 0 ? cfg.cases : null;
      const { split, caseSeed: seed, overlap } = cfg;
      const pick = (sp: Split | "all"): Bag[] => (nCases === null ? allCases(manifest, sp) : chooseCases(manifest, nCases, sp, seed));
      let bags = pick(split);
      if (bags.length === 0 && split !== "all") bags = pick("all");
      if (bags.length === 0) throw new Error(`${manifestFile}: no labelled bags to explain`);
      const skipped: ExplainSummary["skipped"] = [];
      const work: ExplainWork = { selection: "given", casesReused: 0, casesExplained: 0, reasons: "" };
      const sharpInfo = await sharpStep(opts, manifest, manifestDir, encoder, head, ids, out, seed, skipped, work);
      const caseParams = { step: "case", overlap, nmsIou, smoothSigmaPx: opts.smoothSigmaPx ?? 0, sharp: sharpInfo.params, topK: opts.topK ?? 8, opacity: opts.opacity ?? null, overlayWidthPx: opts.overlayWidthPx ?? 512, batchSize: opts.batchSize ?? null };
      return { nCases, split, seed, overlap, bags, sharpInfo, selectionSkipped: skipped, selection: work.selection, caseParams };
    },
    items: (s) => ({ items: s.bags, skipped: s.selectionSkipped.map((k) => ({ id: k.breastId, error: k.error })) }),
    id: (bag) => bag.breastId,
    check: (bag, s) => {
      const identity = caseIdentity(bag, s);
      if (!identity) return { reason: "no identity (head or encoder given as objects)" };
      const caseFile = path.join(caseDir(bag), "case.json");
      const have = fs.existsSync(caseFile) ? readJsonOrNull<CaseRecord>(caseFile) : null;
      const files = have ? [have.case.gallery, ...have.case.images.flatMap((im) => [im.attentionOverlay, im.contributionOverlay, im.heatOriginal])] : [];
      const why = have === null ? "new" : staleReason(have.identity, identity) ?? (files.every((f) => fs.existsSync(path.join(out, f))) ? null : "output file missing");
      return why === null && have ? { reuse: have.case } : { reason: why ?? "new" };
    },
    // 2. Explain the bags of the split: protocol and sharp boxes from the same trained head.
    compute: async (bag, s) => {
      const { overlap } = s;
      const sp = s.sharpInfo.params;
      const dir = caseDir(bag);
      const caseFile = path.join(dir, "case.json");
      const identity = caseIdentity(bag, s);
      const inputs: ExplainImageInput[] = [];
      for (const img of bag.images) inputs.push(await loadExplainView(manifestDir, img, encoder));
      const params = { overlap, tiling, nmsIou, smoothSigmaPx: opts.smoothSigmaPx, batchSize: opts.batchSize };
      const scoredAt = await scoreBagTilesAt(inputs, encoder, head, { ...params, overlaps: [overlap, sp.overlap] });
      const scored = scoredAt.get(overlap)!;
      const r = explainScoredBag(inputs, scored, params);
      const scoredSharp = scoredAt.get(sp.overlap)!;
      const sharpPerImage = scoredSharp.images.map((im) => sharpBoxes(im.workingSizePx, im.tiles, im.attention, sp, scoredSharp.probability, im.contribution).boxes);
      const rel = (f: string): string => path.relative(out, path.join(dir, f)).split(path.sep).join("/");
      const images: ExplainedImage[] = [];
      // One display scale for all views of the bag (attention maps are bag-level weights): min-max
      // over the covered pixels of all its views, as the reference code normalises its maps.
      let bagMin = Infinity;
      let bagMax = -Infinity;
      let conMax = 0;
      for (const e of r.images)
        e.attentionMap.forEach((v, j) => {
          if (e.coverage[j] === 0) return;
          if (v < bagMin) bagMin = v;
          if (v > bagMax) bagMax = v;
          const c = Math.abs(e.contributionMap[j]);
          if (c > conMax) conMax = c;
        });
      for (let i = 0; i < r.images.length; i++) {
        const e = r.images[i];
        const input = inputs[i];
        const n = input.workingSizePx;
        const grey = { widthPx: n, heightPx: n, pixels: Float32Array.from(input.working, (v) => v / 65535) };
        const scaled = scaleMap(e.attentionMap, e.coverage, bagMin, bagMax);
        const heat = upsampleIfNeeded(scaled, e.mapSizePx, n);
        // contribution: signed, white at 0, one symmetric scale per breast
        const signed = Float32Array.from(e.contributionMap, (v, j) => (e.coverage[j] && conMax > 0 ? 0.5 + (0.5 * v) / conMax : 0.5));
        const contrib = upsampleIfNeeded(signed, e.mapSizePx, n);
        const covered = upsampleIfNeeded(Float32Array.from(e.coverage), e.mapSizePx, n);
        const w = opts.overlayWidthPx ?? 512;
        const stem = safeName(e.imageId);
        const who = `${bag.breastId} ${bag.images[i].view}\nlabel ${bag.label}, p = ${r.probability.toFixed(3)}`;
        writeFileAtomic(
          path.join(dir, `${stem}_attention.png`),
          await renderOverlay(grey, {
            heat,
            heatMask: covered,
            opacity: opts.opacity,
            groundTruth: e.lesionsWorking,
            predictions: e.boxes.slice(0, 5),
            secondPredictions: sharpPerImage[i].slice(0, 5),
            outWidthPx: w,
            title: `${who}, attention (mean over ${Math.round(overlap * 100)} % overlap tiles)`,
            colourBar: { min: bagMin, max: bagMax, label: "attention per pixel" },
          }),
        );
        writeFileAtomic(
          path.join(dir, `${stem}_contribution.png`),
          await renderOverlay(grey, {
            heat: contrib,
            heatMask: covered,
            opacity: opts.opacity,
            groundTruth: e.lesionsWorking,
            outWidthPx: w,
            colormap: "diverging",
            title: `${who}, contribution to the logit`,
            colourBar: { min: -conMax, max: conMax, label: "contribution per pixel" },
          }),
        );
        const orig = heatmapToOriginal(scaled, e.transform, { mapSizePx: e.mapSizePx });
        const bytes = Uint8Array.from(orig.values, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
        writeFileAtomic(
          path.join(dir, `${stem}_heat_original.png`),
          await sharp(Buffer.from(bytes.buffer), { raw: { width: orig.widthPx, height: orig.heightPx, channels: 1 } }).png().toBuffer(),
        );
        images.push({
          imageId: e.imageId,
          view: bag.images[i].view,
          tileCount: e.tiles.length,
          boxes: e.boxes,
          boxesOriginal: e.boxesOriginal,
          sharpBoxes: sharpPerImage[i],
          sharpBoxesOriginal: sharpPerImage[i].map((b) => workingBoxToOriginal(b, e.transform)),
          lesionsWorking: e.lesionsWorking,
          attentionOverlay: rel(`${stem}_attention.png`),
          contributionOverlay: rel(`${stem}_contribution.png`),
          heatOriginal: rel(`${stem}_heat_original.png`),
          maxAttention: Math.max(0, ...e.attention),
        });
      }
      const gal = await galleryOfBag(inputs, r.images, opts.topK ?? 8);
      writeFileAtomic(path.join(dir, "gallery.png"), gal.png);
      const done: ExplainedCase = {
        breastId: bag.breastId,
        label: bag.label,
        probability: r.probability,
        logit: r.logit,
        tileCount: r.tileCount,
        gallery: rel("gallery.png"),
        galleryValues: gal.values,
        images,
      };
      // the record last: it vouches for the files above
      if (identity) writeJsonAtomic(caseFile, { identity, case: done } satisfies CaseRecord);
      return done;
    },
    progress: { label: "explain", unit: "bags", enabled: opts.progress !== false },
    finish: (s, w) => {
      const { nCases, split, seed, overlap, sharpInfo } = s;
      const cases = w.results.filter((c): c is ExplainedCase => c !== undefined);
      const skipped = w.skipped.map((k) => ({ breastId: k.id, error: k.error }));
      const work: ExplainWork = { selection: s.selection, casesReused: w.reused, casesExplained: w.redone.length, reasons: w.reasons };
      const detProtocol: DetectionImage[] = cases.flatMap((c) => c.images.map((im) => ({ imageId: im.imageId, predictions: im.boxes, groundTruth: im.lesionsWorking })));
      const detSharp: DetectionImage[] = cases.flatMap((c) => c.images.map((im) => ({ imageId: im.imageId, predictions: im.sharpBoxes, groundTruth: im.lesionsWorking })));
      const res = manifest.params.workingSizePx;
      const detection = [
        ...detectionTable(detProtocol, { resolutionPx: res, method: "protocol" }),
        ...detectionTable(detSharp, { resolutionPx: res, method: "sharp" }),
      ];
      const froc = [frocRow("protocol", detProtocol, "iou"), frocRow("sharp", detSharp, "iou"), frocRow("protocol", detProtocol, "centre"), frocRow("sharp", detSharp, "centre")];
      const summary: ExplainSummary = {
        createdAt: new Date().toISOString(),
        manifest: manifestFile,
        params: {
          overlap,
          cases: nCases ?? "all",
          split,
          seed,
          nmsIou,
          smoothSigmaPx: opts.smoothSigmaPx ?? 0,
          quantile: 0.95,
          minAreaProtocolPx: 1024,
          workingSizePx: res,
          tileSizePx: manifest.params.tileSizePx,
        },
        provenance: { ...(opts.run ? { run: resolveProjectPath(opts.run) } : {}), ...facts, ...(opts.provenance ?? {}) },
        cases,
        detection,
        froc,
        sharp: sharpInfo,
        skipped,
        work,
        seconds: (Date.now() - t0) / 1000,
      };
      if (skipped.length) process.stderr.write(`explain: skipped ${skipped.length} bag(s): ${skipped.map((k) => `${k.breastId} (${k.error})`).join("; ")}\n`);
      return {
        value: summary,
        files: [
          ["detection.csv", detectionTableCsv(detection)],
          ["detection.md", detectionTableMarkdown(detection) + `\nsharp: ${sharpInfo.description} (${sharpInfo.source})\n`],
          ["froc.md", markdownTable(frocTableRows(froc))],
          ["explain.json", summary],
        ],
        record: {
          config: { ...s.caseParams, step: undefined, cases: nCases ?? "all", split, seed, selectionSplit: opts.selectionSplit ?? EXPLAIN_STAGE.selectionSplit.default, selectionCases: opts.selectionCases ?? "all" },
          inputs: { manifest: manifestFile, head: ids.head, store: ids.store },
          upstream: { train: opts.run ? resolveProjectPath(opts.run) : null },
          extra: { work },
        },
      };
    },
  });
  return value;
}

/** (v - lo) / (hi - lo) on covered pixels, 0 elsewhere (all 0 when hi <= lo). */
function scaleMap(map: Float32Array, coverage: Uint16Array, lo: number, hi: number): Float32Array {
  const out = new Float32Array(map.length);
  if (!(hi > lo)) return out;
  for (let i = 0; i < map.length; i++) if (coverage[i] > 0) out[i] = (map[i] - lo) / (hi - lo);
  return out;
}

/** Nearest-neighbour upsampling of a square map to the image side (the map may be coarser). */
function upsampleIfNeeded(map: Float32Array, m: number, n: number): Float32Array {
  if (m === n) return map;
  const out = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    const my = Math.min(m - 1, Math.floor((y * m) / n));
    for (let x = 0; x < n; x++) out[y * n + x] = map[my * m + Math.min(m - 1, Math.floor((x * m) / n))];
  }
  return out;
}

/** Top-k tiles over all views of a bag (bag-level attention), as one gallery PNG. */
async function galleryOfBag(
  inputs: readonly ExplainImageInput[],
  explained: readonly ImageExplanation[],
  topK: number,
): Promise<{ png: Buffer; values: number[] }> {
  // Tiles of different views live in different images: copy only the top-k tiles into one strip
  // (k tiles side by side) so that one tileGallery call can crop from it; memory stays k x tile^2.
  const all = explained.flatMap((e, view) => e.tiles.map((t, i) => ({ view, t, v: e.attention[i] })));
  all.sort((a, b) => b.v - a.v);
  const top = distinctTopTiles(all, topK);
  const size = Math.max(1, ...top.map((x) => x.t.sizePx));
  const W = size * Math.max(1, top.length);
  const strip = new Float32Array(W * size);
  top.forEach((x, j) => {
    const n = inputs[x.view].workingSizePx;
    const src = inputs[x.view].working;
    for (let y = 0; y < x.t.sizePx; y++) {
      const sy = x.t.yPx + y;
      if (sy < 0 || sy >= n) continue;
      for (let xx = 0; xx < x.t.sizePx; xx++) {
        const sx = x.t.xPx + xx;
        if (sx >= 0 && sx < n) strip[y * W + j * size + xx] = src[sy * n + sx] / 65535;
      }
    }
  });
  // colour scale: from the lowest attention of the whole bag to the best tile
  const lowest = all.length ? all[all.length - 1].v : 0;
  const tiles = top.map((x, j) => ({ xPx: j * size, yPx: 0, sizePx: x.t.sizePx }));
  const values = top.map((x) => x.v);
  const g = await tileGallery({ widthPx: W, heightPx: size, pixels: strip }, tiles, values, { topK, columns: 4, cellPx: 128, colourRange: [lowest, values[0] ?? 1] });
  return { png: g.png, values: g.shown.map((s) => s.value) };
}

/**
 * The `k` best tiles (input sorted best first) that do not overlap a tile already taken in the
 * same view: at 75 % overlap the best tiles are otherwise shifted copies of one spot.
 */
export function distinctTopTiles<T extends { view: number; t: TileRect }>(sorted: readonly T[], k: number): T[] {
  const out: T[] = [];
  for (const x of sorted) {
    if (out.length >= k) break;
    const clash = out.some((o) => o.view === x.view && iou(
      { x0: o.t.xPx, y0: o.t.yPx, x1: o.t.xPx + o.t.sizePx, y1: o.t.yPx + o.t.sizePx },
      { x0: x.t.xPx, y0: x.t.yPx, x1: x.t.xPx + x.t.sizePx, y1: x.t.yPx + x.t.sizePx },
    ) > 0);
    if (!clash) out.push(x);
  }
  return out;
}
