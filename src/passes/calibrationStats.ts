/**
 * Calibration statistics as plain data: what `src/runtime/calibration` measures by running a model on samples, and what
 * the activation-aware criteria and bias compensation take. Nothing here runs a model.
 *
 * A group's units are read by its consumers (Gemm, MatMul, Conv: `consumers.ts`) through one or more tensors, the
 * *sites*: the producers' outputs after whatever elementwise chain lies between (activation, normalisation, the
 * SwiGLU product), exactly what the consumers multiply by their weights. A unit's *activation* is its positions on the
 * channel axis of every site (several positions when channels are tied into one unit, a head say, or a conv channel
 * flattened into H·W features), over all samples and all other axes (tokens, pixels).
 */

/** Sums over the calibration data of one site, per position k of its channel axis. */
export interface SiteStats {
  /** The tensor's name in the calibrated model. */
  readonly value: string;
  readonly axis: number;
  /** Values summed into each position: samples × the positions of the other axes. */
  readonly count: number;
  readonly sum: Float64Array;
  readonly sumAbs: Float64Array;
  readonly sumSq: Float64Array;
  /**
   * Channels-first feature maps ([N, C, spatial…], channels on axis 1): the sum over samples at every position of a
   * sample, dims [C, spatial…], so a Conv consumer's bias correction can follow where its kernel taps land (padding).
   */
  readonly map?: { readonly dims: readonly number[]; readonly sum: Float64Array; readonly samples: number };
}

export interface CalibrationStats {
  /** Samples run (images, token windows). */
  readonly samples: number;
  readonly units: number;
  /** Per unit, over all its values at every site: mean, mean |a| and ‖a‖₂. */
  readonly mean: Float64Array;
  readonly meanAbs: Float64Array;
  readonly l2: Float64Array;
  /**
   * Per unit: the fraction of samples on which it is *active*, i.e. some value of the unit on that sample (any site,
   * position or token) has |a| > ACTIVE_EPS · max_v rms(a_v), the largest root-mean-square activation of the group's
   * units. A ReLU unit that never fires is exactly 0 and inactive; the relative floor also catches units whose output
   * is zero up to rounding (an exported ReLU6/Clip, float16).
   */
  readonly activeFraction: Float64Array;
  /**
   * G_uv = Σ a_u·a_v over every sample, token/pixel and unit position (the unit's values in order, so units of equal
   * width line up): the upper triangle packed row by row, row u holding v = u … n−1 (`gramIndex`). Absent when not
   * collected (only activation-eigenvector needs it) or impossible (`gramNote`).
   */
  readonly gram?: Float64Array;
  readonly gramNote?: string;
  readonly sites: readonly SiteStats[];
}

/** |a| > ACTIVE_EPS · (largest unit RMS of the group) counts as active. */
export const ACTIVE_EPS = 1e-6;

/** Offset of G[i][j] (i ≤ j) in the packed upper triangle of an n × n Gram. */
export function gramIndex(n: number, i: number, j: number): number {
  return i * n - (i * (i - 1)) / 2 + (j - i);
}
