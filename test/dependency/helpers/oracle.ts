import { expect } from 'vitest';
import { decodeModel } from '../../../src/ir/load.js';
import { encodeModel } from '../../../src/ir/save.js';
import { analyze } from '../../../src/passes/dependency/analyze.js';
import type { ChannelGroup } from '../../../src/passes/dependency/groups.js';
import { pruneChannels } from '../../../src/passes/pruneChannels.js';
import { bitIdentical, relativeError, runOrt, type Feeds } from '../../support/index.js';
import { withLogits } from './logits.js';
import { maskedReference } from './maskedReference.js';
import { keepAll, randomKeep, removalsOf } from './prune.js';

export const TOLERANCE = 1e-4;

/** Keeping every channel must give the original outputs bit for bit. */
export async function expectIdentity(bytes: Uint8Array, feeds: Feeds): Promise<void> {
  const m = decodeModel(bytes);
  pruneChannels(m, keepAll(analyze(m)));
  const [a, b] = await Promise.all([runOrt(encodeModel(m), feeds), runOrt(bytes, feeds)]);
  for (const k of Object.keys(b)) expect(bitIdentical(a[k]!, b[k]!), `output ${k} changed`).toBe(true);
}

/**
 * Prunes `ratio` of every prunable group at random and compares the pruned model with the independently masked
 * original: every output within TOLERANCE relative, where outputs of a Sigmoid / Softmax are judged by their logits.
 * Returns the pruned model's bytes (for the checker) and the groups.
 */
export async function expectMaskedEquivalence(bytes: Uint8Array, feeds: Feeds, ratio = 0.3, seed = 9, only?: (g: ChannelGroup) => boolean): Promise<{ pruned: Uint8Array; groups: ChannelGroup[]; errors: Record<string, number> }> {
  const m = decodeModel(bytes);
  const groups = analyze(m);
  const keep = randomKeep(only ? groups.filter(only) : groups, ratio, seed);
  expect(keep.size, 'no group to prune').toBeGreaterThan(0);
  pruneChannels(m, keep);
  const pruned = encodeModel(m);
  const reference = await maskedReference(bytes, removalsOf(groups, keep), feeds);
  const a = withLogits(pruned);
  const b = withLogits(reference);
  const [x, y] = await Promise.all([runOrt(a.bytes, feeds), runOrt(b.bytes, feeds)]);
  const saturating = new Set(decodeModel(bytes).graph.outputs.filter((v) => ['Sigmoid', 'Softmax', 'LogSoftmax'].includes(v.producer()?.opType ?? '')).map((v) => v.name));
  const errors: Record<string, number> = {};
  for (const k of Object.keys(y)) {
    if (saturating.has(k) && a.logits.length) continue;
    errors[k] = relativeError(x[k]!, y[k]!);
    expect(x[k]!.dims, `output ${k} shape`).toEqual(y[k]!.dims);
  }
  for (const [k, e] of Object.entries(errors)) expect(e, `output ${k}: pruned vs masked original`).toBeLessThanOrEqual(TOLERANCE);
  return { pruned, groups, errors };
}
