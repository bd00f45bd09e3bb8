import { mulberry32 } from '../../ir/random.js';
import type { SimilarityGraph } from './similarity.js';
import { SparseGraph } from './sparseGraph.js';
import { channelCount, loadVectors, type UnitVectorSource } from './types.js';

/**
 * Degree centrality as networkx.degree_centrality: neighbours / (n − 1) (weighted: the sum of edge weights instead
 * of the count). For 'average' coupling, the mean over producers' graphs.
 */
export function degreeCentrality(graph: SimilarityGraph | SparseGraph, opts: { weighted?: boolean } = {}): Float64Array {
  const parts = graph instanceof SparseGraph ? [graph] : graph.parts;
  const n = parts[0]!.n;
  const scores = new Float64Array(n);
  const scale = n > 1 ? 1 / ((n - 1) * parts.length) : 1 / parts.length;
  for (const p of parts) {
    const deg = p.degrees(opts.weighted ?? false);
    for (let i = 0; i < n; i++) scores[i] += deg[i] * scale;
  }
  return scores;
}

/** Σ term(w_k) over each channel's raw vector, summed over a coupled group's producers. */
function sumPerChannel(vectors: readonly UnitVectorSource[], term: (x: number) => number): Float64Array {
  const sums = new Float64Array(channelCount(vectors));
  for (const [p, v] of vectors.entries()) {
    const { rows, n, d } = loadVectors(v, p);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = j * d, end = k + d; k < end; k++) s += term(rows[k]!);
      sums[j] += s;
    }
  }
  return sums;
}

/** Σ|w| of each channel's raw (unnormalised) vector, summed over a coupled group's producers. */
export function l1Norm(vectors: readonly UnitVectorSource[]): Float64Array {
  return sumPerChannel(vectors, Math.abs);
}

/** ‖w‖₂ of each channel's raw vector (over a coupled group: the norm of the concatenation). */
export function l2Norm(vectors: readonly UnitVectorSource[]): Float64Array {
  return sumPerChannel(vectors, (x) => x * x).map(Math.sqrt);
}

/** Uniform [0, 1) scores from a seeded PRNG: the same seed gives the same scores everywhere. */
export function randomScores(n: number, seed: number): Float64Array {
  const next = mulberry32(seed);
  return Float64Array.from({ length: n }, next);
}
