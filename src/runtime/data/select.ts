import { fail } from '../../ir/errors.js';
import { Rng } from '../../ir/random.js';
import type { Dataset } from './types.js';

/**
 * Which of `count` samples to keep under `limit` / `perClass`: in source order, or a seeded random choice (kept in
 * source order) when `seed` is given. Picking indices first lets loaders decode only the samples kept.
 */
export function selectIndices(count: number, labels: ArrayLike<number> | undefined, opts: { limit?: number; perClass?: number; seed?: number }): number[] {
  let order = Array.from({ length: count }, (_, i) => i);
  if (opts.seed !== undefined && (opts.limit !== undefined || opts.perClass !== undefined)) order = new Rng(opts.seed).shuffle(order);
  if (opts.perClass !== undefined) {
    if (!labels) fail('--per-class needs labelled data');
    const taken = new Map<number, number>();
    order = order.filter((i) => {
      const k = taken.get(labels[i]!) ?? 0;
      taken.set(labels[i]!, k + 1);
      return k < opts.perClass!;
    });
  }
  if (opts.limit !== undefined) order = order.slice(0, opts.limit);
  return opts.seed !== undefined ? order.sort((a, b) => a - b) : order;
}

/** The samples at `indices`, in that order. */
export function subset(ds: Dataset, indices: readonly number[]): Dataset {
  const per = sampleSize(ds);
  const x = new Float32Array(indices.length * per);
  indices.forEach((idx, k) => {
    if (!Number.isInteger(idx) || idx < 0 || idx >= ds.shape[0]!) throw new RangeError(`sample index ${idx} is outside [0, ${ds.shape[0]})`);
    x.set(ds.x.subarray(idx * per, (idx + 1) * per), k * per);
  });
  const out: Dataset = { ...ds, x, shape: [indices.length, ...ds.shape.slice(1)] };
  if (ds.labels) out.labels = Int32Array.from(indices, (i) => ds.labels![i]!);
  return out;
}

/** A seeded shuffled split: `fraction` of the samples (rounded) go to `second`, the rest to `first`. */
export function shuffledSplit(ds: Dataset, fraction: number, seed = 0): { first: Dataset; second: Dataset } {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`split fraction ${fraction} is outside [0, 1]`);
  const order = new Rng(seed).shuffle(Array.from({ length: ds.shape[0]! }, (_, i) => i));
  const cut = order.length - Math.round(order.length * fraction);
  return { first: subset(ds, order.slice(0, cut)), second: subset(ds, order.slice(cut)) };
}

/** Values per sample. */
export function sampleSize(ds: Dataset): number {
  return ds.shape.slice(1).reduce((a, b) => a * b, 1);
}
