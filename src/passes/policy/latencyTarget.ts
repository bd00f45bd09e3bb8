import type { Model } from '../../ir/model.js';
import type { ChannelGroup } from '../dependency/groups.js';
import { allocateForLatency, type Allocation } from './latencyAllocation.js';
import { groupProbe, pairProbe, type Probe } from './latencyProbe.js';
import { interactionWeight, savingAt, type CostCurve, type Interaction, type LatencyMeter } from './latencyTable.js';

/** What `--target-latency` asked for, what the chosen widths were predicted and measured to reach. */
export interface LatencyTargetReport {
  /** The requested fraction of the original's latency. */
  fraction: number;
  /** The lookup table's prediction for the chosen widths (fraction of the original). */
  predicted: number;
  /** Measured: pruned / original median latency, timed in alternation. */
  measured: number;
  originalMs: number;
  prunedMs: number;
  /** Whether the measured fraction is within TOLERANCE above the target (or below it). */
  met: boolean;
  /** Each allocation tried: its goal for the prediction, the prediction, the measurement. */
  attempts: { goal: number; predicted: number; measured: number }[];
  /**
   * The lookup table: widths measured now and read from the cache; of the probes measured now, how many on their
   * sub-graph and how many on the whole model; how many pairs of groups share nodes (their overlap is measured).
   */
  table: { measured: number; cached: number; path?: string; subGraphs: number; wholeModel: number; pairs: number };
}

/** A measured latency this close above the target counts as met: timing noise on a loaded machine is about this. */
export const LATENCY_TOLERANCE = 0.02;
/** Widths measured per group, as fractions of its full width (snapped to its lattice). */
const PROBE_FRACTIONS = [0.75, 0.5, 0.25];
const MAX_ATTEMPTS = 4;

export interface LatencyPlanGroup {
  readonly group: ChannelGroup;
  readonly scores: Float64Array;
  /** Kept counts allowed (rounding and floors applied), ascending, ending at the full width. */
  readonly lattice: readonly number[];
}

/**
 * Per-group widths for `--target-latency` (`original`: the model's encoded bytes, before any change): measure (or look up) each group's latency savings at a few widths,
 * allocate widths by importance per latency saved (allocateForLatency), then time the pruned candidate against
 * the original. The prediction adds the groups' savings and takes off the overlap of groups that share nodes (a
 * conv between two pruned groups shrinks on both sides), measured by one pair probe per such pair; what it still
 * misses (costs that are not bilinear in the widths, kernels that change with the width, timing noise) is corrected
 * by timing: when the measurement misses the target by more than half the tolerance, the goal handed to the
 * allocation is scaled by the predicted/measured ratio and the allocation repeated (at most MAX_ATTEMPTS timings).
 * The least pruned attempt that meets the target wins; when none does, the fastest.
 */
export async function planForLatency(model: Model, original: Uint8Array, groups: readonly LatencyPlanGroup[], o: {
  target: number;
  keep: 'central' | 'peripheral';
  meter: LatencyMeter;
  /** The model pruned to these kept units per group id. */
  candidate: (units: ReadonlyMap<number, number>) => Model;
  onProgress?: (done: number, total: number, label: string) => void;
}): Promise<{ units: Map<number, number>; report: LatencyTargetReport }> {
  const probes = groups.map(({ group, lattice }) => groupProbe(original, model, group, probeWidths(lattice), model.baseDir));
  const pairs = sharingPairs(groups.map((g) => g.group)).flatMap(([a, b]) => {
    const [pa, pb] = [probes[a]!, probes[b]!];
    if (!pa.widths.length || !pb.widths.length) return [];
    const [wa, wb] = [middle(pa.widths), middle(pb.widths)];
    return [{ a: pa, wa, b: pb, wb, probe: pairProbe(original, model, groups[a]!.group, wa, groups[b]!.group, wb, model.baseDir) }];
  });
  const measuredProbes: Probe[] = [...probes.filter((p) => p.widths.length > 0), ...pairs.map((p) => p.probe)];
  const table = await o.meter.savings(measuredProbes, o.onProgress);
  const curveOf = (key: string): CostCurve | undefined => table.curves.get(key);
  const saving = (key: string, units: number): number => {
    const c = curveOf(key);
    return c ? savingAt(c, units) : 0;
  };
  const interactions: Interaction[] = pairs.flatMap(({ a, wa, b, wb, probe }) => {
    const joint = curveOf(probe.key)?.points.find((p) => p.units === 0)?.saving;
    if (joint === undefined) return [];
    return [{ a: a.key, b: b.key, weight: interactionWeight(saving(a.key, wa), saving(b.key, wb), joint, wa / a.units, wb / b.units) }];
  });
  const allocationGroups = groups.map(({ scores, lattice }, i) => {
    const key = probes[i]!.key;
    return { key, scores, lattice, saving: (units: number) => saving(key, units) };
  });
  const byKey = new Map(groups.map(({ group }, i) => [probes[i]!.key, group.id]));
  const attempts: (LatencyTargetReport['attempts'][number] & { allocation: Allocation; originalMs: number; prunedMs: number })[] = [];
  let goal = o.target;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const allocation = allocateForLatency(allocationGroups, goal, o.keep, interactions);
    const same = attempts.find((a) => sameUnits(a.allocation.units, allocation.units));
    const timed = same ?? { ...(await o.meter.compare(o.candidate(idsOf(allocation.units, byKey)))), allocation, goal, predicted: allocation.predicted, measured: 0 };
    if (!same) {
      timed.measured = timed.prunedMs / timed.originalMs;
      attempts.push(timed);
    }
    if (Math.abs(timed.measured - o.target) <= LATENCY_TOLERANCE / 2 || same) break;
    // The prediction's error is mostly a factor (overlaps and layout effects grow with how much is pruned): ask the
    // allocation for the prediction that this factor turns into the target.
    const next = Math.min(1, (o.target * timed.predicted) / timed.measured);
    if (Math.abs(next - goal) < 1e-4) break;
    goal = next;
  }
  // The least pruned attempt that meets the target (within the tolerance); else the fastest one.
  const meeting = attempts.filter((a) => a.measured <= o.target + LATENCY_TOLERANCE);
  const best = meeting.length
    ? meeting.reduce((a, b) => (b.measured > a.measured ? b : a))
    : attempts.reduce((a, b) => (b.measured < a.measured ? b : a));
  return {
    units: idsOf(best.allocation.units, byKey),
    report: {
      fraction: o.target, predicted: best.predicted, measured: best.measured, originalMs: best.originalMs, prunedMs: best.prunedMs,
      met: best.measured <= o.target + LATENCY_TOLERANCE,
      attempts: attempts.map(({ goal: g, predicted, measured }) => ({ goal: g, predicted, measured })),
      table: {
        measured: table.measured, cached: table.cached, ...(table.path ? { path: table.path } : {}),
        subGraphs: measuredProbes.filter((p) => p.scope === 'sub-graph').length, wholeModel: measuredProbes.filter((p) => p.scope === 'whole model').length,
        pairs: pairs.length,
      },
    },
  };
}

/** The lattice points nearest to PROBE_FRACTIONS of the full width, below it, without repeats. */
export function probeWidths(lattice: readonly number[]): number[] {
  const full = lattice.at(-1)!;
  const below = lattice.slice(0, -1);
  if (below.length === 0) return [];
  const nearest = (w: number): number => below.reduce((a, b) => (Math.abs(b - w) < Math.abs(a - w) ? b : a));
  return [...new Set(PROBE_FRACTIONS.map((f) => nearest(f * full)))].sort((a, b) => b - a);
}

/** The probe width nearest the middle of the measured ones (the ~0.5 point): where a pair is measured. */
function middle(widths: readonly number[]): number {
  return widths[Math.floor(widths.length / 2)]!;
}

/** Index pairs of groups that touch a common node (a conv between them, an op both flow through). */
export function sharingPairs(groups: readonly ChannelGroup[]): [number, number][] {
  const byNode = new Map<unknown, number[]>();
  groups.forEach((g, i) => {
    for (const n of g.roles.keys()) {
      const list = byNode.get(n) ?? [];
      list.push(i);
      byNode.set(n, list);
    }
  });
  const seen = new Set<string>();
  const out: [number, number][] = [];
  for (const list of byNode.values()) {
    for (let x = 0; x < list.length; x++) for (let y = x + 1; y < list.length; y++) {
      const key = `${list[x]},${list[y]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push([list[x]!, list[y]!]);
    }
  }
  return out;
}

function idsOf(units: ReadonlyMap<string, number>, byKey: ReadonlyMap<string, number>): Map<number, number> {
  return new Map([...units].map(([k, u]) => [byKey.get(k)!, u]));
}

function sameUnits(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return [...a].every(([k, u]) => b.get(k) === u);
}
