/**
 * One ranking across groups (--global). Raw scores are not comparable between layers (an eigenvector-centrality
 * vector has unit L2 norm, so its entries shrink as 1/√n; magnitudes differ per layer), so each score is divided by
 * its group's mean score: 1 means "as important as the average channel of its own layer". The k = ⌊p·N⌋ channels
 * with the lowest normalised scores over all N channels are removed, subject to each group's floor.
 */
export interface GlobalGroupInput {
  readonly scores: Float64Array;
  /** The fewest channels this group may keep (min-channels, and at least 1). */
  readonly minKeep: number;
}

export function normalisedScores(scores: Float64Array): Float64Array {
  let sum = 0;
  for (const s of scores) sum += s;
  const mean = sum / scores.length;
  return scores.map((s) => (mean > 0 ? s / mean : 1));
}

/** How many channels to remove from each group so that ⌊ratio · total⌋ go overall (fewer if floors bind). */
export function globalRemovalCounts(groups: readonly GlobalGroupInput[], ratio: number, keep: 'central' | 'peripheral' = 'central'): number[] {
  const entries: { g: number; s: number; i: number }[] = [];
  groups.forEach((grp, g) => normalisedScores(grp.scores).forEach((s, i) => entries.push({ g, s: keep === 'central' ? s : -s, i })));
  // Lowest first; ties by group then channel index, so the result is reproducible.
  entries.sort((a, b) => a.s - b.s || a.g - b.g || a.i - b.i);
  const total = entries.length;
  let budget = Math.floor(ratio * total + 1e-9);
  const removed = groups.map(() => 0);
  for (const e of entries) {
    if (budget === 0) break;
    const grp = groups[e.g]!;
    if (grp.scores.length - removed[e.g]! <= Math.max(1, grp.minKeep)) continue;
    removed[e.g]!++;
    budget--;
  }
  return removed;
}
