import type { Interaction } from './latencyTable.js';

/** One group as the latency allocation sees it. */
export interface AllocationGroup {
  readonly key: string;
  /** Importance of each unit (higher = more important under 'central'). */
  readonly scores: Float64Array;
  /** The kept counts allowed, ascending, ending at the full width (see keptUnitsLattice). */
  readonly lattice: readonly number[];
  /** Fraction of the original latency saved with this group alone at `units` (0 at the full width). */
  saving(units: number): number;
}

export interface Allocation {
  /** Kept units per group key. */
  readonly units: Map<string, number>;
  /** Predicted latency, as a fraction of the original (predictLatency). */
  readonly predicted: number;
  /** False when the goal was out of reach: no further step saves anything by the table. */
  readonly met: boolean;
}

/** How many narrower lattice widths a step may jump to (crossing a plateau of the measured curve). */
const LOOK_AHEAD = 64;

/**
 * Chooses a width per group so the predicted latency falls to `goal` (a fraction of the original) while removing
 * the least importance per unit of latency saved — a greedy form of HALP's global ranking. A unit's importance is
 * its share of its group's total score, so every group is worth 1 and cutting any group by the same fraction of its
 * importance costs the same: a channel of a 24-channel residual stream weighs 40 times one of a 960-channel
 * expansion (scores divided by the group mean instead, as --global does, made the narrow streams cheapest and
 * emptied them first). A group always loses its least important units first, and what it loses is priced as
 * −ln(share kept): about the share removed for small cuts, but growing without bound as a group empties (keeping
 * 10 % costs 2.3, twice as much as keeping 30 %), so the ranking cannot collapse one layer to buy latency the
 * others could give — the allocation maximises the product of the groups' kept shares for the latency it needs.
 * Each step considers, for every group, the next LOOK_AHEAD narrower widths of its lattice, priced as (importance
 * removed) / (latency saved); the cheapest is taken, until the prediction reaches the goal. The saving of a step is
 * the group's own (from its measured curve) less its overlap with the neighbours it shares nodes with at their
 * current widths (`interactions`), so cutting both sides of one conv is not counted twice. Last, the overshoot of
 * the final steps is given back one lattice step at a time where the goal still holds.
 */
export function allocateForLatency(groups: readonly AllocationGroup[], goal: number, keep: 'central' | 'peripheral' = 'central', interactions: readonly Interaction[] = []): Allocation {
  const index = new Map(groups.map((g, i) => [g.key, i]));
  const state = groups.map((g) => {
    const shares = importanceShares(g.scores, keep).sort((a, b) => a - b);
    // cost[k]: −ln of the share kept without the k least important units.
    const cost = [0];
    let removed = 0;
    for (const s of shares) {
      removed += s;
      cost.push(-Math.log(Math.max(1e-12, 1 - removed)));
    }
    return { g, at: g.lattice.length - 1, cost, units: g.scores.length, neighbours: [] as { other: number; weight: number }[] };
  });
  for (const i of interactions) {
    const a = index.get(i.a);
    const b = index.get(i.b);
    if (a === undefined || b === undefined || a === b || i.weight <= 0) continue;
    state[a]!.neighbours.push({ other: b, weight: i.weight });
    state[b]!.neighbours.push({ other: a, weight: i.weight });
  }
  const widthOf = (s: (typeof state)[number]): number => s.g.lattice[s.at]!;
  const cutOf = (s: (typeof state)[number], w = widthOf(s)): number => 1 - w / s.units;
  let predicted = 1 - state.reduce((acc, s) => acc + s.g.saving(widthOf(s)), 0);
  for (const i of interactions) {
    const a = index.get(i.a);
    const b = index.get(i.b);
    if (a !== undefined && b !== undefined && a !== b && i.weight > 0) predicted += i.weight * cutOf(state[a]!) * cutOf(state[b]!);
  }
  while (predicted > goal) {
    let best: { s: (typeof state)[number]; to: number; gain: number; price: number } | undefined;
    for (const s of state) {
      const from = widthOf(s);
      const saved = s.g.saving(from);
      // Overlap per unit of this group's cut, with the neighbours where they are now.
      const overlap = s.neighbours.reduce((acc, n) => acc + n.weight * cutOf(state[n.other]!), 0);
      for (let to = s.at - 1; to >= Math.max(0, s.at - LOOK_AHEAD); to--) {
        const w = s.g.lattice[to]!;
        const gain = s.g.saving(w) - saved - overlap * (cutOf(s, w) - cutOf(s, from));
        if (gain <= 1e-12) continue;
        const price = (s.cost[s.units - w]! - s.cost[s.units - from]!) / gain;
        if (!best || price < best.price || (price === best.price && gain > best.gain)) best = { s, to, gain, price };
      }
    }
    if (!best) break;
    best.s.at = best.to;
    predicted -= best.gain;
  }
  // The last steps may overshoot the goal: give back the widening that restores the most importance while the
  // prediction stays within the goal, until none fits.
  for (;;) {
    let best: { s: (typeof state)[number]; loss: number; restored: number } | undefined;
    for (const s of state) {
      if (s.at === s.g.lattice.length - 1) continue;
      const from = widthOf(s);
      const to = s.g.lattice[s.at + 1]!;
      const overlap = s.neighbours.reduce((acc, n) => acc + n.weight * cutOf(state[n.other]!), 0);
      const loss = s.g.saving(from) - s.g.saving(to) - overlap * (cutOf(s, from) - cutOf(s, to));
      const restored = s.cost[s.units - from]! - s.cost[s.units - to]!;
      if (predicted + loss > goal + 1e-12) continue;
      if (!best || restored > best.restored) best = { s, loss, restored };
    }
    if (!best) break;
    best.s.at++;
    predicted += best.loss;
  }
  return { units: new Map(state.map((s) => [s.g.key, widthOf(s)])), predicted, met: predicted <= goal + 1e-12 };
}

/**
 * Each unit's share of its group's importance (summing to 1). 'central' keeps high scores, so a score is its
 * importance; 'peripheral' keeps low ones, so the order is reversed (max + min − score). Scores that are all zero
 * (or negative: no criterion gives them) count every unit alike.
 */
export function importanceShares(scores: Float64Array, keep: 'central' | 'peripheral'): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of scores) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const weights = Array.from(scores, (s) => Math.max(0, keep === 'central' ? s : hi + lo - s));
  const total = weights.reduce((a, b) => a + b, 0);
  return total > 0 ? weights.map((w) => w / total) : weights.map(() => 1 / Math.max(1, weights.length));
}
