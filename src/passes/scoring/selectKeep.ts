import { fail } from '../../ir/errors.js';
import { roundKeptUnits } from '../policy/rounding.js';

export interface SelectOptions {
  /** p: remove k = ⌊p·n⌋ channels (before rounding and floors). */
  ratio: number;
  /** 'central' (default, the paper): remove the lowest scores; 'peripheral': remove the highest (FPGM-like ablation). */
  keep?: 'central' | 'peripheral';
  /** Round the kept channel count to the nearest multiple of this (see roundKeptUnits). Default 1. */
  roundTo?: number;
  /** Channels each unit (score) spans: a head or a conv group moves several at once. Default 1. */
  unitChannels?: number;
  /** Keep at least this many units (never more than n). Default 1: a group is never removed entirely. */
  minChannels?: number;
}

/**
 * Which channels to keep. The kept count is n − ⌊p·n⌋ (a 1e-9 guard absorbs float error, e.g. 0.29·100), raised to
 * max(minChannels, 1), then rounded to the nearest count whose channels are a multiple of roundTo (or to n; never
 * below the floor, see roundKeptUnits). The removed channels are the lowest
 * scores ('central') or the highest ('peripheral'). Scores are compared with their float64 mantissa truncated to 23
 * bits (float32 precision, without float32's range limits), so differences below any solver's accuracy (≈1e-7
 * relative) count as ties, and ties remove the lower channel index first: the result is the same on every machine
 * and for every backend. Both lists are sorted ascending.
 */
export function selectKeep(scores: Float64Array, opts: SelectOptions): { keep: number[]; removed: number[] } {
  const { ratio, keep: rule = 'central', roundTo = 1, unitChannels = 1, minChannels = 1 } = opts;
  if (!(ratio >= 0 && ratio <= 1)) fail(`pruning ratio must be in [0, 1], got ${ratio}`);
  if (!Number.isInteger(roundTo) || roundTo < 1) fail(`round-to must be a positive integer, got ${roundTo}`);
  if (!Number.isInteger(minChannels) || minChannels < 0) fail(`min-channels must be a non-negative integer, got ${minChannels}`);
  const n = scores.length;
  if (n === 0) return { keep: [], removed: [] };
  const kept = roundKeptUnits(n, n - Math.floor(ratio * n + 1e-9), { multiple: roundTo, unitChannels, floor: minChannels });
  const sign = rule === 'peripheral' ? -1 : 1;
  const key = Float64Array.from(scores, (s, i) => {
    if (Number.isNaN(s)) throw new Error(`score of channel ${i} is NaN`);
    return sign * truncateMantissa(s);
  });
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key[a] - key[b] || a - b);
  const removed = order.slice(0, n - kept).sort((a, b) => a - b);
  const gone = new Uint8Array(n);
  for (const i of removed) gone[i] = 1;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!gone[i]) keep.push(i);
  return { keep, removed };
}

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer);

/** s with the low 29 of its 52 mantissa bits cleared (little-endian: word 0 holds them). */
export function truncateMantissa(s: number): number {
  f64[0] = s;
  words[0] &= 0xe0000000;
  return f64[0];
}
