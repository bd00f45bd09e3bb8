/**
 * The dependency engine's independent oracle (test/dependency/helpers/maskedReference.ts: the original with the
 * removed channels' consumers masked, found by onnxruntime tracing) on the keep sets the centrality pass chose: the
 * pruned model must compute exactly what the masked original computes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import type { CentralityPruneOptions } from '../../src/passes/centralityPrune.js';
import { releaseGramSessions } from '../../src/passes/scoring/index.js';
import { withLogits } from '../dependency/helpers/logits.js';
import { maskedReference } from '../dependency/helpers/maskedReference.js';
import { TOLERANCE } from '../dependency/helpers/oracle.js';
import { removalsOf } from '../dependency/helpers/prune.js';
import { fixtureBytes, fixtureFeeds, relativeError, runOrt } from '../support/index.js';
import { prune } from './helpers.js';

afterAll(releaseGramSessions);

const CASES: [string, Partial<CentralityPruneOptions>][] = [
  ['mlp', { scope: 'all' }],
  ['cnn_small', { scope: 'all' }],
  ['resnet18', { scope: 'all' }],
  ['resnet18', { scope: 'conv', keep: 'peripheral', coupling: 'average', ratio: 0.5 }],
  ['mobilenet_v2', { scope: 'all' }],
  ['vit', { scope: 'all' }],
  ['vit', { scope: 'dense', method: 'l1', ratio: 0.5 }],
];

describe.each(CASES)('%s %o', (name, opts) => {
  it('the pruned model matches the masked original on the keep sets the pass chose', async () => {
    const bytes = fixtureBytes(name);
    const { pruned, report, groups } = await prune(bytes, opts);
    const keep = new Map(report.groups.filter((g) => g.removed.length).map((g) => [g.id, g.kept]));
    expect(keep.size, 'nothing was pruned').toBeGreaterThan(0);
    const feeds = fixtureFeeds(name, bytes);
    const reference = await maskedReference(bytes, removalsOf(groups, keep), feeds);
    const a = withLogits(pruned);
    const b = withLogits(reference);
    const [x, y, original] = await Promise.all([runOrt(a.bytes, feeds), runOrt(b.bytes, feeds), runOrt(bytes, feeds)]);
    // Outputs of a Softmax / Sigmoid are judged by their logits (exposed by withLogits).
    const saturating = new Set(decodeModel(bytes).graph.outputs.filter((v) => ['Sigmoid', 'Softmax', 'LogSoftmax'].includes(v.producer()?.opType ?? '')).map((v) => v.name));
    for (const k of Object.keys(y)) {
      if (saturating.has(k) && a.logits.length) continue;
      expect(x[k]!.dims, `output ${k}`).toEqual(y[k]!.dims);
      expect(relativeError(x[k]!, y[k]!), `output ${k}: pruned vs masked original`).toBeLessThanOrEqual(TOLERANCE);
    }
    // Not vacuous: the removed channels did matter.
    expect(Object.keys(original).some((k) => relativeError(original[k]!, y[k]!) > 100 * TOLERANCE)).toBe(true);
  });
});
