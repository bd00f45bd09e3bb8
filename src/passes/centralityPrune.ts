import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import { modelStats, type ModelStats } from '../ir/stats.js';
import { decodeModel } from '../ir/load.js';
import { encodeModel } from '../ir/save.js';
import { analyze } from './dependency/analyze.js';
import type { ChannelGroup } from './dependency/groups.js';
import { channelVectors } from './channelVectors.js';
import { pruneChannels } from './pruneChannels.js';
import { unitVectors } from './unitVectors.js';
import { anyMatches, nameMatcher } from './policy/layerFilter.js';
import { ratioFor, type LayerRatios } from './policy/layerRatios.js';
import { globalRemovalCounts } from './policy/globalRanking.js';
import { searchRatio } from './policy/targetSearch.js';
import { channelsPerUnit, keptUnitsLattice } from './policy/rounding.js';
import type { LatencyMeter } from './policy/latencyTable.js';
import { planForLatency, type LatencyTargetReport } from './policy/latencyTarget.js';
import { kvGroupNote, uniformHeads, type HeadsChoice } from './policy/uniformHeads.js';
import { decoderReport } from './decoderReport.js';
import { cachePairs } from '../ir/kvCache.js';
import { needsCalibration, releaseGramSessions, scoreChannels, selectKeep, type ChannelScores, type Coupling, type ScoringMethod } from './scoring/index.js';
import type { CalibrationStats } from './calibrationStats.js';
import { groupActivations } from './groupActivations.js';
import { applyCompensation, planCompensation, type CompensationPlan } from './compensate.js';

import type { GroupReport, PruneReport, ReportedOptions, Scope, TargetReport } from './pruneReport.js';

export type { GroupReport, PruneReport, ReportedOptions, Scope, TargetReport } from './pruneReport.js';

export interface CentralityPruneOptions {
  /** p: fraction of each group's channels to remove (default 0.3). */
  ratio: number;
  /** τ: similarity threshold for an edge (default 0.2). */
  threshold: number;
  method: ScoringMethod;
  scope: Scope;
  /** false: every edge weighs 1 (--unweighted). */
  weighted: boolean;
  keep: 'central' | 'peripheral';
  coupling: Coupling;
  seed: number;
  /** Only groups whose producers match one of these (globs or /regex/). */
  layers?: readonly string[];
  exclude?: readonly string[];
  layerRatios?: LayerRatios;
  /** One ranking across all groups instead of the same ratio per group. */
  global: boolean;
  /**
   * Prune residual streams too (groups whose channels several producers add up: a residual Add). Off by default: a
   * residual stream's channels are read and written by every block of its stage, and cutting them shrinks the
   * compute-bound convs on both sides (MACs fall as the square of the kept fraction) while the memory-bound work
   * (depthwise convs, activations, Adds) falls only linearly, so the model gets thinner faster than it gets faster.
   */
  pruneResidual: boolean;
  /** Round each group's kept channel count to the nearest multiple of this (1: exact ⌊p·n⌋). */
  roundTo: number;
  /** false: round conv groups only (on the CPU, dense widths gain nothing from multiples). */
  roundDense: boolean;
  /** Why this multiple (for the report, e.g. "AVX2 NCHWc block"). */
  roundReason?: string;
  minChannels: number;
  /**
   * The same number of heads (KV groups) removed in every attention group (--uniform-heads); undefined: on for a
   * decoder with a KV cache, whose runtime allocates one cache shape for all layers.
   */
  uniformHeads?: boolean;
  /** Choose the ratio so MACs (or params) fall to this fraction of the original. */
  targetMacs?: number;
  targetParams?: number;
  /** Choose per-group widths so the measured latency falls to this fraction of the original's (needs latencyMeter). */
  targetLatency?: number;
  /** Times models on the target execution provider (src/runtime/layerCosts.ts); the pass itself never runs one. */
  latencyMeter?: LatencyMeter;
  onProgress?: (done: number, total: number, label: string) => void;
  /**
   * Calibration statistics per group id (`collectCalibration` in src/runtime/calibration measures them): what the
   * activation-aware criteria score and bias compensation corrects with. Groups without an entry have none.
   */
  calibration?: ReadonlyMap<number, CalibrationStats>;
  /** Add each removed unit's mean contribution to its consumers' biases (FLAP's bias compensation; needs calibration). */
  compensate?: boolean;
}

export const DEFAULT_PRUNE_OPTIONS: CentralityPruneOptions = {
  ratio: 0.3, threshold: 0.2, method: 'eigenvector', scope: 'dense', weighted: true, keep: 'central', coupling: 'concat',
  seed: 0, global: false, pruneResidual: false, roundTo: 1, roundDense: true, minChannels: 1,
};

/**
 * The paper's pass: find the channel groups, score every channel of each in-scope group (eigenvector centrality of
 * the cosine-similarity graph, or a baseline criterion), drop the least central ⌊p·n⌋, and rewrite the model.
 * Pre: a loaded model. Post: the model is rewritten in place (valid under onnxruntime); the report says what
 * happened to every group, pruned or not.
 */
export async function centralityPrune(model: Model, options: Partial<CentralityPruneOptions> = {}): Promise<PruneReport> {
  const opts = { ...DEFAULT_PRUNE_OPTIONS, ...options };
  checkOptions(opts);
  const before = modelStats(model);
  const t0 = performance.now();
  const groups = analyze(model);
  const t1 = performance.now();
  const reports = new Map<number, GroupReport>();
  const scored: { group: ChannelGroup; scores: ChannelScores }[] = [];
  const inScope = groups.filter((g) => {
    const why = skipReason(g, opts);
    if (why) reports.set(g.id, baseReport(g, why));
    return !why;
  });
  // Of the prunable groups --layers / --exclude select: residual streams kept in scope, the others out of scope.
  const outOfScope = { dense: 0, conv: 0 };
  let residualKept = 0;
  for (const g of groups) {
    if (!g.prunable || selectionReason(g, opts)) continue;
    if (residualReason(g, opts)) residualKept += inScopeOf(g, opts.scope) ? 1 : 0;
    else if (!inScopeOf(g, opts.scope)) outOfScope[g.kind]++;
  }
  for (const [i, group] of inScope.entries()) {
    opts.onProgress?.(i, inScope.length, group.producers[0]?.label ?? `group ${group.id}`);
    const stats = opts.calibration?.get(group.id);
    const activations = stats && needsCalibration(opts.method) ? groupActivations(model, group, stats) : undefined;
    const scores = await scoreChannels(unitVectors(group.channels, channelVectors(group)), {
      method: opts.method, threshold: opts.threshold, weighted: opts.weighted, coupling: opts.coupling, seed: opts.seed + group.id,
    }, activations);
    scored.push({ group, scores });
  }
  opts.onProgress?.(inScope.length, inScope.length, 'scored');
  // The GEMM sessions are cached across groups; their memory is not needed for the rewrite and save.
  await releaseGramSessions();
  const t2 = performance.now();

  const uniform = opts.uniformHeads ?? cachePairs(model.graph).length > 0;
  const ratios = new Map<number, number>();
  let uniformRemoved: number | undefined;
  const keepFor = (ratioOf: (g: ChannelGroup, i: number) => number): Map<number, number[]> => {
    const choices: HeadsChoice[] = scored.map(({ group, scores }, i) => {
      const ratio = ratioOf(group, i);
      ratios.set(group.id, ratio);
      const sel = selectKeep(scores.scores, { ratio, keep: opts.keep, minChannels: opts.minChannels, ...roundingFor(group, opts) });
      return { group, scores: scores.scores, keep: sel.keep };
    });
    uniformRemoved = uniform ? uniformHeads(choices, opts.keep) : undefined;
    return new Map(choices.map((c) => [c.group.id, keepNonEmpty(c.keep, c.group, c.scores, opts.keep)]));
  };
  const plan = (ratio: number): Map<number, number[]> => {
    if (!opts.global) return keepFor((g) => ratioFor(opts.layerRatios, g.producers.map((n) => n.name), ratio));
    const counts = globalRemovalCounts(scored.map(({ scores }) => ({ scores: scores.scores, minKeep: opts.minChannels })), ratio, opts.keep);
    return keepFor((g, i) => counts[i]! / g.channels);
  };

  let ratio = opts.ratio;
  const target = opts.targetMacs ?? opts.targetParams;
  const measure = opts.targetMacs !== undefined ? 'macs' : 'params';
  if (target !== undefined) {
    const goal = target * before[measure];
    // Exact: each candidate ratio is applied to a fresh copy and measured (pruning more never costs more).
    const original = encodeModel(model);
    ratio = await searchRatio((p) => {
      const copy = decodeModel(original, { baseDir: model.baseDir });
      return modelStats(pruneChannels(copy, plan(p)))[measure] <= goal;
    });
  }
  let latencyTarget: LatencyTargetReport | undefined;
  let keep: Map<number, number[]>;
  if (opts.targetLatency !== undefined) {
    const original = encodeModel(model);
    const widths = await planForLatency(model, original, scored.map(({ group, scores }) => {
      const r = roundingFor(group, opts);
      return { group, scores: scores.scores, lattice: keptUnitsLattice(group.channels, { multiple: r.roundTo, unitChannels: r.unitChannels, floor: opts.minChannels }) };
    }), {
      target: opts.targetLatency, keep: opts.keep, meter: opts.latencyMeter!, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      candidate: (units) => pruneChannels(decodeModel(original, { baseDir: model.baseDir }), keepFor((g) => 1 - units.get(g.id)! / g.channels)),
    });
    latencyTarget = widths.report;
    keep = keepFor((g) => 1 - widths.units.get(g.id)! / g.channels);
    const total = scored.reduce((s, { group }) => s + group.channels, 0);
    ratio = total ? scored.reduce((s, { group }) => s + group.channels - widths.units.get(group.id)!, 0) / total : 0;
  } else keep = plan(ratio);
  // Groups that keep every channel are left out, so a model with nothing to remove is written back unchanged.
  const changes = new Map(scored.filter(({ group }) => keep.get(group.id)!.length < group.channels).map(({ group }) => [group.id, keep.get(group.id)!]));
  // Compensation reads the consumers' full weights, so it is planned before the rewrite and applied after it.
  const compensation: CompensationPlan | undefined = opts.compensate && changes.size > 0 ? planCompensation(model, changes, opts.calibration!) : undefined;
  if (changes.size > 0) pruneChannels(model, changes);
  if (compensation) applyCompensation(model, compensation);
  const t3 = performance.now();
  const after = modelStats(model);

  for (const { group, scores } of scored) {
    const kept = keep.get(group.id)!;
    const keptSet = new Set(kept);
    const c = scores.centrality;
    reports.set(group.id, {
      ...baseReport(group),
      kept,
      removed: Array.from({ length: group.channels }, (_, i) => i).filter((i) => !keptSet.has(i)),
      method: scores.method,
      scores: Array.from(scores.scores),
      ...(c ? { iterations: c.iterations, converged: c.converged, components: c.components } : {}),
      ...(scores.graph ? { edges: scores.graph.edges, density: scores.graph.density, graphs: scores.graph.parts } : {}),
      ...noteOf([scores.fellBack ?? c?.note, scores.note, kvGroupNote(group, group.channels - kept.length, ratios.get(group.id) ?? ratio),
        group.attention && uniformRemoved !== undefined ? `uniform heads: ${uniformRemoved} removed in every layer` : undefined]),
      layer: layerFigures(group, before, after),
      removedRatio: (group.channels - kept.length) / group.channels,
      ...calibrationFigures(opts.calibration?.get(group.id), compensation?.groups.get(group.id)),
    });
  }
  return {
    method: opts.method, ratio, threshold: opts.threshold, scope: opts.scope, options: reportedOptions(opts),
    params: { before: before.params, after: after.params },
    macs: { before: before.macs, after: after.macs },
    timings: { analyzeMs: t1 - t0, scoreMs: t2 - t1, rewriteMs: t3 - t2 },
    groups: groups.map((g) => reports.get(g.id)!),
    ...(target !== undefined ? { target: targetReport(measure, target, before[measure], after[measure]) } : {}),
    ...(outOfScope.dense + outOfScope.conv > 0 ? { outOfScope } : {}),
    ...(residualKept > 0 ? { residualKept } : {}),
    ...(latencyTarget ? { latencyTarget } : {}),
    ...(opts.roundTo > 1 ? { rounding: { multiple: opts.roundTo, dense: opts.roundDense, reason: opts.roundReason ?? `--round-to ${opts.roundTo}` } } : {}),
    ...optional('decoder', decoderReport(model, groups, new Map([...keep].map(([id, k]) => [id, k.length])), uniform)),
  };
}

/** The notes that apply, joined; none: no `note` field. */
function noteOf(notes: readonly (string | undefined)[]): { note?: string } {
  const said = notes.filter((n): n is string => !!n);
  return said.length ? { note: said.join('; ') } : {};
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

function calibrationFigures(stats: CalibrationStats | undefined, compensated: { consumers: number; note?: string } | undefined): Pick<GroupReport, 'calibration' | 'compensation'> {
  return {
    ...(stats ? { calibration: { activeFraction: Array.from(stats.activeFraction), samples: stats.samples } } : {}),
    ...(compensated ? { compensation: compensated } : {}),
  };
}

/** The groups a run with these options scores and prunes (prunable, in --scope, selected by --layers / --exclude). */
export function groupsInScope(model: Model, options: Partial<CentralityPruneOptions> = {}): ChannelGroup[] {
  const opts = { ...DEFAULT_PRUNE_OPTIONS, ...options };
  return analyze(model).filter((g) => !skipReason(g, opts));
}

function reportedOptions(o: CentralityPruneOptions): ReportedOptions {
  return {
    ...(o.uniformHeads !== undefined ? { uniformHeads: o.uniformHeads } : {}),
    weighted: o.weighted, keep: o.keep, coupling: o.coupling, seed: o.seed, global: o.global, pruneResidual: o.pruneResidual, roundTo: o.roundTo, minChannels: o.minChannels,
    ...(o.calibration ? { compensate: !!o.compensate } : {}),
    ...(o.layers ? { layers: [...o.layers] } : {}), ...(o.exclude ? { exclude: [...o.exclude] } : {}),
    ...(o.layerRatios ? { layerRatios: o.layerRatios.rules.map(({ pattern, ratio }) => ({ pattern, ratio })) } : {}),
  };
}

/** The rounding selectKeep applies to this group: none for dense groups when only conv groups are rounded. */
function roundingFor(g: ChannelGroup, o: CentralityPruneOptions): { roundTo: number; unitChannels: number } {
  const unitChannels = channelsPerUnit(g.producerChannels, g.channels);
  if (unitChannels === undefined || (g.kind === 'dense' && !o.roundDense)) return { roundTo: 1, unitChannels: 1 };
  return { roundTo: o.roundTo, unitChannels };
}

function targetReport(measure: 'macs' | 'params', fraction: number, before: number, after: number): TargetReport {
  const reached = before > 0 ? after / before : 1;
  return { measure, fraction, reached, met: after <= fraction * before };
}

/**
 * Some unit sets must keep a unit of their own (a Split segment, one Concat branch): when the ranking removed all of
 * one, its best-scoring unit is put back.
 */
function keepNonEmpty(keep: number[], group: ChannelGroup, scores: Float64Array, rule: 'central' | 'peripheral'): number[] {
  const kept = new Set(keep);
  for (const set of group.nonEmpty) {
    if (set.some((u) => kept.has(u))) continue;
    const sign = rule === 'central' ? 1 : -1;
    kept.add(set.reduce((best, u) => (sign * scores[u]! > sign * scores[best]! ? u : best)));
  }
  return [...kept].sort((a, b) => a - b);
}

function layerFigures(g: ChannelGroup, before: ModelStats, after: ModelStats): GroupReport['layer'] {
  const sum = (stats: ModelStats, key: 'params' | 'macs'): number => {
    const labels = new Set(g.producers.map((n) => n.label));
    return stats.perNode.reduce((acc, n) => acc + (labels.has(n.node) ? n[key] ?? 0 : 0), 0);
  };
  return {
    params: { before: sum(before, 'params'), after: sum(after, 'params') },
    macs: { before: sum(before, 'macs'), after: sum(after, 'macs') },
  };
}

function baseReport(g: ChannelGroup, declined?: string): GroupReport {
  const all = Array.from({ length: g.channels }, (_, i) => i);
  return {
    id: g.id, producers: g.producers.map((n) => n.label), kind: g.kind, channels: g.channels, kept: all, removed: [],
    ...(g.residual !== undefined ? { residual: g.residual } : {}),
    ...(declined ? { declined } : {}),
  };
}

function skipReason(g: ChannelGroup, o: CentralityPruneOptions): string | undefined {
  if (!g.prunable) return g.reason ?? 'declined by the dependency analysis';
  if (!inScopeOf(g, o.scope)) return `out of scope (${g.kind} group, --scope ${o.scope})`;
  return selectionReason(g, o) ?? residualReason(g, o);
}

/** Why a residual stream is left at full width, if it is. */
function residualReason(g: ChannelGroup, o: CentralityPruneOptions): string | undefined {
  return g.residual !== undefined && !o.pruneResidual ? `residual stream (channels added at ${g.residual}): kept at full width; --prune-residual prunes it` : undefined;
}

function inScopeOf(g: ChannelGroup, scope: Scope): boolean {
  return scope === 'all' || g.kind === scope;
}

/** Why --layers / --exclude leave the group alone, if they do. */
function selectionReason(g: ChannelGroup, o: CentralityPruneOptions): string | undefined {
  const names = g.producers.map((n) => n.name);
  if (o.layers?.length && !anyMatches(o.layers, names)) return 'not selected by --layers';
  if (o.exclude?.length && anyMatches(o.exclude, names)) return 'excluded by --exclude';
  return undefined;
}

function checkOptions(o: CentralityPruneOptions): void {
  if (needsCalibration(o.method) && !o.calibration) fail(`--method ${o.method} needs calibration data: give --calib <samples>`);
  if (o.compensate && !o.calibration) fail('--compensate needs calibration data: give --calib <samples>');
  if (!(o.ratio >= 0 && o.ratio < 1)) fail(`--ratio must be in [0, 1), got ${o.ratio}`);
  if (!(o.threshold >= -1 && o.threshold <= 1)) fail(`--threshold must be in [-1, 1], got ${o.threshold}`);
  if (o.targetMacs !== undefined && o.targetParams !== undefined) fail('give either --target-macs or --target-params, not both');
  if (o.global && o.layerRatios) fail('--global ranks all groups together: it cannot be combined with --layer-ratios');
  for (const t of [o.targetMacs, o.targetParams, o.targetLatency]) if (t !== undefined && !(t > 0 && t <= 1)) fail(`a --target-* fraction must be in (0, 1], got ${t}`);
  if (o.targetLatency !== undefined) {
    if (o.targetMacs !== undefined || o.targetParams !== undefined) fail('give one target: --target-latency cannot be combined with --target-macs or --target-params');
    if (o.global || o.layerRatios) fail('--target-latency chooses every group\'s width itself: it cannot be combined with --global or --layer-ratios');
    if (!o.latencyMeter) fail('--target-latency needs a latency meter (the CLI times models on onnxruntime)');
  }
  // Compiled up front: a bad pattern is an error even when no group reaches it (nothing in scope, nothing selected).
  for (const p of [...(o.layers ?? []), ...(o.exclude ?? [])]) nameMatcher(p);
}
