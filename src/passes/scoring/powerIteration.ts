import type { SparseGraph } from './sparseGraph.js';

export interface PowerIterationResult {
  x: Float64Array;
  iterations: number;
  converged: boolean;
}

/**
 * networkx.eigenvector_centrality(G, weight='weight'), step for step: start from x = 1/n, iterate x ← (A + I)x,
 * normalise by the L2 norm, stop once Σ|x − x_last| < n·tol. Returns the last iterate even when it did not converge.
 */
export function networkxPowerIteration(graph: SparseGraph, maxIter: number, tol: number): PowerIterationResult {
  const n = graph.n;
  let x = new Float64Array(n).fill(1 / n);
  for (let iter = 1; iter <= maxIter; iter++) {
    const last = x;
    x = Float64Array.from(last); // the +I
    graph.multiplyAdd(last, x);
    let sq = 0;
    for (let i = 0; i < n; i++) sq += x[i] * x[i];
    const norm = Math.sqrt(sq) || 1;
    let change = 0;
    for (let i = 0; i < n; i++) {
      x[i] /= norm;
      change += Math.abs(x[i] - last[i]);
    }
    if (change < n * tol) return { x, iterations: iter, converged: true };
  }
  return { x, iterations: maxIter, converged: false };
}
