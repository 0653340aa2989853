import type { FigureSpec } from "../plot/static-export";
import type { StoreReader } from "../store/format";
import { Rng } from "../util/rng";
import { LABEL_COLOURS, axis, baseLayout } from "../plot/style";

export interface Pca2 {
  /** rows x 2 scores (projections on the two leading components), row-major. */
  scores: Float64Array;
  /** 2 x dim unit component vectors, row-major. */
  components: Float64Array;
  /** Variance along each component. */
  variance: [number, number];
  /** Fraction of the total variance along each component. */
  explained: [number, number];
}

/**
 * The two leading principal components of a rows x dim matrix: covariance matrix, then power
 * iteration with deflation (hand-written: dim is a few hundred to ~1.5 k, one small dense
 * eigenproblem, no need for a linear-algebra dependency). The start vector is seeded, so the
 * result is deterministic; each component's sign is fixed so that its largest entry is positive.
 */
export function pca2(x: Float32Array, rows: number, dim: number, iterations = 300): Pca2 {
  if (rows < 2) throw new Error(`pca2: need at least 2 rows (got ${rows})`);
  if (x.length !== rows * dim) throw new Error(`pca2: ${x.length} values for ${rows} x ${dim}`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) mean[d] += x[r * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= rows;
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dim; d++) c[d] = x[r * dim + d] - mean[d];
    for (let i = 0; i < dim; i++) {
      const ci = c[i];
      if (ci === 0) continue;
      const row = i * dim;
      for (let j = i; j < dim; j++) cov[row + j] += ci * c[j];
    }
  }
  for (let i = 0; i < dim; i++)
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j] / (rows - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  let total = 0;
  for (let i = 0; i < dim; i++) total += cov[i * dim + i];
  const rng = new Rng(12345);
  const components = new Float64Array(2 * dim);
  const variance: [number, number] = [0, 0];
  for (let k = 0; k < 2; k++) {
    let v: Float64Array = Float64Array.from({ length: dim }, () => rng.normal());
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(dim);
      for (let i = 0; i < dim; i++) {
        let s = 0;
        const row = i * dim;
        for (let j = 0; j < dim; j++) s += cov[row + j] * v[j];
        w[i] = s;
      }
      const n = Math.hypot(...w);
      if (n === 0) break;
      for (let i = 0; i < dim; i++) w[i] /= n;
      lambda = n;
      v = w;
    }
    let maxAbs = 0;
    let sign = 1;
    for (let i = 0; i < dim; i++) if (Math.abs(v[i]) > maxAbs) [maxAbs, sign] = [Math.abs(v[i]), Math.sign(v[i]) || 1];
    for (let i = 0; i < dim; i++) components[k * dim + i] = sign * v[i];
    variance[k] = lambda;
    // deflate: cov -= lambda v v^T
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i * dim + j] -= lambda * v[i] * v[j];
  }
  const scores = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (x[r * dim + d] - mean[d]) * components[k * dim + d];
      scores[r * 2 + k] = s;
    }
  return { scores, components, variance, explained: [total > 0 ? variance[0] / total : 0, total > 0 ? variance[1] / total : 0] };
}

/** A Plotly scatter of the global-view embeddings on their 2 leading PCs, coloured by bag label. */
export function globalPcaFigure(store: StoreReader, title = "Global views, PCA"): FigureSpec {
  const G = store.meta.globalCount;
  const p = pca2(store.readGlobals(), G, store.meta.dim);
  const traces = ([0, 1] as const).map((label) => {
    const xs: number[] = [];
    const ys: number[] = [];
    const text: string[] = [];
    for (let r = 0; r < G; r++) {
      const bag = store.meta.bags[store.globalRows[r * 2]];
      if (bag.label !== label) continue;
      xs.push(p.scores[r * 2]);
      ys.push(p.scores[r * 2 + 1]);
      text.push(`${store.meta.images[store.globalRows[r * 2 + 1]].imageId} (${bag.split})`);
    }
    return { type: "scatter", mode: "markers", name: label === 1 ? "label 1 (BI-RADS 4-6)" : "label 0 (BI-RADS 1)", x: xs, y: ys, text, marker: { size: 4, opacity: 0.8, color: LABEL_COLOURS[label], symbol: label === 1 ? "diamond" : "circle", line: { color: "white", width: 0.3 } } };
  });
  return {
    data: traces,
    layout: {
      ...baseLayout({ title: `${title} (${store.meta.encoder.name}, D=${store.meta.dim})`, width: "column", height: 280 }),
      margin: { l: 44, r: 8, t: 28, b: 62 },
      xaxis: axis(`PC1 (${(100 * p.explained[0]).toFixed(1)} % of variance)`),
      yaxis: axis(`PC2 (${(100 * p.explained[1]).toFixed(1)} % of variance)`),
      legend: { orientation: "h", x: 0, xanchor: "left", y: -0.25, yanchor: "top" },
    },
  };
}
