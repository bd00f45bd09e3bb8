import { fail } from '../../ir/errors.js';
import { activationSimilarityGraph, flapScores, liveFirst, unreadConsumers, wandaScores, type UnitActivations } from './activations.js';
import { degreeCentrality, l1Norm, l2Norm, randomScores } from './baselines.js';
import { eigenvectorCentrality, type CentralityOptions, type CentralityResult } from './eigenvector.js';
import { summarizeGraph, type GraphSummary } from './graphSummary.js';
import { channelSimilarityGraph, type SimilarityGraph, type SimilarityOptions } from './similarity.js';
import { channelCount, type UnitVectorSource } from './types.js';

export const SCORING_METHODS = [
  'eigenvector', 'degree', 'l1', 'l2', 'random', 'activation-eigenvector', 'live-eigenvector', 'wanda', 'flap',
] as const;
export type ScoringMethod = (typeof SCORING_METHODS)[number];

export interface ScoreOptions extends SimilarityOptions, CentralityOptions {
  method: ScoringMethod;
  /** Seed for 'random' (default 0). */
  seed?: number;
  /** Criterion used when the graph has no edge above τ (eigenvector/degree scores would all be 0). Default 'l2'. */
  emptyFallback?: 'l1' | 'l2' | 'random';
}

export interface ChannelScores {
  scores: Float64Array;
  /** The criterion that produced `scores`: the requested one, or emptyFallback when the graph was empty. */
  method: ScoringMethod;
  /** Set when the requested graph criterion fell back: why. */
  fellBack?: string;
  /** Graph criteria: edges (over all parts), density, each part's degrees and drawable edges, and the centrality report. */
  graph?: { edges: number; density: number; parts: GraphSummary[] };
  centrality?: CentralityResult;
  /** Anything else the reader should know about how the scores were made (units removed first, consumers left out). */
  note?: string;
}

/** What a criterion scores: the producers' weight vectors, and the group's activations when calibration data ran. */
export interface ScoringInput {
  readonly vectors: readonly UnitVectorSource[];
  readonly activations?: UnitActivations;
}

/**
 * A pruning criterion (higher score = more important, kept first). The table below holds every built-in one; each is
 * documented with its formula and source in README.md.
 */
export interface Criterion {
  /** One line for --help and reports. */
  readonly summary: string;
  /** What beyond the weights it needs: calibration statistics, and among them the activation Gram. */
  readonly needs: 'weights' | 'calibration' | 'gram';
  score(input: ScoringInput, opts: ScoreOptions): Promise<ChannelScores>;
}

export const CRITERIA: Readonly<Record<ScoringMethod, Criterion>> = {
  eigenvector: {
    summary: 'eigenvector centrality of the weight-similarity graph (the paper)', needs: 'weights',
    score: async ({ vectors }, opts) => graphCriterion(await channelSimilarityGraph(vectors, opts), 'eigenvector', vectors, opts),
  },
  degree: {
    summary: 'degree centrality of the weight-similarity graph', needs: 'weights',
    score: async ({ vectors }, opts) => graphCriterion(await channelSimilarityGraph(vectors, opts), 'degree', vectors, opts),
  },
  l1: { summary: 'L1 norm of the weight vector', needs: 'weights', score: async ({ vectors }) => ({ scores: l1Norm(vectors), method: 'l1' }) },
  l2: { summary: 'L2 norm of the weight vector', needs: 'weights', score: async ({ vectors }) => ({ scores: l2Norm(vectors), method: 'l2' }) },
  random: {
    summary: 'seeded uniform random scores', needs: 'weights',
    score: async ({ vectors }, opts) => ({ scores: randomScores(channelCount(vectors), opts.seed ?? 0), method: 'random' }),
  },
  'activation-eigenvector': {
    summary: 'eigenvector centrality of the similarity graph of the units\' activations on the calibration data', needs: 'gram',
    score: async ({ vectors, activations }, opts) => {
      if (!activations) return fallBack(vectors, opts, NO_STATISTICS);
      if (!activations.gram) return fallBack(vectors, opts, `no activation Gram (${activations.gramNote ?? 'not collected'})`);
      return graphCriterion(activationSimilarityGraph(activations.gram, activations.units, opts), 'activation-eigenvector', vectors, opts);
    },
  },
  'live-eigenvector': {
    summary: 'weight eigenvector centrality, units never active on the calibration data removed first', needs: 'calibration',
    score: async (input, opts) => {
      const a = input.activations;
      if (!a) return fallBack(input.vectors, opts, NO_STATISTICS);
      const base = await CRITERIA.eigenvector.score(input, { ...opts, method: 'eigenvector' });
      const { scores, dead } = liveFirst(base.scores, a.activeFraction);
      const note = `${dead} of ${a.units} units never active on ${a.samples} calibration samples${dead ? ': ranked below every live unit' : ''}`;
      return { ...base, scores, method: 'live-eigenvector', note: [base.note, note].filter(Boolean).join('; ') };
    },
  },
  wanda: {
    summary: 'Wanda-sp: Σ |W|·‖X‖₂ over the consumers\' weights the unit feeds', needs: 'calibration',
    score: async ({ vectors, activations }, opts) => consumerCriterion(activations, 'wanda', wandaScores, vectors, opts),
  },
  flap: {
    summary: 'FLAP fluctuation: activation variance × squared norm of the consumers\' weights it feeds', needs: 'calibration',
    score: async ({ vectors, activations }, opts) => consumerCriterion(activations, 'flap', flapScores, vectors, opts),
  },
};

/** Why a calibrated criterion had to fall back for a group (the pass refuses such a criterion without calibration at all). */
const NO_STATISTICS = 'no calibration statistics for this group';

/** One group's channel scores by the named criterion (higher = more central / more important). */
export async function scoreChannels(vectors: readonly UnitVectorSource[], opts: ScoreOptions, activations?: UnitActivations): Promise<ChannelScores> {
  const criterion = CRITERIA[opts.method] as Criterion | undefined;
  if (!criterion) return fail(`unknown scoring method '${opts.method as string}' (expected ${SCORING_METHODS.join(', ')})`);
  return criterion.score({ vectors, ...(activations ? { activations } : {}) }, opts);
}

/** Whether the criterion needs calibration data (and so `--calib`). */
export function needsCalibration(method: ScoringMethod): boolean {
  return CRITERIA[method].needs !== 'weights';
}

/** Eigenvector or degree centrality on a similarity graph, falling back to `emptyFallback` when it has no edge. */
async function graphCriterion(graph: SimilarityGraph, method: 'eigenvector' | 'degree' | 'activation-eigenvector', vectors: readonly UnitVectorSource[], opts: ScoreOptions): Promise<ChannelScores> {
  const edges = graph.parts.reduce((s, p) => s + p.edgeCount, 0);
  const info = { edges, density: graph.parts.reduce((s, p) => s + p.density, 0) / graph.parts.length, parts: graph.parts.map(summarizeGraph) };
  const centrality = method === 'degree' ? undefined : eigenvectorCentrality(graph, opts);
  if (edges === 0) {
    const fell = await fallBack(vectors, opts, `no edge above τ = ${graph.threshold}: ${method} scores are all 0`, graph.norms);
    return { ...fell, graph: info, ...(centrality ? { centrality } : {}) };
  }
  const scores = centrality ? centrality.scores : degreeCentrality(graph);
  return { scores, method, graph: info, ...(centrality ? { centrality } : {}) };
}

async function consumerCriterion(a: UnitActivations | undefined, method: 'wanda' | 'flap', score: (a: UnitActivations) => Float64Array, vectors: readonly UnitVectorSource[], opts: ScoreOptions): Promise<ChannelScores> {
  if (!a) return fallBack(vectors, opts, NO_STATISTICS);
  if (!a.consumers.some((c) => c.weightAbs)) return fallBack(vectors, opts, `${method}: no consumer weights to read${a.consumers.length ? ` (${unreadConsumers(a)})` : ''}`);
  const note = unreadConsumers(a);
  return { scores: score(a), method, ...(note ? { note } : {}) };
}

/**
 * Scores by `emptyFallback` (default l2) when the requested criterion has nothing to go on, saying why. `norms`: the
 * l2 scores when a weight graph already computed them (the weights are then not read again).
 */
async function fallBack(vectors: readonly UnitVectorSource[], opts: ScoreOptions, why: string, norms?: Float64Array): Promise<ChannelScores> {
  const { emptyFallback = 'l2' } = opts;
  const fell = emptyFallback === 'l2' && norms ? { scores: norms, method: 'l2' as const } : await CRITERIA[emptyFallback].score({ vectors }, { ...opts, method: emptyFallback });
  return { ...fell, fellBack: `${why}, scored by ${emptyFallback} instead` };
}
