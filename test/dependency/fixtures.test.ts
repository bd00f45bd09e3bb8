/**
 * The oracle on every torch-exported fixture (fixtures/models/manifest.json): identity, masked reference at ratio
 * 0.3 on every group not declined, the expected declined groups, and Debian python3-onnx's full checker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { fixtureBytes, fixtureFeeds, itWith, MANIFEST, onnxCheck } from '../support/index.js';
import { expectIdentity, expectMaskedEquivalence } from './helpers/oracle.js';

const HEAD = ['Gemm', "its channels reach the graph output 'logits'"] as const;
/**
 * Declined groups per fixture: [a producer's name contains, the reason contains]. Everything else must be prunable;
 * a regression that declines more (or fewer) groups fails here.
 */
const DECLINED: Record<string, (readonly [string, string])[]> = {
  mlp: [HEAD], mlp_fp16: [HEAD], cnn_small: [HEAD], vgg11: [HEAD], vgg11_bn: [HEAD], resnet18: [HEAD],
  resnet_bottleneck: [HEAD], densenet: [HEAD], mobilenet_v2: [HEAD], mobilenet_v3_small: [HEAD],
  // Two squeeze-excite bottlenecks are one channel wide at this width: nothing to remove.
  efficientnet_b0: [['features.2.0/block/block.2/fc1', 'a single channel'], ['features.3.0/block/block.2/fc1', 'a single channel'], HEAD],
  shufflenet_v2: [HEAD], shufflenet_v2_dynbatch: [HEAD],
  squeezenet: [['classifier.1/Conv', "its channels reach the graph output 'logits'"]],
  googlenet: [HEAD], convnext: [HEAD], vit: [HEAD], swin: [HEAD], bert: [HEAD], bert_opset11: [HEAD],
};

const pruned: { name: string; bytes: Uint8Array }[] = [];

describe.each(Object.keys(MANIFEST))('fixture %s', (name) => {
  const bytes = fixtureBytes(name);
  const feeds = fixtureFeeds(name, bytes);

  it('declines exactly the expected groups, each with a reason naming the node', () => {
    const groups = analyze(decodeModel(bytes));
    const declined = groups.filter((g) => !g.prunable);
    const expected = DECLINED[name] ?? [HEAD];
    expect(declined.map((g) => `${g.producers.map((n) => n.label).join(',')}: ${g.reason}`)).toHaveLength(expected.length);
    for (const [producer, reason] of expected) {
      expect(declined.some((g) => g.producers.some((n) => n.label.includes(producer)) && g.reason!.includes(reason)), `${producer}: ${reason}`).toBe(true);
    }
    expect(groups.filter((g) => g.prunable).length).toBeGreaterThan(0);
  });

  it('keeping every channel gives bit-identical outputs', async () => {
    await expectIdentity(bytes, feeds);
  });

  it('pruning 30% of every prunable group matches the masked original', async () => {
    const { pruned: out } = await expectMaskedEquivalence(bytes, feeds, 0.3, 9);
    expect(out.byteLength).toBeLessThan(bytes.byteLength);
    pruned.push({ name, bytes: out });
  });
});

describe('pruned fixtures', () => {
  afterAll(() => { pruned.length = 0; });
  itWith(['onnx'], 'pass the Debian python3-onnx full checker', () => {
    if (!pruned.length) return;
    const errors = onnxCheck(pruned.map((p) => p.bytes), { full: true });
    expect(Object.fromEntries(pruned.map((p, i) => [p.name, errors[i]]))).toEqual(Object.fromEntries(pruned.map((p) => [p.name, null])));
  });
});
