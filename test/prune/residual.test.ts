/**
 * Residual streams: groups whose channels several producers add up (a residual Add) are found by the analysis and,
 * unless `pruneResidual` / `--prune-residual`, left at full width with their reason. The oracle for which groups
 * are residual streams is a walk over the graph itself: a group is one exactly when one of its producers' outputs
 * reaches an Add of two computed (non-constant) tensors before any other weight layer — the squeeze-and-excite gates
 * of MobileNetV3 / EfficientNet (a Mul of two computed tensors) must not count.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { constantSource } from '../../src/ir/constants.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Node } from '../../src/ir/node.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { summarize } from '../../cli/format/pruneSummary.js';
import { decoderFixture, fixtureBytes as decoderBytes } from '../decoders/helpers.js';
import { fixtureBytes, fixtureFeeds, fixturePath, runCli, runOrt, tempDir } from '../support/index.js';
import { prune } from './helpers.js';

const dir = tempDir('prune-residual');

const WEIGHT_LAYERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/**
 * Whether the node's output reaches an Add of two computed tensors, through ops with one computed input (norms,
 * activations, pools, transposes, a layer scale) and never through another weight layer.
 */
function feedsResidualAdd(node: Node, seen = new Set<Node>()): boolean {
  return node.outputs.some((out) => (out?.uses() ?? []).some(({ node: user }) => {
    if (seen.has(user) || WEIGHT_LAYERS.has(user.opType)) return false;
    seen.add(user);
    const computed = user.inputs.filter((v) => v && !constantSource(v)).length;
    if (computed === 2 && user.opType === 'Add') return true;
    return computed === 1 && feedsResidualAdd(user, seen);
  }));
}

describe('residual streams', () => {
  it.each(['resnet18', 'mobilenet_v2', 'mobilenet_v3_small', 'efficientnet_b0', 'convnext'])('%s: the groups marked residual are exactly those whose producers feed a residual Add', (name) => {
    const groups = analyze(decodeModel(fixtureBytes(name))).filter((g) => g.prunable);
    const expected = groups.filter((g) => g.producers.some((p) => feedsResidualAdd(p))).map((g) => g.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(groups.filter((g) => g.residual !== undefined).map((g) => g.id)).toEqual(expected);
    for (const g of groups.filter((x) => x.residual !== undefined)) expect(g.residual).toMatch(/Add/);
    // Squeeze-and-excite groups join two producers with a Mul: several producers, not a residual stream.
    if (name === 'efficientnet_b0' || name === 'mobilenet_v3_small') {
      expect(groups.some((g) => g.producers.length > 1 && g.residual === undefined)).toBe(true);
    }
  });

  it('by default they keep every channel and say why; pruneResidual prunes them; both run in onnxruntime', async () => {
    const bytes = fixtureBytes('mobilenet_v2');
    const kept = await prune(bytes, { scope: 'all', ratio: 0.3, roundTo: 1 });
    const residual = kept.groups.filter((g) => g.prunable && g.residual !== undefined);
    expect(residual.length).toBeGreaterThan(0);
    for (const g of residual) {
      const r = kept.report.groups[g.id]!;
      expect(r.removed).toEqual([]);
      expect(r.residual).toBe(g.residual);
      expect(r.declined).toBe(`residual stream (channels added at ${g.residual}): kept at full width; --prune-residual prunes it`);
    }
    expect(kept.report.residualKept).toBe(residual.length);
    expect(kept.report.options.pruneResidual).toBe(false);
    expect(summarize(kept.report).split('\n').at(-1)).toBe(`${residual.length} residual streams kept at full width (--prune-residual prunes them)`);
    // Every other prunable group is pruned as before.
    for (const g of kept.groups.filter((x) => x.prunable && x.residual === undefined && x.kind === 'conv')) {
      expect(kept.report.groups[g.id]!.removed.length).toBe(Math.floor(0.3 * g.channels));
    }

    const all = await prune(bytes, { scope: 'all', ratio: 0.3, roundTo: 1, pruneResidual: true });
    for (const g of residual) expect(all.report.groups[g.id]!.removed.length).toBe(Math.floor(0.3 * g.channels));
    expect(all.report.residualKept).toBeUndefined();
    expect(all.report.macs.after).toBeLessThan(kept.report.macs.after);
    for (const p of [kept.pruned, all.pruned]) {
      const out = await runOrt(p, fixtureFeeds('mobilenet_v2', bytes));
      expect(Object.values(out)[0]!.dims).toEqual([1, 10]);
    }
  });

  it('a decoder keeps its hidden size unless asked: heads and FFN neurons are pruned', async () => {
    const fx = decoderFixture('llama_cache');
    const bytes = decoderBytes(fx);
    const kept = await prune(bytes, { scope: 'all', ratio: 0.5 });
    expect(kept.report.decoder?.sizes.hiddenSize).toEqual({ before: fx.config.hidden, after: fx.config.hidden });
    expect(kept.report.residualKept).toBe(1);
    expect(kept.report.decoder?.sizes.intermediateSize?.after).toBeLessThan(kept.report.decoder!.sizes.intermediateSize!.before);
    const all = await prune(bytes, { scope: 'all', ratio: 0.5, pruneResidual: true });
    expect(all.report.decoder?.sizes.hiddenSize?.after).toBe(fx.config.hidden - Math.floor(0.5 * fx.config.hidden));
  });

  it('CLI: --prune-residual, the summary line, and inspect --groups naming the Add', () => {
    const input = fixturePath('resnet18');
    const plain = runCli([input, '-o', join(dir, 'kept.onnx'), '--scope', 'all', '--report', join(dir, 'kept.json')]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/\d+ residual streams kept at full width \(--prune-residual prunes them\)/);
    const flagged = runCli([input, '-o', join(dir, 'all.onnx'), '--scope', 'all', '--prune-residual', '-q']);
    expect(flagged.code, flagged.stderr).toBe(0);
    const inspect = runCli(['inspect', input, '--groups']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/prunable {2}residual stream \(added at [^;]*Add[^;]*; pruned only with --prune-residual\)/);
  });
});
