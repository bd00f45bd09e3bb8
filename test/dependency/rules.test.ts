/**
 * One hand-built graph per rule of the channel rule table (src/passes/dependency/rules/index.ts), each run through
 * the oracle: identity, masked original, checker. Node names are the first argument of `op` helpers below.
 */
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import type { Value } from '../../src/ir/value.js';
import { ruleCase, shapeOf } from './helpers/ruleCase.js';

/** A builder with named ops: `op(name, type, inputs, attrs)`. */
function graph(opset = 17) {
  const b = new ModelBuilder(opset, 7);
  const op = (name: string, type: string, inputs: (Value | null)[], attrs: Parameters<ModelBuilder['op']>[2] = {}) => b.op(type, inputs, attrs, { name });
  const conv = (name: string, x: Value, cin: number, cout: number, k = 1, group = 1) =>
    op(name, 'Conv', [x, b.weight(`${name}.w`, [cout, cin / group, k, k]), b.weight(`${name}.b`, [cout])], { group, pads: Array(4).fill((k - 1) / 2) });
  const dense = (name: string, x: Value, din: number, dout: number) =>
    op(`${name}.add`, 'Add', [op(name, 'MatMul', [x, b.weight(`${name}.w`, [din, dout])]), b.weight(`${name}.b`, [dout])]);
  return { b, op, conv, dense };
}

describe('unary elementwise and activations', () => {
  it('pass channels through a chain of every kind', async () => {
    const { b, op, conv } = graph();
    let x = conv('c1', b.input('x', [1, 3, 6, 6]), 3, 7, 3);
    x = op('relu', 'Relu', [x]);
    x = op('leaky', 'LeakyRelu', [x], { alpha: { float: 0.1 } });
    x = op('hsig', 'HardSigmoid', [x]);
    x = op('hswish', 'HardSwish', [x]);
    x = op('clip', 'Clip', [x, b.weight('lo', [], [-0.5]), b.weight('hi', [], [0.5])]);
    x = op('tanh', 'Tanh', [x]);
    x = op('elu', 'Elu', [x]);
    x = op('erf', 'Erf', [x]);
    x = op('drop', 'Dropout', [x]);
    x = op('id', 'Identity', [x]);
    x = op('cast', 'Cast', [x], { to: DataType.FLOAT });
    x = op('sig', 'Sigmoid', [x]);
    b.output(conv('c2', x, 7, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:7', 'c2:2!']));
  });

  it('PRelu slices a per-channel slope and leaves a shared scalar slope', async () => {
    const { b, op, conv } = graph();
    let x = conv('c1', b.input('x', [1, 3, 5, 5]), 3, 6);
    x = op('prelu', 'PRelu', [x, b.weight('slope', [6, 1, 1])]);
    x = op('prelu1', 'PRelu', [conv('c2', x, 6, 5), b.weight('slope1', [1])]);
    b.output(conv('c3', x, 5, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:6', 'c2:5', 'c3:2!']));
  });
});

describe('broadcasting binary ops', () => {
  it('a residual Add couples both producers; per-channel constants are sliced; a [N,1,H,W] mask couples nothing', async () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 4, 5, 5]);
    const a = conv('a', x, 4, 6);
    const c = conv('c', op('r', 'Relu', [a]), 6, 6, 3);
    let y = op('res', 'Add', [a, c]);
    y = op('scale', 'Mul', [y, b.weight('gamma', [1, 6, 1, 1])]);
    y = op('shift', 'Sub', [y, b.weight('beta', [6, 1, 1])]);
    const mask = op('mask', 'Sigmoid', [op('mean', 'ReduceMean', [x], { axes: [1], keepdims: 1 })]);
    y = op('masked', 'Mul', [y, mask]);
    y = op('div', 'Div', [y, b.weight('d', [1], [2])]);
    y = op('max', 'Max', [y, b.weight('m', [6, 1, 1])]);
    y = op('where', 'Where', [op('gt', 'Greater', [mask, b.weight('t', [], [0.5])]), y, op('neg', 'Neg', [y])]);
    b.output(conv('out', y, 6, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['a+c:6', 'out:2!']));
  });
});

describe('normalization', () => {
  it('BatchNormalization and InstanceNormalization slice their per-channel parameters', async () => {
    const { b, op, conv } = graph();
    let x = conv('c1', b.input('x', [1, 3, 5, 5]), 3, 7);
    x = op('bn', 'BatchNormalization', [x, b.weight('s', [7]), b.weight('bb', [7]), b.weight('mu', [7]), b.weight('var', [7], undefined, 0.2).producer() ? b.weight('v2', [7]) : b.weight('var2', [7], Array(7).fill(1))]);
    x = op('in', 'InstanceNormalization', [conv('c2', x, 7, 5), b.weight('is', [5]), b.weight('ib', [5])]);
    b.output(conv('c3', x, 5, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:7', 'c2:5', 'c3:2!']));
  });

  it('GroupNormalization prunes whole groups (each group one unit) and shrinks num_groups', async () => {
    const { b, op, conv } = graph(21);
    let x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 12);
    x = op('gn', 'GroupNormalization', [x, b.weight('gs', [12]), b.weight('gb', [12])], { num_groups: 4 });
    b.output(conv('c2', x, 12, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:4', 'c2:2!']));
  });

  it('LayerNormalization over the features slices scale and bias (statistics over the kept features)', async () => {
    const { b, op, dense } = graph();
    const x = b.input('x', [2, 3, 8]);
    let h = dense('fc1', x, 8, 9);
    h = op('ln', 'LayerNormalization', [h, b.weight('lnw', [9]), b.weight('lnb', [9])], { axis: -1 });
    b.output(dense('fc2', h, 9, 4));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['fc1:9', 'fc2:4!']));
  });

  it('the decomposed LayerNorm TorchScript emits at opset < 17 is recognised', async () => {
    const { b, op, dense } = graph(14);
    const x = b.input('x', [2, 3, 8]);
    const h = dense('fc1', x, 8, 9);
    const mean = op('mean', 'ReduceMean', [h], { axes: [-1] });
    const d = op('sub', 'Sub', [h, mean]);
    const v = op('var', 'ReduceMean', [op('pow', 'Pow', [d, b.weight('two', [], [2])])], { axes: [-1] });
    const n = op('div', 'Div', [d, op('sqrt', 'Sqrt', [op('eps', 'Add', [v, b.weight('e', [], [1e-5])])])]);
    const y = op('beta', 'Add', [op('gamma', 'Mul', [n, b.weight('g', [9])]), b.weight('bt', [9])]);
    b.output(dense('fc2', y, 9, 4));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['fc1:9', 'fc2:4!']));
  });
});

describe('Conv consumers', () => {
  it('depthwise convs pass channels through and shrink group (multiplier 1 and 2)', async () => {
    const { b, op, conv } = graph();
    let x = conv('c1', b.input('x', [1, 3, 6, 6]), 3, 6);
    x = op('dw', 'Conv', [x, b.weight('dw.w', [6, 1, 3, 3]), b.weight('dw.b', [6])], { group: 6, pads: [1, 1, 1, 1] });
    x = op('dw2', 'Conv', [x, b.weight('dw2.w', [12, 1, 3, 3])], { group: 6, pads: [1, 1, 1, 1] });
    b.output(conv('c2', op('r', 'Relu', [x]), 12, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:6', 'c2:2!']));
  });

  it('a grouped conv removes whole groups: each group of channels is one unit', async () => {
    const { b, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 5, 5]), 3, 8);
    const g = conv('grouped', x, 8, 6, 3, 2);
    b.output(conv('c2', g, 6, 2));
    await ruleCase(b, (gs) => expect(shapeOf(gs)).toEqual(['c1:2', 'c2:2!']));
  });

  it('ConvTranspose is a root on weight axis 1 and a consumer on axis 0', async () => {
    const { b, op, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 5);
    const up = op('up', 'ConvTranspose', [x, b.weight('up.w', [5, 7, 2, 2]), b.weight('up.b', [7])], { strides: [2, 2] });
    b.output(conv('c2', up, 7, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:5', 'up:7', 'c2:2!']));
  });

  it('a depthwise ConvTranspose passes channels through; a grouped one keeps whole groups', async () => {
    const { b, op, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 6);
    const dw = op('dwup', 'ConvTranspose', [x, b.weight('dwup.w', [6, 1, 2, 2]), b.weight('dwup.b', [6])], { group: 6, strides: [2, 2] });
    const gr = op('grup', 'ConvTranspose', [op('r', 'Relu', [dw]), b.weight('grup.w', [6, 2, 1, 1])], { group: 3 });
    b.output(conv('c2', gr, 6, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:3', 'c2:2!']));
  });
});

describe('Concat, Split, Slice on the channel axis', () => {
  it('Concat maps offsets forward; a residual on the concatenation couples back into both branches', async () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 3, 4, 4]);
    const cat = op('cat', 'Concat', [conv('a', x, 3, 4), conv('bb', x, 3, 5)], { axis: 1 });
    const y = op('res', 'Add', [cat, conv('c', op('r', 'Relu', [cat]), 9, 9)]);
    b.output(conv('out', y, 9, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['a+bb+c:9', 'out:2!']));
  });

  it('Split and Slice along channels rewrite their sizes and bounds', async () => {
    const { b, op, conv } = graph(13);
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 10);
    const parts = b.node('Split', [x, b.int64('sizes', [4, 6])], { axis: 1 }, { outputs: 2, name: 'split' });
    const s = op('slice', 'Slice', [parts.output(1), b.int64('st', [1]), b.int64('en', [5]), b.int64('ax', [1])]);
    const y = op('cat', 'Concat', [conv('p0', parts.output(0), 4, 3), conv('p1', s, 4, 3)], { axis: 1 });
    b.output(conv('out', y, 6, 2));
    await ruleCase(b, (g) => {
      expect(shapeOf(g)).toEqual(['c1:10', 'p0:3', 'p1:3', 'out:2!']);
      // The first split segment and the slice of the second must each keep a channel.
      expect(g[0]!.nonEmpty).toEqual([[0, 1, 2, 3], [5, 6, 7, 8]]);
    });
  });
});

describe('flatten and reshape', () => {
  it('Flatten into Gemm: each channel becomes H·W consecutive features', async () => {
    const { b, op, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 5);
    const f = op('flat', 'Flatten', [op('pool', 'MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] })], { axis: 1 });
    const h = op('fc1', 'Gemm', [f, b.weight('fc1.w', [6, 20]), b.weight('fc1.b', [6])], { transB: 1 });
    b.output(op('fc2', 'Gemm', [op('r', 'Relu', [h]), b.weight('fc2.w', [6, 3])]));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:5', 'fc1:6', 'fc2:3!']));
  });

  it('Reshape [N,C,H,W] → [N,C·H·W] into MatMul, and Squeeze/Unsqueeze', async () => {
    const { b, op, conv } = graph(13);
    const x = conv('c1', b.input('x', [2, 3, 3, 3]), 3, 4);
    const r = op('reshape', 'Reshape', [x, b.int64('shape', [2, 36])]);
    const u = op('unsq', 'Unsqueeze', [r, b.int64('ua', [1])]);
    const s = op('sq', 'Squeeze', [u, b.int64('sa', [1])]);
    b.output(op('mm', 'MatMul', [s, b.weight('mm.w', [36, 3])]));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:4', 'mm:3!']));
  });

  it('attention heads: Reshape into heads + Transpose; whole heads are the units', async () => {
    const { b, op, dense } = graph();
    const x = b.input('x', [1, 5, 12]);
    const heads = (name: string) => op(`${name}.t`, 'Transpose', [op(`${name}.r`, 'Reshape', [dense(name, x, 12, 12), b.int64(`${name}.s`, [1, 5, 3, 4])])], { perm: [0, 2, 1, 3] });
    const q = heads('q');
    const k = op('kt', 'Transpose', [heads('k')], { perm: [0, 1, 3, 2] });
    const v = heads('v');
    const att = op('softmax', 'Softmax', [op('scale', 'Mul', [op('qk', 'MatMul', [q, k]), b.weight('sc', [], [0.5])])], { axis: -1 });
    const o = op('merge', 'Reshape', [op('ot', 'Transpose', [op('av', 'MatMul', [att, v])], { perm: [0, 2, 1, 3] }), b.int64('ms', [1, 5, 12])]);
    b.output(dense('proj', o, 12, 12));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['q+k+v:3', 'proj:12!']));
  });
});

describe('spatial and reduction ops', () => {
  it('pools, ReduceMean/ReduceSum over other axes, Resize, Pad, Softmax over another axis pass channels', async () => {
    const { b, op, conv } = graph(13);
    let x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 6);
    x = op('avg', 'AveragePool', [x], { kernel_shape: [2, 2], strides: [1, 1] });
    x = op('up', 'Resize', [x, null, b.weight('scales', [4], [1, 1, 2, 2])], { mode: 'nearest' });
    x = op('pad', 'Pad', [x, b.int64('pads', [0, 0, 1, 1, 0, 0, 1, 1])]);
    // x · softmax(x) (attention pooling), not softmax alone: GAP of a softmax over W is 1/W for every channel, a
    // constant the oracle's perturbation tracing cannot see (see helpers/maskedReference.ts).
    x = op('att', 'Mul', [x, op('sm', 'Softmax', [x], { axis: 3 })]);
    const r = op('rsum', 'ReduceSum', [x, b.int64('axes', [2])], { keepdims: 1 });
    x = op('mul', 'Mul', [x, op('rmean', 'ReduceMean', [r], { axes: [3], keepdims: 1 })]);
    x = op('gap', 'GlobalAveragePool', [x]);
    b.output(conv('c2', x, 6, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:6', 'c2:2!']));
  });
});

describe('dense consumers', () => {
  it('Gemm with transB 0 and 1, MatMul', async () => {
    const { b, op } = graph();
    const x = b.input('x', [3, 5]);
    const h1 = op('g1', 'Gemm', [x, b.weight('g1.w', [5, 7]), b.weight('g1.b', [7])]);
    const h2 = op('g2', 'Gemm', [op('r1', 'Relu', [h1]), b.weight('g2.w', [6, 7]), b.weight('g2.b', [1, 6])], { transB: 1, alpha: { float: 0.5 } });
    b.output(op('mm', 'MatMul', [op('r2', 'Tanh', [h2]), b.weight('mm.w', [6, 2])]));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['g1:7', 'g2:6', 'mm:2!']));
  });
});

describe('squeeze-excite', () => {
  it('both the SE hidden width and the trunk channels (coupled with the gate) are groups', async () => {
    const { b, op, conv } = graph();
    const trunk = op('act', 'Relu', [conv('c1', b.input('x', [1, 3, 5, 5]), 3, 8, 3)]);
    const s = op('gap', 'GlobalAveragePool', [trunk]);
    const e = conv('se2', op('se_act', 'Relu', [conv('se1', s, 8, 3)]), 3, 8);
    const y = op('gate', 'Mul', [trunk, op('hsig', 'HardSigmoid', [e])]);
    b.output(conv('c2', y, 8, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1+se2:8', 'se1:3', 'c2:2!']));
  });
});
