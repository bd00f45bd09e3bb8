import { principalOfDense } from './jacobi.js';

/** y = A·x for a symmetric m×m operator (y arrives zeroed). */
export type SymmetricOperator = (x: Float64Array, y: Float64Array) => void;

export interface EigenpairResult {
  value: number;
  vector: Float64Array;
  converged: boolean;
  /** Matrix–vector products spent. */
  steps: number;
}

const KRYLOV_DIM = 64;
const MAX_RESTARTS = 60;

/**
 * The eigenpair with the largest eigenvalue of a symmetric operator, by explicitly restarted Lanczos with full
 * reorthogonalisation (Krylov dimension ≤ 64, restarted from the best Ritz vector). Converges where power
 * iteration stalls on a small spectral gap; stops when ‖Av − θv‖ ≤ tol·|θ|. The vector has unit L2 norm and a
 * non-negative sum (Perron's sign).
 */
export function principalEigenpair(m: number, apply: SymmetricOperator, start: Float64Array, tol = 1e-10): EigenpairResult {
  let v = normalised(Float64Array.from(start));
  let steps = 0;
  let value = 0;
  const av = new Float64Array(m);
  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    const dim = Math.min(m, KRYLOV_DIM);
    const basis: Float64Array[] = [];
    const alpha: number[] = [];
    const beta: number[] = [];
    let q = v;
    for (let k = 0; k < dim; k++) {
      basis.push(q);
      const w = new Float64Array(m);
      apply(q, w);
      steps++;
      alpha.push(dot(q, w));
      // Full reorthogonalisation (twice is enough, Kahan–Parlett), so no ghost eigenvalues appear.
      for (let pass = 0; pass < 2; pass++) for (const b of basis) axpy(-dot(b, w), b, w);
      const norm = Math.sqrt(dot(w, w));
      if (k === dim - 1 || norm <= 1e-13 * Math.max(Math.abs(alpha[k]), 1e-300)) break; // invariant subspace found
      beta.push(norm);
      q = w.map((x) => x / norm);
    }
    const k = alpha.length;
    const t = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      t[i * k + i] = alpha[i];
      if (i + 1 < k) t[i * k + i + 1] = t[(i + 1) * k + i] = beta[i];
    }
    const ritz = principalOfDense(t, k);
    value = ritz.value;
    const next = new Float64Array(m);
    for (let i = 0; i < k; i++) axpy(ritz.vector[i], basis[i], next);
    v = signed(normalised(next));
    av.fill(0);
    apply(v, av);
    steps++;
    axpy(-value, v, av);
    if (Math.sqrt(dot(av, av)) <= tol * Math.max(Math.abs(value), 1e-300)) return { value, vector: v, converged: true, steps };
  }
  return { value, vector: v, converged: false, steps };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
}

function normalised(x: Float64Array): Float64Array {
  const norm = Math.sqrt(dot(x, x)) || 1;
  for (let i = 0; i < x.length; i++) x[i] /= norm;
  return x;
}

function signed(x: Float64Array): Float64Array {
  let sum = 0;
  for (const e of x) sum += e;
  if (sum < 0) for (let i = 0; i < x.length; i++) x[i] = -x[i];
  return x;
}
