/**
 * Exact ROC AUC as the Mann-Whitney statistic (ties count one half), used inside the training loop
 * for early stopping and selection. NaN when one class is absent. (Reported metrics with CIs come
 * from lib/metrics.)
 */
export function aucExact(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) pos++;
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]] === 1) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
