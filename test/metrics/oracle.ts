/**
 * Test ORACLE, not library code: the AUC by its pairwise definition,
 * P(score_pos > score_neg) + 0.5 P(tie), by brute force over all (positive, negative) pairs
 * (O(n^2)). It is independent of lib/metrics' rocAuc (sorting and counting), so tests can
 * check the library against it. Argument order as rocAuc / scikit-learn: (labels, scores).
 */
export function pairwiseAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}
