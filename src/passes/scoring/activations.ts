import { fail } from '../../ir/errors.js';
import type { SimilarityGraph } from './similarity.js';
import { SparseGraph, type CsrChunk } from './sparseGraph.js';
import { DEFAULT_EPS } from './types.js';

/**
 * What the activation-aware criteria see of one group, as plain numbers (the pass builds it from the calibration
 * statistics and the consumers' weights): per unit its liveness and the Gram of its activation vectors, and per
 * consumer (a weight layer reading the group) its input positions' sums and its weights' magnitudes.
 */
export interface UnitActivations {
  readonly units: number;
  readonly samples: number;
  /** Fraction of samples on which each unit is active. */
  readonly activeFraction: Float64Array;
  /** G_uv = Σ a_u·a_v, packed upper triangle (row u holds v = u … n−1); absent: `gramNote` says why. */
  readonly gram?: Float64Array;
  readonly gramNote?: string;
  readonly consumers: readonly ConsumerActivations[];
}

/** One consumer: input position k (of its data input's channel axis) belongs to unit `unitOf[k]` (−1: not this group). */
export interface ConsumerActivations {
  readonly name: string;
  readonly unitOf: Int32Array;
  /** Values summed per position (samples × tokens/pixels), and their sums of a and a². */
  readonly count: number;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  /**
   * Per input position k: Σ|W| and ΣW² over every weight the position multiplies (all output features, all kernel
   * taps). Absent when the weight could not be read (`weightNote`).
   */
  readonly weightAbs?: Float64Array;
  readonly weightSq?: Float64Array;
  readonly weightNote?: string;
}

/**
 * The similarity graph of the units' activation vectors: S_uv = G_uv / ((√G_uu + ε)(√G_vv + ε)), the paper's
 * eq. (1)–(2) with activation vectors in place of weight vectors, an edge where S_uv > τ (strict, u ≠ v), weighted
 * by S_uv (or 1). A unit that never activates (G_uu = 0) is isolated. Thresholded row block by row block.
 */
export function activationSimilarityGraph(gram: Float64Array, n: number, opts: { threshold: number; weighted?: boolean; eps?: number }): SimilarityGraph {
  const { threshold, weighted = true, eps = DEFAULT_EPS } = opts;
  if (gram.length !== (n * (n + 1)) / 2) fail(`activation Gram of ${gram.length} entries for ${n} units`);
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) scale[i] = 1 / (Math.sqrt(Math.max(0, gram[rowStart(n, i)]!)) + eps);
  const chunks: CsrChunk[] = [];
  const height = 256;
  for (let r0 = 0; r0 < n; r0 += height) {
    const r1 = Math.min(n, r0 + height);
    const ptr = new Uint32Array(r1 - r0 + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    for (let i = r0; i < r1; i++) {
      const off = rowStart(n, i) - i;
      for (let j = i + 1; j < n; j++) {
        const s = gram[off + j]! * scale[i]! * scale[j]!;
        if (s > threshold) {
          cols.push(j);
          vals.push(s);
        }
      }
      ptr[i - r0 + 1] = cols.length;
    }
    chunks.push({ rowStart: r0, rowEnd: r1, ptr, cols: Uint32Array.from(cols), vals: weighted ? Float32Array.from(vals) : null });
  }
  return { n, threshold, weighted, coupling: 'concat', parts: [new SparseGraph(n, chunks)], backends: ['typescript'] };
}

function rowStart(n: number, i: number): number {
  return i * n - (i * (i - 1)) / 2;
}

/**
 * Wanda-sp (Sun et al. 2023, "A Simple and Effective Pruning Approach for LLMs", made structured as in An et al. 2024,
 * FLAP §4): a unit's score is Σ over its consumers' input positions k of ‖X_k‖₂ · Σ|W_k|, the input's L2 norm over all
 * calibration values times the absolute weights the position multiplies.
 */
export function wandaScores(a: UnitActivations): Float64Array {
  return perUnit(a, (c, k) => Math.sqrt(c.sumSq[k]!) * c.weightAbs![k]!);
}

/**
 * FLAP's fluctuation metric (An et al. 2024, "Fluctuation-based Adaptive Structured Pruning for Large Language
 * Models", eq. 4): Σ over the unit's consumer input positions k of the sample variance of X_k (over samples and
 * tokens, 1/(N−1)) times ‖W_k‖₂², the squared norm of the weights the position multiplies.
 */
export function flapScores(a: UnitActivations): Float64Array {
  return perUnit(a, (c, k) => {
    const n = c.count;
    if (n < 2) return 0;
    const mean = c.sum[k]! / n;
    const variance = Math.max(0, (c.sumSq[k]! - n * mean * mean) / (n - 1));
    return variance * c.weightSq![k]!;
  });
}

function perUnit(a: UnitActivations, term: (c: ConsumerActivations, k: number) => number): Float64Array {
  const scores = new Float64Array(a.units);
  for (const c of a.consumers) {
    if (!c.weightAbs || !c.weightSq) continue;
    c.unitOf.forEach((u, k) => {
      if (u >= 0) scores[u] += term(c, k);
    });
  }
  return scores;
}

/** Consumers whose weights the criteria could not read, for the report. */
export function unreadConsumers(a: UnitActivations): string | undefined {
  const missing = a.consumers.filter((c) => !c.weightAbs);
  if (!missing.length) return undefined;
  return `left out consumer${missing.length > 1 ? 's' : ''} ${missing.map((c) => `${c.name} (${c.weightNote ?? 'weights unread'})`).join(', ')}`;
}

/**
 * Live-first ordering: units active on no calibration sample score below every live unit (their own scores, shifted
 * under the live minimum, order them among themselves), so they are removed first; live units keep their scores.
 */
export function liveFirst(scores: Float64Array, activeFraction: Float64Array): { scores: Float64Array; dead: number } {
  let liveMin = Infinity;
  let deadMax = -Infinity;
  let dead = 0;
  scores.forEach((s, u) => {
    if (activeFraction[u]! > 0) liveMin = Math.min(liveMin, s);
    else {
      deadMax = Math.max(deadMax, s);
      dead++;
    }
  });
  if (dead === 0 || dead === scores.length) return { scores, dead };
  const shift = deadMax - liveMin + 1;
  return { scores: scores.map((s, u) => (activeFraction[u]! > 0 ? s : s - shift)), dead };
}
