import type { StoreReader } from "./format";

/** One row of a store summary: counts for one split x label (a type alias, so it is a table row for lib/plot). */
export type StoreSummaryRow = {
  split: string;
  label: number | string;
  bags: number;
  images: number;
  globalViews: number;
  tiles: number;
  tilesPerBag: number;
};

/** Bags, images, global views and tiles per split and label (plus a total row). */
export function storeSummary(store: StoreReader): StoreSummaryRow[] {
  const { bags, images } = store.meta;
  const imagesPerBag = new Int32Array(bags.length);
  for (const im of images) imagesPerBag[im.bagIndex]++;
  const groups = new Map<string, StoreSummaryRow>();
  const total: StoreSummaryRow = { split: "all", label: "all", bags: 0, images: 0, globalViews: 0, tiles: 0, tilesPerBag: 0 };
  const order = ["train", "val", "test"];
  bags.forEach((b, i) => {
    const key = `${b.split}/${b.label}`;
    let row = groups.get(key);
    if (!row) {
      row = { split: b.split, label: b.label, bags: 0, images: 0, globalViews: 0, tiles: 0, tilesPerBag: 0 };
      groups.set(key, row);
    }
    const g = store.bagGlobalOffsets[i + 1] - store.bagGlobalOffsets[i];
    const t = store.bagTileOffsets[i + 1] - store.bagTileOffsets[i];
    for (const r of [row, total]) {
      r.bags++;
      r.images += imagesPerBag[i];
      r.globalViews += g;
      r.tiles += t;
    }
  });
  const rows = Array.from(groups.values()).sort((a, b) => order.indexOf(a.split) - order.indexOf(b.split) || Number(a.label) - Number(b.label));
  rows.push(total);
  for (const r of rows) r.tilesPerBag = r.bags ? r.tiles / r.bags : 0;
  return rows;
}

/** Store-level facts as table rows (encoder, provider, dim, dtype, counts, size on disk). */
export function storeFacts(store: StoreReader): { field: string; value: string | number }[] {
  const m = store.meta;
  const bytes = (m.globalCount + m.tileCount) * m.dim * (m.dtype === "float16" ? 2 : 4);
  return [
    { field: "encoder", value: m.encoder.name },
    { field: "provider", value: m.encoder.provider },
    { field: "input size (px)", value: m.encoder.inputSizePx },
    { field: "dim", value: m.dim },
    { field: "dtype", value: m.dtype },
    { field: "bags", value: m.bags.length },
    { field: "images", value: m.images.length },
    { field: "global views", value: m.globalCount },
    { field: "tiles", value: m.tileCount },
    { field: "matrix bytes", value: bytes },
    { field: "created", value: m.createdAt },
  ];
}
