/**
 * The latency lookup table's arithmetic and the allocation, on synthetic cost models (no timing): interpolation,
 * the pair-overlap term (exact for bilinear layer costs), and the greedy allocation against a brute-force optimum
 * on small cases.
 */
import { describe, expect, it } from 'vitest';
import { allocateForLatency, importanceShares, type AllocationGroup } from '../../src/passes/policy/latencyAllocation.js';
import { interactionWeight, predictLatency, savingAt, type CostCurve } from '../../src/passes/policy/latencyTable.js';
import { Rng } from '../../src/ir/random.js';

describe('savingAt', () => {
  const curve: CostCurve = { units: 64, points: [{ units: 48, saving: 0.1 }, { units: 32, saving: 0.25 }, { units: 16, saving: 0.3 }] };

  it('is 0 at the full width and linear between measured points', () => {
    expect(savingAt(curve, 64)).toBe(0);
    expect(savingAt(curve, 56)).toBeCloseTo(0.05);
    expect(savingAt(curve, 48)).toBeCloseTo(0.1);
    expect(savingAt(curve, 40)).toBeCloseTo(0.175);
    expect(savingAt(curve, 16)).toBeCloseTo(0.3);
  });

  it('extrapolates below the narrowest point along the last segment', () => {
    expect(savingAt(curve, 8)).toBeCloseTo(0.325);
  });

  it('is monotone: a narrower width never saves less (a measured dip is noise)', () => {
    const noisy: CostCurve = { units: 64, points: [{ units: 48, saving: 0.2 }, { units: 32, saving: 0.15 }, { units: 16, saving: 0.3 }] };
    expect(savingAt(noisy, 32)).toBeCloseTo(0.2);
    expect(savingAt(noisy, 40)).toBeCloseTo(0.2);
    for (let w = 1; w < 64; w++) expect(savingAt(noisy, w)).toBeGreaterThanOrEqual(savingAt(noisy, w + 1) - 1e-12);
  });
});

describe('the pair overlap term', () => {
  it('makes the prediction exact for bilinear layer costs', () => {
    // Three groups a, b, c in a chain: layer ab (inputs a, outputs b), layer bc, and per-group elementwise costs.
    // Times are fractions of the model's latency: t_ab = 0.3·x_a·x_b, t_bc = 0.2·x_b·x_c, t_a = 0.1·x_a, … + 0.1 fixed.
    const n = { a: 32, b: 64, c: 16 };
    const latency = (x: Record<'a' | 'b' | 'c', number>): number => 0.3 * x.a * x.b + 0.2 * x.b * x.c + 0.1 * x.a + 0.2 * x.b + 0.1 * x.c + 0.1;
    const full = latency({ a: 1, b: 1, c: 1 });
    const alone = (g: 'a' | 'b' | 'c', f: number): number => (full - latency({ a: 1, b: 1, c: 1, [g]: f })) / full;
    const curves = new Map(Object.entries(n).map(([k, units]) => [k, {
      units, points: [0.75, 0.5, 0.25].map((f) => ({ units: f * units, saving: alone(k as 'a', f) })),
    }]));
    // One joint measurement per pair, at the 0.5 points.
    const joint = (g: 'a' | 'b', h: 'b' | 'c'): number => (full - latency({ a: 1, b: 1, c: 1, [g]: 0.5, [h]: 0.5 })) / full;
    const interactions = [
      { a: 'a', b: 'b', weight: interactionWeight(alone('a', 0.5), alone('b', 0.5), joint('a', 'b'), 0.5, 0.5) },
      { a: 'b', b: 'c', weight: interactionWeight(alone('b', 0.5), alone('c', 0.5), joint('b', 'c'), 0.5, 0.5) },
    ];
    expect(interactions[0]!.weight).toBeCloseTo(0.3 / full);
    for (const x of [{ a: 0.75, b: 0.5, c: 0.25 }, { a: 0.25, b: 0.75, c: 0.75 }, { a: 0.5, b: 0.25, c: 0.5 }]) {
      const widths = new Map(Object.entries(x).map(([k, f]) => [k, f * n[k as 'a']]));
      expect(predictLatency(curves, widths, interactions)).toBeCloseTo(latency(x) / full, 12);
      // Without the overlap term, the savings of layer ab and bc are counted twice.
      expect(predictLatency(curves, widths)).toBeLessThan(latency(x) / full - 0.01);
    }
  });
});

/** A group whose latency saving is linear in the units removed, `perUnit` each. */
function linearGroup(key: string, scores: number[], perUnit: number, step = 1): AllocationGroup {
  const n = scores.length;
  const lattice: number[] = [];
  for (let k = step; k < n; k += step) lattice.push(k);
  lattice.push(n);
  return { key, scores: Float64Array.from(scores), lattice, saving: (u) => perUnit * (n - u) };
}

describe('importanceShares', () => {
  it('is each unit\'s share of its group\'s score; peripheral reverses the order; all-zero scores share alike', () => {
    expect(importanceShares(Float64Array.from([1, 3, 4]), 'central')).toEqual([0.125, 0.375, 0.5]);
    expect(importanceShares(Float64Array.from([1, 3, 4]), 'peripheral')).toEqual([4 / 7, 2 / 7, 1 / 7]); // max + min − score
    expect(importanceShares(Float64Array.from([0, 0]), 'central')).toEqual([0.5, 0.5]);
  });

  it('makes a narrow group\'s units dearer: the same latency per unit cuts the wide group first', () => {
    const narrow = linearGroup('narrow', Array.from({ length: 8 }, () => 1), 0.01);
    const wide = linearGroup('wide', Array.from({ length: 64 }, () => 1), 0.01);
    const a = allocateForLatency([narrow, wide], 0.8);
    expect(a.units.get('narrow')).toBe(8);
    expect(a.units.get('wide')).toBe(44);
  });
});

describe('allocateForLatency', () => {
  it('meets the goal; a group whose units save more latency for the same importance loses more of them', () => {
    const scores = Array.from({ length: 32 }, (_, i) => 1 + i / 32);
    const slow = linearGroup('slow', scores, 0.02);
    const fast = linearGroup('fast', scores, 0.005);
    const a = allocateForLatency([slow, fast], 0.6);
    expect(a.met).toBe(true);
    expect(a.predicted).toBeLessThanOrEqual(0.6 + 1e-12);
    expect(1 - slow.saving(a.units.get('slow')!) - fast.saving(a.units.get('fast')!)).toBeCloseTo(a.predicted, 12);
    expect(a.units.get('slow')!).toBeLessThan(a.units.get('fast')!);
  });

  it('does not empty a group that saves more per unit: the price of a cut grows as the group empties', () => {
    const narrow = linearGroup('narrow', Array.from({ length: 8 }, () => 1), 0.05);
    const wide = linearGroup('wide', Array.from({ length: 64 }, () => 1), 0.005);
    const a = allocateForLatency([narrow, wide], 0.6);
    expect(a.met).toBe(true);
    // Equal marginal prices: ln(k/(k−1))/0.05 ≈ ln(m/(m−1))/0.005, so m ≈ 10k; 0.05(8 − k) + 0.005(64 − m) = 0.4.
    expect(a.units.get('narrow')).toBe(3);
    expect(Math.abs(a.units.get('wide')! - 32)).toBeLessThanOrEqual(2);
  });

  it('keeps to each group\'s lattice and floor', () => {
    const g = linearGroup('g', Array.from({ length: 64 }, (_, i) => i + 1), 0.01, 8);
    const a = allocateForLatency([g], 0.5);
    expect(a.units.get('g')! % 8).toBe(0);
    const floored = { ...g, lattice: g.lattice.filter((k) => k >= 40) };
    const b = allocateForLatency([floored], 0.1);
    expect(b.met).toBe(false);
    expect(b.units.get('g')).toBe(40);
    expect(b.predicted).toBeCloseTo(1 - 0.01 * 24, 12);
  });

  it('is close to the brute-force optimum on small random cases', () => {
    const rng = new Rng(3);
    let worst = 0;
    for (let trial = 0; trial < 40; trial++) {
      const groups = Array.from({ length: 3 }, (_, k) => {
        const n = 4 + rng.int(5);
        return linearGroup(`g${k}`, Array.from({ length: n }, () => 0.1 + rng.next()), 0.01 + 0.05 * rng.next());
      });
      const goal = 0.5 + 0.4 * rng.next();
      const a = allocateForLatency(groups, goal);
      // The objective: Σ −ln(share of its total score a group keeps), its lowest units removed first.
      const importanceLost = (units: number[]): number => groups.reduce((s, g, i) => {
        const total = g.scores.reduce((p, q) => p + q, 0);
        const kept = [...g.scores].sort((p, q) => q - p).slice(0, units[i]!).reduce((p, q) => p + q, 0);
        return s - Math.log(kept / total);
      }, 0);
      // Brute force over every width combination that meets the goal.
      let best = Infinity;
      const visit = (i: number, units: number[]): void => {
        if (i === groups.length) {
          if (1 - groups.reduce((s, g, k) => s + g.saving(units[k]!), 0) <= goal + 1e-12) best = Math.min(best, importanceLost(units));
          return;
        }
        for (const w of groups[i]!.lattice) visit(i + 1, [...units, w]);
      };
      visit(0, []);
      if (best === Infinity) {
        expect(a.met).toBe(false);
        continue;
      }
      expect(a.met).toBe(true);
      const got = importanceLost(groups.map((g) => a.units.get(g.key)!));
      worst = Math.max(worst, got / best);
    }
    // Greedy by price is not optimal for a knapsack, least so when one unit is a large share of a group (4–8 units
    // here): within 30 % of the optimum's importance lost on these cases (the worst is 1.22).
    expect(worst).toBeLessThan(1.3);
  });

  it('counts the overlap of neighbouring groups: pruning both sides of a layer saves less than the sum', () => {
    const scores = Array.from({ length: 16 }, () => 1);
    const a = linearGroup('a', scores, 0.02);
    const b = linearGroup('b', scores, 0.02);
    const plain = allocateForLatency([a, b], 0.5);
    const overlapping = allocateForLatency([a, b], 0.5, 'central', [{ a: 'a', b: 'b', weight: 0.3 }]);
    const removed = (x: typeof plain): number => 32 - x.units.get('a')! - x.units.get('b')!;
    expect(removed(overlapping)).toBeGreaterThan(removed(plain));
    const cut = (k: string): number => 1 - overlapping.units.get(k)! / 16;
    expect(overlapping.predicted).toBeCloseTo(1 - a.saving(overlapping.units.get('a')!) - b.saving(overlapping.units.get('b')!) + 0.3 * cut('a') * cut('b'), 12);
  });
});
