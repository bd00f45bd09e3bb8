import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { loadModel } from '../../src/ir/load.js';
import { findClassifier, findLogits } from '../../src/train/classifier.js';
import { replaceHead } from '../../src/train/newHead.js';
import { planTraining } from '../../src/train/trainPlan.js';
import { fixturePath, ort, runOrt } from '../support/index.js';

/** What trains in each mode, on real exports; and the classifier replacement. */
const fixture = (name: string) => loadModel(fixturePath(name));

function plan(name: string, mode: 'head' | 'dense' | 'all', trainBatchNorm = false) {
  const m = fixture(name);
  const p = planTraining(m.graph, findLogits(m.graph).logits, mode, { trainBatchNorm });
  return { m, p, names: [...p.trainable].map((v) => v.name).sort() };
}

describe('planTraining', () => {
  it('head: the last Gemm, fed by the activations before it', () => {
    const { p, names } = plan('vgg11', 'head');
    expect(names).toEqual(['classifier.6.bias', 'classifier.6.weight']);
    expect(p.start.producer()!.opType).toBe('Relu');
  });

  it('dense: every Gemm after the last conv, from the Flatten output', () => {
    const { p, names } = plan('vgg11', 'dense');
    expect(p.start.producer()!.opType).toBe('Flatten');
    expect(p.denseLayers.map((l) => l.node.opType)).toEqual(['Gemm', 'Gemm', 'Gemm']);
    expect(names).toHaveLength(6);
  });

  it('dense stops where residual blocks reach back past a layer (ViT: only the head)', () => {
    const { p } = plan('vit', 'dense');
    expect(p.denseLayers).toHaveLength(1);
    expect(p.start.producer()!.opType).toBe('Gather');
  });

  it('dense on an encoder without convs trains its Gemm/MatMul weights and biases only', () => {
    const { m, p } = plan('bert', 'dense');
    const layerNodes = new Set(p.denseLayers.flatMap((l) => [l.node, l.bias?.node]));
    for (const v of p.trainable) expect(v.uses().some((u) => layerNodes.has(u.node)), v.name).toBe(true);
    expect(p.denseLayers.length).toBeGreaterThan(4);
    expect(m.graph.nodes.filter((n) => n.opType === 'Gather' && p.trainable.has(n.input(0)!))).toHaveLength(0);
  });

  it('all: every weight but BatchNorm statistics; BN scale/shift only when asked', () => {
    const { m, names } = plan('vgg11_bn', 'all');
    const bns = m.graph.nodes.filter((n) => n.opType === 'BatchNormalization');
    const bnInputs = (from: number) => bns.flatMap((n) => n.inputs.slice(from).map((v) => v!.name));
    for (const s of bnInputs(1)) expect(names).not.toContain(s);
    for (const n of m.graph.nodes.filter((x) => x.opType === 'Conv' || x.opType === 'Gemm')) expect(names).toContain(n.input(1)!.name);
    const withBn = plan('vgg11_bn', 'all', true).names;
    for (const s of bnInputs(3)) expect(withBn).not.toContain(s);
    for (const n of bns) expect(withBn).toEqual(expect.arrayContaining([n.input(1)!.name, n.input(2)!.name]));
  });

  it('refuses a model whose logits do not come from a dense layer', () => {
    expect(() => plan('squeezenet', 'head')).toThrow(UserError);
  });
});

describe('replaceHead', () => {
  it('gives a Gemm classifier N outputs, in the stored type, and onnxruntime runs it', async () => {
    const m = fixture('mlp_fp16');
    const layer = findClassifier(findLogits(m.graph).logits);
    replaceHead(m.graph, layer, 3, 1);
    expect(layer.weight.stored.initializer!.dims).toEqual([3, 17]);
    expect(layer.weight.stored.initializer!.dataType).toBe(DataType.FLOAT16);
    expect(m.graph.outputs[0]!.shape).toEqual([1, 3]);
    const out = (await runOrt(m, { input: new ort.Tensor('float32', new Float32Array(196).fill(0.5), [1, 1, 14, 14]) }))[m.graph.outputs[0]!.name]!;
    expect(out.dims).toEqual([1, 3]);
  });

  it('adds a bias to a Gemm without one, and resizes a MatMul + Add head through a Softmax', async () => {
    const b = new ModelBuilder();
    const x = b.input('x', [2, 4]);
    const h = b.op('Gemm', [x, b.weight('w1', [4, 5])]);
    const logits = b.op('Add', [b.op('MatMul', [h, b.weight('w2', [5, 7])]), b.weight('b2', [7])]);
    const y = b.op('Softmax', [logits]);
    y.elemType = DataType.FLOAT;
    y.shape = [2, 7];
    b.output(y);
    const m = b.build();
    const { logits: found } = findLogits(m.graph);
    expect(found).toBe(logits);
    replaceHead(m.graph, findClassifier(found), 3, 5);
    expect(m.graph.find('w2')!.initializer!.dims).toEqual([5, 3]);
    expect(m.graph.find('b2')!.initializer!.dims).toEqual([3]);
    expect(y.shape).toEqual([2, 3]);
    const out = (await runOrt(m, { x: new ort.Tensor('float32', new Float32Array(8).fill(1), [2, 4]) }))[y.name]!;
    expect(out.dims).toEqual([2, 3]);

    const g = new ModelBuilder();
    const gx = g.input('x', [1, 4]);
    const gy = g.op('Gemm', [gx, g.weight('w', [6, 4])], { transB: 1 });
    gy.elemType = DataType.FLOAT;
    g.output(gy);
    const gm = g.build();
    replaceHead(gm.graph, findClassifier(gy), 2, 1);
    expect(gy.producer()!.input(2)!.initializer!.dims).toEqual([2]);
    const gout = (await runOrt(gm, { x: new ort.Tensor('float32', new Float32Array(4).fill(1), [1, 4]) }))[gy.name]!;
    expect(Array.from(gout.data as Float32Array)).toHaveLength(2);
  });
});
