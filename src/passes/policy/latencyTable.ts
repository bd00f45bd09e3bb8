import type { Model } from '../../ir/model.js';

/**
 * The latency lookup table `--target-latency` allocates from: for each prunable group, the latency saved when that
 * group alone is cut to each of a few widths, as a fraction of the whole original model's latency. Measured by a
 * `LatencyMeter` (src/runtime/layerCosts.ts times onnxruntime; tests pass a deterministic one), cached on disk by
 * model content, execution provider, batch and threads.
 */

/** One measured width of a group: `saving` = (latency at full width − latency at `units`) / the model's latency. */
export interface CostPoint {
  readonly units: number;
  readonly saving: number;
}

/** A group's measured savings; the full width (saving 0) is implied. */
export interface CostCurve {
  readonly units: number;
  readonly points: readonly CostPoint[];
}

/** What the meter is asked to measure for one group. */
export interface CostProbe {
  /** Stable name of the group within its model (its producers' node names and width): the lookup-table key. */
  readonly key: string;
  /** The group's full width, in units. */
  readonly units: number;
  /** The widths (units, below `units`) to measure. */
  readonly widths: readonly number[];
  /** The model to time for one width: the group's sub-graph (or the whole model) with the group cut to `units`. */
  build(units: number): Model;
}

/** Times models on the target execution provider. */
export interface LatencyMeter {
  /** The savings of every probe's widths: read from the lookup table, or measured (and added to it). */
  savings(probes: readonly CostProbe[], onProgress?: (done: number, total: number, label: string) => void): Promise<SavingsTable>;
  /** The original and a candidate timed in alternation: median milliseconds of each. */
  compare(candidate: Model): Promise<{ originalMs: number; prunedMs: number }>;
}

export interface SavingsTable {
  readonly curves: ReadonlyMap<string, CostCurve>;
  /** The original model's median latency when the table was measured (ms). */
  readonly modelMs: number;
  /** Widths measured now, and read from the table. */
  readonly measured: number;
  readonly cached: number;
  /** Where the table is stored, when it is. */
  readonly path?: string;
}

/**
 * The saving at any width: linear between measured points (and 0 at the full width), extrapolated below the
 * narrowest point along the last segment, and made monotone (a narrower group never saves less: a measured dip is
 * timing noise), never negative.
 */
export function savingAt(curve: CostCurve, units: number): number {
  const pts = monotone(curve);
  if (units >= curve.units) return 0;
  for (let i = 1; i < pts.length; i++) {
    const hi = pts[i - 1]!;
    const lo = pts[i]!;
    if (units >= lo.units) return lerp(hi, lo, units);
  }
  if (pts.length < 2) return 0;
  const [hi, lo] = [pts.at(-2)!, pts.at(-1)!];
  return Math.max(lo.saving, lerp(hi, lo, units));
}

/** Points from the full width down, savings made non-decreasing as the width falls. */
function monotone(curve: CostCurve): CostPoint[] {
  const pts = [{ units: curve.units, saving: 0 }, ...curve.points.filter((p) => p.units < curve.units)].sort((a, b) => b.units - a.units);
  let best = 0;
  return pts.map((p) => {
    best = Math.max(best, p.saving);
    return { units: p.units, saving: best };
  });
}

function lerp(hi: CostPoint, lo: CostPoint, units: number): number {
  if (hi.units === lo.units) return hi.saving;
  return hi.saving + ((hi.units - units) / (hi.units - lo.units)) * (lo.saving - hi.saving);
}

/**
 * Two groups whose savings overlap: a node between them (a conv whose input channels are one group's and output
 * channels the other's) is counted in both groups' savings. If a node's time is bilinear in its input and output
 * widths (t = α + β·x + γ·y + δ·x·y, x and y the kept fractions), the two savings add up to the joint one plus
 * δ·(1 − x)·(1 − y); `weight` is that δ, summed over the shared nodes, as a fraction of the model's latency.
 */
export interface Interaction {
  readonly a: string;
  readonly b: string;
  readonly weight: number;
}

/**
 * The interaction weight from one joint measurement: `joint` saved with a at kept fraction fa and b at fb together,
 * `sa` and `sb` each alone at the same widths. Never negative (a negative estimate is timing noise).
 */
export function interactionWeight(sa: number, sb: number, joint: number, fa: number, fb: number): number {
  const span = (1 - fa) * (1 - fb);
  return span > 0 ? Math.max(0, (sa + sb - joint) / span) : 0;
}

/**
 * The predicted latency (fraction of the original) with each group at `widths` (units; `full` gives each group's
 * full width): 1 − Σ savings + Σ overlaps.
 */
export function predictLatency(curves: ReadonlyMap<string, CostCurve>, widths: ReadonlyMap<string, number>, interactions: readonly Interaction[] = []): number {
  let latency = 1;
  for (const [key, units] of widths) {
    const c = curves.get(key);
    if (c) latency -= savingAt(c, units);
  }
  const cut = (key: string): number => {
    const c = curves.get(key);
    const w = widths.get(key);
    return c && w !== undefined ? 1 - w / c.units : 0;
  };
  for (const i of interactions) latency += i.weight * cut(i.a) * cut(i.b);
  return latency;
}
