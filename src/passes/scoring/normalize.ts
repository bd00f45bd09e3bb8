import { fail } from '../../ir/errors.js';
import { channelCount, loadVectors, type UnitVectors, type UnitVectorSource } from './types.js';

/**
 * The matrix whose Gram product gives the cosine similarities: S_ij = scale_i · scale_j · (rows · rowsᵀ)_ij.
 * Keeping the normalisation as a scale (instead of writing Ŵ out) means a single producer's weights are used in place.
 */
export interface ScaledRows extends UnitVectors {
  readonly scale: Float64Array;
  /** ‖w_j‖₂ of each unit's raw vector (over all producers of a concatenation): the l2 criterion, for free. */
  readonly norms: Float64Array;
}

/** ‖w_j‖₂ of each channel, accumulated in float64. */
export function rowNorms(v: UnitVectors, producer = 0): Float64Array {
  const norms = new Float64Array(v.n);
  const { rows, d } = v;
  for (let j = 0; j < v.n; j++) {
    let sum = 0;
    for (let k = j * d, end = k + d; k < end; k++) sum += rows[k] * rows[k];
    if (!Number.isFinite(sum)) fail(`producer ${producer}, channel ${j}: weights are not finite`);
    norms[j] = Math.sqrt(sum);
  }
  return norms;
}

/** One producer: S = D W Wᵀ D with D = diag(1/(‖w_j‖ + ε)), eq. (1)–(2). */
export function singleProducerInput(v: UnitVectors, eps: number, producer = 0): ScaledRows {
  const norms = rowNorms(v, producer);
  return { rows: v.rows, n: v.n, d: v.d, scale: norms.map((r) => 1 / (r + eps)), norms };
}

/**
 * A coupled group, rule 'concat': channel j is represented by u_j = [ŵ_j¹ | ŵ_j² | … | ŵ_jᴾ], the concatenation of its
 * normalised vectors (eq. 1) over the P producers, and then normalised again with the same rule:
 * ũ_j = u_j / (‖u_j‖ + ε). Since each ‖ŵ_jᵖ‖ ≈ 1, S_ij = ũ_i·ũ_j is (up to ε) the mean over producers of the
 * per-producer cosine similarities — each producer weighs the same, whatever its fan-in d_p.
 * A channel whose vector is zero in some producer contributes 0 there and is renormalised over the others.
 */
export function concatenatedInput(vectors: readonly UnitVectorSource[], eps: number): ScaledRows {
  const n = channelCount(vectors);
  const d = vectors.reduce((s, v) => s + v.d, 0);
  const rows = new Float32Array(n * d);
  const sq = new Float64Array(n);
  const norms = new Float64Array(n);
  let offset = 0;
  vectors.forEach((source, p) => {
    const v = loadVectors(source, p);
    const single = singleProducerInput(v, eps, p);
    const inv = single.scale;
    addSquares(norms, single.norms);
    for (let j = 0; j < n; j++) {
      const src = j * v.d;
      const dst = j * d + offset;
      for (let k = 0; k < v.d; k++) rows[dst + k] = v.rows[src + k] * inv[j];
    }
    addUnitSquares(sq, inv, eps);
    offset += v.d;
  });
  return { rows, n, d, scale: concatScale(sq, eps), norms: norms.map(Math.sqrt) };
}

/** sum += x² elementwise: raw norms of a concatenation from its producers' norms. */
export function addSquares(sum: Float64Array, x: Float64Array): void {
  for (let j = 0; j < sum.length; j++) sum[j] += x[j]! * x[j]!;
}

/** ‖ŵ_jᵖ‖² = (‖w‖/(‖w‖+ε))² = (1 − ε·s_j)², exactly: what producer p adds to ‖u_j‖² under 'concat' coupling. */
export function addUnitSquares(sq: Float64Array, scale: Float64Array, eps: number): void {
  for (let j = 0; j < sq.length; j++) {
    const unit = 1 - eps * scale[j]!;
    sq[j] += unit * unit;
  }
}

/** The second normalisation of 'concat' coupling: 1/(‖u_j‖ + ε) from ‖u_j‖². */
export function concatScale(sq: Float64Array, eps: number): Float64Array {
  return sq.map((s) => 1 / (Math.sqrt(s) + eps));
}
