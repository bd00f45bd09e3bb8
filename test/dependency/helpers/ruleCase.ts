import { expect } from 'vitest';
import type { ModelBuilder } from '../../../src/ir/builder.js';
import { decodeModel } from '../../../src/ir/load.js';
import { encodeModel } from '../../../src/ir/save.js';
import { analyze } from '../../../src/passes/dependency/analyze.js';
import type { ChannelGroup } from '../../../src/passes/dependency/groups.js';
import { alsoWith, feedsFor, onnxCheck } from '../../support/index.js';
import { expectIdentity, expectMaskedEquivalence } from './oracle.js';

/**
 * Runs the oracle on a hand-built graph: the groups it finds (checked by `expectGroups`), identity, masked reference
 * at ratio 0.4, and (opset ≤ 17, what Debian's python3-onnx knows) the full checker on the pruned model.
 */
export async function ruleCase(b: ModelBuilder, expectGroups: (groups: ChannelGroup[]) => void, opts: { seed?: number; check?: boolean } = {}): Promise<ChannelGroup[]> {
  const bytes = encodeModel(b.build());
  const groups = analyze(decodeModel(bytes));
  expectGroups(groups);
  const feeds = feedsFor(decodeModel(bytes), { seed: 3 });
  await expectIdentity(bytes, feeds);
  if (groups.some((g) => g.prunable)) {
    const { pruned } = await expectMaskedEquivalence(bytes, feeds, 0.4, opts.seed ?? 4);
    if (opts.check !== false && b.opset <= 17) alsoWith(['onnx'], () => expect(onnxCheck([pruned], { full: true })).toEqual([null]));
  }
  return groups;
}

/** Summary used in expectations: `channels/prunable` per group, producers by name. */
export function shapeOf(groups: ChannelGroup[]): string[] {
  return groups.map((g) => `${g.producers.map((n) => n.label).join('+')}:${g.channels}${g.prunable ? '' : '!'}`);
}
