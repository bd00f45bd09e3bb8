import type { LatencyTargetReport } from './policy/latencyTarget.js';
import type { DecoderReport } from './decoderReport.js';
import type { Coupling, GraphSummary, ScoringMethod } from './scoring/index.js';

export type { DecoderReport, SizeChange } from './decoderReport.js';

/**
 * What centralityPrune says about a run: the pass's result. The document `prune --report` saves adds the CLI's
 * fields to it (src/report/schema.ts, which also holds its schema version and runtime check).
 */

export type Scope = 'dense' | 'conv' | 'all';

export interface GroupReport {
  id: number;
  producers: string[];
  kind: 'dense' | 'conv';
  channels: number;
  /** Unit indices into the original group, ascending; kept ∪ removed = 0..channels−1. */
  kept: number[];
  removed: number[];
  method?: string;
  scores?: number[];
  iterations?: number;
  converged?: boolean;
  components?: number;
  edges?: number;
  density?: number;
  /** Graph criteria: the similarity graph at τ (one per producer with 'average' coupling): degrees, drawable edges. */
  graphs?: GraphSummary[];
  note?: string;
  /** Params and MACs of the group's producer layers before and after (their inputs may shrink through other groups). */
  layer?: { params: { before: number; after: number }; macs: { before: number; after: number } };
  /** Why the group was left alone (declined by the engine, out of scope, excluded, a residual stream kept). */
  declined?: string;
  /** A residual stream: the node that adds its producers' channels (see ChannelGroup.residual). */
  residual?: string;
  /** removed / channels: the fraction actually removed, after rounding and floors. */
  removedRatio?: number;
  /** Per-unit liveness on the calibration data, when the run had some (`activeFraction[u]`: see CalibrationStats). */
  calibration?: CalibrationReport;
  /** Bias compensation: consumers corrected for the removed units, and any left out with the reason. */
  compensation?: { consumers: number; note?: string };
}

/** Per-unit liveness on calibration data. */
export interface CalibrationReport {
  /** For each unit of the group: the fraction of calibration samples on which it was active (output not zero). */
  activeFraction: number[];
  /** How many samples were run. */
  samples?: number;
}

/** What --target-macs / --target-params asked for and what the chosen ratio reached. */
export interface TargetReport {
  measure: 'macs' | 'params';
  /** The requested fraction of the original. */
  fraction: number;
  /** The fraction reached: after / before. */
  reached: number;
  /** False when even the largest ratio searched does not reach the fraction (the model is pruned that far). */
  met: boolean;
}

/** The options of the run beyond method, ratio, threshold and scope (which the report gives at its top level). */
export interface ReportedOptions {
  weighted: boolean;
  keep: 'central' | 'peripheral';
  coupling: Coupling;
  seed: number;
  global: boolean;
  /** --prune-residual: residual streams were pruned too (absent in reports written before it existed). */
  pruneResidual?: boolean;
  roundTo: number;
  minChannels: number;
  layers?: string[];
  exclude?: string[];
  /** --layer-ratios: the rules in order (the first matching pattern wins). */
  layerRatios?: { pattern: string; ratio: number }[];
  /** --uniform-heads / --no-uniform-heads when given (the default depends on the model: see `decoder`). */
  uniformHeads?: boolean;
  /** With calibration data: whether bias compensation ran. */
  compensate?: boolean;
}

export interface PruneReport {
  method: ScoringMethod;
  /** The ratio applied: --ratio, or the one the target search chose. */
  ratio: number;
  threshold: number;
  scope: Scope;
  options: ReportedOptions;
  params: { before: number; after: number };
  macs: { before: number; after: number };
  timings: { analyzeMs: number; scoreMs: number; rewriteMs: number };
  groups: GroupReport[];
  target?: TargetReport;
  /**
   * Prunable groups --scope left out (that --layers / --exclude would have kept), by kind; present only when there
   * are some, so a run that pruned nothing can say what `--scope all` would prune.
   */
  outOfScope?: { dense: number; conv: number };
  /** In-scope residual streams left at full width (no --prune-residual); present only when there are some. */
  residualKept?: number;
  /** --target-latency: predicted and measured latency of the chosen widths. */
  latencyTarget?: LatencyTargetReport;
  /** The channel multiple kept counts were rounded to, and why; absent when not rounded. */
  rounding?: { multiple: number; dense: boolean; reason: string };
  /** A decoder with a KV cache: the new cache shapes and the sizes its runtime config states. */
  decoder?: DecoderReport;
}
