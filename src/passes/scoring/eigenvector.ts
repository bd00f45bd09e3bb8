import { fail } from '../../ir/errors.js';
import { perComponentCentrality } from './perComponent.js';
import { networkxPowerIteration } from './powerIteration.js';
import type { SimilarityGraph } from './similarity.js';
import { SparseGraph } from './sparseGraph.js';

export interface CentralityOptions {
  /** networkx's tol: stop when the L1 change of the unit vector is below n·tol. Default 1e-6. */
  tol?: number;
  /** Power iterations before falling back (networkx's max_iter). Default 100. */
  maxIter?: number;
  /**
   * 'fallback' (default): networkx's answer whenever its power iteration converges; the per-component definition only
   * when it does not. 'always': the per-component definition for every graph (one ranking rule, whatever converges).
   */
  perComponent?: 'fallback' | 'always';
}

export type CentralityMethod = 'power-iteration' | 'per-component' | 'empty';

export interface CentralityResult {
  /** One score per channel; unit L2 norm (all 0 for an empty graph). */
  scores: Float64Array;
  /** Power iterations run (all parts together for 'average' coupling). */
  iterations: number;
  /** False only when even the fallback eigensolver missed its tolerance (the scores are then its best estimate). */
  converged: boolean;
  /** How the scores were obtained; several joined by '+' when the parts of an 'average' group differ. */
  method: string;
  /** Connected components, isolated nodes included (the largest over parts for 'average' coupling). */
  components: number;
  /** Nodes with no edge above τ (the largest count over parts for 'average' coupling). */
  isolated: number;
  /** No edge above τ at all (in any part): every score is 0 and the caller should use another criterion. */
  empty: boolean;
  /** Human-readable account of anything unusual: disconnection, fallback, emptiness. */
  note?: string;
  /** Per-producer results, for 'average' coupling. */
  parts?: CentralityResult[];
}

/**
 * Eigenvector centrality of the similarity graph (paper §3.2), computed as networkx.eigenvector_centrality(G,
 * weight='weight') does (see powerIteration.ts). It never fails:
 * - no edge above τ → every score 0, `empty: true`, method 'empty';
 * - power iteration converges (even on a disconnected graph, where networkx converges to the dominant component and
 *   leaves the others small residues) → networkx's answer, method 'power-iteration', with a note on disconnection;
 * - otherwise (top eigenvalues too close: typically several components of similar strength, as at τ = 0.8) → the
 *   per-component definition of perComponent.ts, solved by Jacobi/Lanczos, method 'per-component'.
 * For 'average' coupling each producer's graph is scored so and the unit score vectors are averaged.
 */
export function eigenvectorCentrality(graph: SimilarityGraph | SparseGraph, opts: CentralityOptions = {}): CentralityResult {
  const { tol = 1e-6, maxIter = 100, perComponent = 'fallback' } = opts;
  if (!(tol > 0)) fail(`centrality tolerance must be positive, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) fail(`maxIter must be a positive integer, got ${maxIter}`);
  const parts = graph instanceof SparseGraph ? [graph] : graph.parts;
  const results = parts.map((p) => centralityOfPart(p, tol, maxIter, perComponent));
  if (results.length === 1) return results[0]!;
  return averageResults(results);
}

function centralityOfPart(graph: SparseGraph, tol: number, maxIter: number, perComponent: 'fallback' | 'always'): CentralityResult {
  const { n } = graph;
  const comps = graph.components();
  const isolated = comps.sizes.filter((s) => s === 1).length;
  const base = { components: comps.count, isolated };
  if (graph.edgeCount === 0) {
    return { ...base, scores: new Float64Array(n), iterations: 0, converged: true, method: 'empty', empty: true, note: `no edge above the threshold among ${n} channels: every score is 0` };
  }
  let iterations = 0;
  let why: string;
  if (perComponent === 'fallback') {
    const power = networkxPowerIteration(graph, maxIter, tol);
    iterations = power.iterations;
    if (power.converged) {
      const note = comps.count > 1
        ? `${comps.count} components (${isolated} isolated nodes): power iteration converged to the dominant component; the others keep small residual scores`
        : undefined;
      return { ...base, scores: power.x, iterations, converged: true, method: 'power-iteration', empty: false, ...(note ? { note } : {}) };
    }
    why = `power iteration did not converge in ${maxIter} iterations`;
  } else why = 'per-component definition requested';
  const pc = perComponentCentrality(graph, comps);
  const top = [...pc.eigenvalues].sort((a, b) => b - a).slice(0, 3).map((l) => l.toPrecision(6));
  const note = `${why}; ${comps.count} components (${isolated} isolated nodes), top eigenvalues ${top.join(', ')}: ` +
    `scores are each component's principal eigenvector scaled by λ_c/λ_max` +
    (pc.steps ? ` (${pc.steps} Lanczos steps${pc.converged ? '' : ', NOT converged'})` : '');
  return { ...base, scores: pc.scores, iterations, converged: pc.converged, method: 'per-component', empty: false, note };
}

/** 'average' coupling: the mean of the per-producer unit score vectors. */
function averageResults(results: CentralityResult[]): CentralityResult {
  const n = results[0]!.scores.length;
  const scores = new Float64Array(n);
  for (const r of results) for (let i = 0; i < n; i++) scores[i] += r.scores[i] / results.length;
  const methods = [...new Set(results.map((r) => r.method))];
  const notes = results.flatMap((r, p) => (r.note ? [`producer ${p}: ${r.note}`] : []));
  const empty = results.every((r) => r.empty);
  return {
    scores,
    iterations: results.reduce((s, r) => s + r.iterations, 0),
    converged: results.every((r) => r.converged),
    method: methods.join('+'),
    components: Math.max(...results.map((r) => r.components)),
    isolated: Math.max(...results.map((r) => r.isolated)),
    empty,
    ...(notes.length ? { note: notes.join('; ') } : {}),
    parts: results,
  };
}
