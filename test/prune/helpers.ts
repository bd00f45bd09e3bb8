import { expect } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import type { ChannelGroup } from '../../src/passes/dependency/groups.js';
import { centralityPrune, type CentralityPruneOptions, type GroupReport, type PruneReport } from '../../src/passes/centralityPrune.js';

/** The library pass on a fresh copy: the pruned bytes, the report, and the groups of the original (for nonEmpty). */
export async function prune(bytes: Uint8Array, opts: Partial<CentralityPruneOptions>): Promise<{ pruned: Uint8Array; report: PruneReport; groups: ChannelGroup[] }> {
  const model = decodeModel(bytes);
  const report = await centralityPrune(model, opts);
  return { pruned: encodeModel(model), report, groups: analyze(decodeModel(bytes)) };
}

/**
 * The documented kept count of a group of n one-channel units before the nonEmpty repair: n − ⌊p·n⌋, raised to
 * max(minChannels, 1), then the nearest of {multiples of roundTo from that floor up to n} ∪ {n}, ties to the larger
 * (unchanged when no multiple lies below n).
 */
export function documentedKept(n: number, ratio: number, roundTo = 1, minChannels = 1): number {
  const floor = Math.min(n, Math.max(1, minChannels));
  const kept = Math.max(n - Math.floor(ratio * n + 1e-9), floor);
  const allowed = [n];
  for (let k = floor; k < n; k++) if (k % roundTo === 0) allowed.push(k);
  if (roundTo <= 1 || allowed.length === 1) return kept;
  return allowed.reduce((a, b) => (Math.abs(b - kept) < Math.abs(a - kept) || (Math.abs(b - kept) === Math.abs(a - kept) && b > a) ? b : a));
}

/**
 * Every group of the report against the documented rule: declined groups untouched; the others keep
 * `expectedKept(group)` units, plus at most one unit put back per nonEmpty set (each such set then keeps exactly one),
 * and every nonEmpty set keeps a unit. Returns how many groups needed the nonEmpty repair.
 */
export function expectKeptCounts(report: PruneReport, groups: readonly ChannelGroup[], expectedKept: (g: GroupReport) => number): number {
  let repaired = 0;
  expect(report.groups.map((g) => [g.id, g.channels])).toEqual(groups.map((g) => [g.id, g.channels]));
  for (const g of report.groups) {
    const label = `group ${g.id} (${g.producers.join(', ')})`;
    if (g.declined) {
      expect(g.removed, label).toEqual([]);
      expect(g.kept.length, label).toBe(g.channels);
      continue;
    }
    const base = expectedKept(g);
    const kept = new Set(g.kept);
    const sets = groups[g.id]!.nonEmpty;
    for (const set of sets) expect(set.some((u) => kept.has(u)), `${label}: a nonEmpty set lost every unit`).toBe(true);
    const extra = g.kept.length - base;
    expect(extra, `${label}: kept ${g.kept.length}, rule says ${base}`).toBeGreaterThanOrEqual(0);
    expect(extra, `${label}: more units kept than nonEmpty repairs explain`).toBeLessThanOrEqual(sets.filter((s) => s.filter((u) => kept.has(u)).length === 1).length);
    if (extra > 0) repaired++;
  }
  return repaired;
}

/** kept ∪ removed = 0..n−1, disjoint, both sorted ascending. */
export function expectPartition(g: GroupReport): void {
  const all = [...g.kept, ...g.removed].sort((a, b) => a - b);
  expect(all, `group ${g.id}`).toEqual(Array.from({ length: g.channels }, (_, i) => i));
  expect(g.kept, `group ${g.id} kept sorted`).toEqual([...g.kept].sort((a, b) => a - b));
  expect(g.removed, `group ${g.id} removed sorted`).toEqual([...g.removed].sort((a, b) => a - b));
}

/**
 * The removed units are the lowest-scoring ('central') or highest-scoring ('peripheral') of the group, up to float32
 * resolution (the documented tie rule compares 23-bit mantissas).
 */
export function expectRankedRemoval(g: GroupReport, keep: 'central' | 'peripheral' = 'central'): void {
  if (!g.removed.length || !g.scores) return;
  const s = g.scores;
  const sign = keep === 'central' ? 1 : -1;
  const worstKept = Math.min(...g.kept.map((i) => sign * s[i]!));
  const bestRemoved = Math.max(...g.removed.map((i) => sign * s[i]!));
  expect(bestRemoved, `group ${g.id}: a removed unit outranks a kept one`).toBeLessThanOrEqual(worstKept + 1e-6 * Math.abs(worstKept));
}

export type { GroupReport, PruneReport };
