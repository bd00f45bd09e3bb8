import { fail } from '../../ir/errors.js';
import { degreeCentrality, l1Norm, l2Norm, randomScores } from './baselines.js';
import { eigenvectorCentrality, type CentralityOptions, type CentralityResult } from './eigenvector.js';
import { summarizeGraph, type GraphSummary } from './graphSummary.js';
import { channelSimilarityGraph, type SimilarityOptions } from './similarity.js';
import { channelCount, type UnitVectors } from './types.js';

export const SCORING_METHODS = ['eigenvector', 'degree', 'l1', 'l2', 'random'] as const;
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
}

/** One group's channel scores by the named criterion (higher = more central / more important). */
export async function scoreChannels(vectors: readonly UnitVectors[], opts: ScoreOptions): Promise<ChannelScores> {
  const { method, seed = 0, emptyFallback = 'l2' } = opts;
  const n = channelCount(vectors);
  switch (method) {
    case 'l1': return { scores: l1Norm(vectors), method };
    case 'l2': return { scores: l2Norm(vectors), method };
    case 'random': return { scores: randomScores(n, seed), method };
    case 'eigenvector':
    case 'degree': {
      const graph = await channelSimilarityGraph(vectors, opts);
      const edges = graph.parts.reduce((s, p) => s + p.edgeCount, 0);
      const info = { edges, density: graph.parts.reduce((s, p) => s + p.density, 0) / graph.parts.length, parts: graph.parts.map(summarizeGraph) };
      const centrality = method === 'eigenvector' ? eigenvectorCentrality(graph, opts) : undefined;
      if (edges === 0) {
        const fell = await scoreChannels(vectors, { ...opts, method: emptyFallback });
        const fellBack = `no edge above τ = ${graph.threshold}: ${method} scores are all 0, scored by ${emptyFallback} instead`;
        return { ...fell, fellBack, graph: info, ...(centrality ? { centrality } : {}) };
      }
      const scores = centrality ? centrality.scores : degreeCentrality(graph);
      return { scores, method, graph: info, ...(centrality ? { centrality } : {}) };
    }
    default:
      return fail(`unknown scoring method '${method as string}' (expected ${SCORING_METHODS.join(', ')})`);
  }
}
