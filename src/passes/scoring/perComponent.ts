import { principalOfDense } from './jacobi.js';
import { principalEigenpair } from './lanczos.js';
import type { Components, SparseGraph } from './sparseGraph.js';

/** Components up to this size are solved densely (Jacobi); larger ones by Lanczos. */
const DENSE_MAX = 48;

export interface PerComponentResult {
  scores: Float64Array;
  /** Principal eigenvalue of each component (0 for an isolated node). */
  eigenvalues: Float64Array;
  converged: boolean;
  /** Matrix–vector products the Lanczos solves spent. */
  steps: number;
}

/**
 * Eigenvector centrality for a graph whose principal eigenvector is not well defined (several components with
 * near-equal top eigenvalues, or a gap too small for power iteration). Definition: in each connected component c,
 * take its principal eigenpair (λ_c, v_c), v_c ≥ 0 of unit L2 norm (Perron); node i of c scores (λ_c / λ_max)·v_c[i];
 * the whole vector is then scaled to unit L2 norm. So a component ranks by how strongly similar its members are
 * (λ_c grows with its size and edge weights), nodes rank by centrality within it, isolated nodes score 0, and on a
 * graph with a single non-trivial component this is exactly the limit networkx's power iteration converges to.
 */
export function perComponentCentrality(graph: SparseGraph, comps: Components, tol = 1e-10): PerComponentResult {
  const { n } = graph;
  const { label, count, sizes } = comps;
  const local = new Int32Array(n);
  const filled = new Int32Array(count);
  for (let i = 0; i < n; i++) local[i] = filled[label[i]]++;
  // Bucket every edge by component, in local indices.
  const start = new Int32Array(count + 1);
  graph.forEachEdge((i) => start[label[i] + 1]++);
  for (let c = 0; c < count; c++) start[c + 1] += start[c];
  const at = start.slice(0, count);
  const ei = new Int32Array(graph.edgeCount);
  const ej = new Int32Array(graph.edgeCount);
  const ew = new Float64Array(graph.edgeCount);
  graph.forEachEdge((i, j, w) => {
    const e = at[label[i]]++;
    ei[e] = local[i];
    ej[e] = local[j];
    ew[e] = w;
  });

  const eigenvalues = new Float64Array(count);
  const vectors: (Float64Array | null)[] = new Array(count).fill(null);
  let converged = true;
  let steps = 0;
  for (let c = 0; c < count; c++) {
    const m = sizes[c]!;
    if (m < 2) continue;
    const lo = start[c];
    const hi = start[c + 1];
    if (m <= DENSE_MAX) {
      const a = new Float64Array(m * m);
      for (let e = lo; e < hi; e++) a[ei[e] * m + ej[e]] = a[ej[e] * m + ei[e]] = ew[e];
      const { value, vector } = principalOfDense(a, m);
      eigenvalues[c] = value;
      vectors[c] = vector;
    } else {
      const apply = (x: Float64Array, y: Float64Array): void => {
        for (let e = lo; e < hi; e++) {
          y[ei[e]] += ew[e] * x[ej[e]];
          y[ej[e]] += ew[e] * x[ei[e]];
        }
      };
      const r = principalEigenpair(m, apply, new Float64Array(m).fill(1), tol);
      eigenvalues[c] = r.value;
      vectors[c] = r.vector;
      converged &&= r.converged;
      steps += r.steps;
    }
  }

  let top = 0;
  for (const l of eigenvalues) top = Math.max(top, l);
  const scores = new Float64Array(n);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const c = label[i];
    const v = vectors[c];
    if (!v) continue;
    scores[i] = (top > 0 ? eigenvalues[c] / top : 1) * v[local[i]];
    sq += scores[i] * scores[i];
  }
  const norm = Math.sqrt(sq) || 1;
  for (let i = 0; i < n; i++) scores[i] /= norm;
  return { scores, eigenvalues, converged, steps };
}
