import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import type { Value } from '../../src/ir/value.js';
import { initTrainingBackend } from '../../src/train/backend.js';
import { Executor } from '../../src/train/executor.js';
import { ort, relativeError, runOrt, seededNormal } from '../support/index.js';

/**
 * Single ops and short chains the fixtures do not cover (ConvTranspose, asymmetric/ceil-mode pools, strided and
 * reversed slices, channels-last broadcasting...) against onnxruntime. Convs come first in most chains so the ops
 * after them see channels-last inputs, the executor's layout path.
 */
type Build = (b: ModelBuilder, x: Value) => Value;
interface Case { name: string; input: number[]; build: Build; opset?: number }

const conv = (b: ModelBuilder, x: Value, cin: number, cout: number): Value =>
  b.op('Conv', [x, b.weight(`w${cin}_${cout}`, [cout, cin, 3, 3]), b.weight(`b${cout}`, [cout])], { pads: [1, 1, 1, 1] });

const cases: Case[] = [
  { name: 'Conv stride 2, asymmetric pads, bias', input: [2, 3, 9, 8],
    build: (b, x) => b.op('Conv', [x, b.weight('w', [4, 3, 3, 3]), b.weight('b', [4])], { strides: [2, 2], pads: [0, 1, 1, 0] }) },
  { name: 'Conv dilation 2', input: [1, 3, 9, 9], build: (b, x) => b.op('Conv', [x, b.weight('w', [4, 3, 3, 3])], { dilations: [2, 2], pads: [2, 1, 2, 1] }) },
  { name: 'Conv dilation 2 stride 2', input: [1, 2, 11, 10], build: (b, x) => b.op('Conv', [x, b.weight('w', [3, 2, 3, 3])], { dilations: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { name: 'Conv group 2', input: [1, 4, 6, 6], build: (b, x) => b.op('Conv', [x, b.weight('w', [6, 2, 3, 3])], { group: 2, pads: [1, 1, 1, 1] }) },
  { name: 'Conv depthwise multiplier 2, stride 2', input: [1, 3, 7, 7],
    build: (b, x) => b.op('Conv', [x, b.weight('w', [6, 1, 3, 3]), b.weight('b', [6])], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { name: 'Conv auto_pad SAME_UPPER', input: [1, 2, 7, 7], build: (b, x) => b.op('Conv', [x, b.weight('w', [3, 2, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }) },
  { name: 'Conv auto_pad SAME_LOWER', input: [1, 2, 8, 8], build: (b, x) => b.op('Conv', [x, b.weight('w', [3, 2, 4, 4])], { auto_pad: 'SAME_LOWER' }) },
  { name: 'Conv 1-D', input: [2, 3, 10], build: (b, x) => b.op('Conv', [x, b.weight('w', [4, 3, 3]), b.weight('b', [4])], { pads: [1, 0], strides: [2] }) },
  { name: 'ConvTranspose stride 2, output_padding', input: [1, 4, 5, 5],
    build: (b, x) => b.op('ConvTranspose', [x, b.weight('w', [4, 3, 3, 3]), b.weight('b', [3])], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }) },
  { name: 'ConvTranspose groups 2, dilation 2', input: [1, 4, 4, 4], build: (b, x) => b.op('ConvTranspose', [x, b.weight('w', [4, 2, 3, 3])], { group: 2, dilations: [2, 2] }) },
  { name: 'ConvTranspose depthwise stride 2', input: [1, 3, 4, 5], build: (b, x) => b.op('ConvTranspose', [x, b.weight('w', [3, 1, 4, 4])], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { name: 'ConvTranspose output_shape', input: [1, 2, 4, 4], build: (b, x) => b.op('ConvTranspose', [x, b.weight('w', [2, 3, 3, 3])], { strides: [2, 2], output_shape: [9, 9] }) },
  { name: 'ConvTranspose pads beyond the kernel reach', input: [1, 2, 5, 5], build: (b, x) => b.op('ConvTranspose', [x, b.weight('w', [2, 2, 2, 2])], { strides: [2, 2], pads: [2, 1, 1, 2] }) },
  { name: 'ConvTranspose 1-D', input: [1, 2, 6], build: (b, x) => b.op('ConvTranspose', [x, b.weight('w', [2, 3, 3])], { strides: [3] }) },
  { name: 'MaxPool ceil_mode', input: [1, 2, 8, 8], build: (b, x) => b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }) },
  { name: 'MaxPool asymmetric pads', input: [1, 2, 7, 7], build: (b, x) => b.op('MaxPool', [conv(b, x, 2, 3)], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1] }) },
  { name: 'MaxPool 1-D', input: [1, 2, 9], build: (b, x) => b.op('MaxPool', [x], { kernel_shape: [3], strides: [2], pads: [1, 1] }) },
  { name: 'AveragePool pads, count_include_pad 0', input: [1, 2, 7, 6], build: (b, x) => b.op('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { name: 'AveragePool pads, count_include_pad 1', input: [1, 2, 7, 6], build: (b, x) => b.op('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 0], count_include_pad: 1 }) },
  { name: 'AveragePool ceil_mode with pads', input: [1, 2, 8, 7], build: (b, x) => b.op('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }) },
  { name: 'AveragePool ceil_mode, no pads', input: [1, 2, 8, 7], build: (b, x) => b.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }) },
  { name: 'GlobalMaxPool', input: [2, 3, 5, 4], build: (b, x) => b.op('GlobalMaxPool', [conv(b, x, 3, 4)]) },
  { name: 'Slice steps 2 and -1 on channels-last', input: [2, 3, 8, 6],
    build: (b, x) => b.op('Slice', [conv(b, x, 3, 5), b.int64('s', [1, 7, 0]), b.int64('e', [5, -9, 6]), b.int64('a', [2, 1, 3]), b.int64('st', [2, -2, 1])]) },
  { name: 'Slice clamped ends', input: [2, 6], build: (b, x) => b.op('Slice', [x, b.int64('s', [-100]), b.int64('e', [2 ** 40]), b.int64('a', [1])]) },
  { name: 'Split channels-last, Concat reversed', input: [1, 2, 5, 5], build: (b, x) => {
    const n = b.node('Split', [conv(b, x, 2, 6), b.int64('sp', [2, 4])], { axis: 1 }, { outputs: 2 });
    return b.op('Concat', [n.output(1), n.output(0)], { axis: 1 });
  } },
  { name: 'Concat of channels-last and NCHW inputs', input: [1, 2, 4, 4], build: (b, x) => b.op('Concat', [conv(b, x, 2, 3), x], { axis: 1 }) },
  { name: 'Mul by [C,1,1], Add [W], Sub [1,C,1,1]', input: [2, 3, 4, 5], build: (b, x) => {
    const y = conv(b, x, 3, 4);
    const m = b.op('Mul', [y, b.weight('m', [4, 1, 1])]);
    const a = b.op('Add', [m, b.weight('a', [5])]);
    return b.op('Sub', [b.weight('s', [1, 4, 1, 1]), a]);
  } },
  { name: 'ReduceMean keepdims 0, ReduceSum axes input', input: [2, 3, 4, 5], build: (b, x) => {
    const y = conv(b, x, 3, 4);
    const r = b.op('ReduceSum', [y, b.int64('ax', [1])], { keepdims: 1 });
    return b.op('ReduceMean', [b.op('Add', [y, r]), ], { axes: [2, 3], keepdims: 0 });
  } },
  { name: 'Transpose of a channels-last value', input: [1, 2, 3, 4], build: (b, x) => b.op('Transpose', [conv(b, x, 2, 3)], { perm: [0, 2, 1, 3] }) },
  { name: 'Gather channels with an index vector', input: [1, 2, 4, 4], build: (b, x) => b.op('Gather', [conv(b, x, 2, 5), b.int64('i', [4, -1, 0])], { axis: 1 }) },
  { name: 'Gather a scalar index', input: [3, 4, 5], build: (b, x) => b.op('Gather', [x, b.int64('i', [-2], [])], { axis: 2 }) },
  { name: 'MatMul batched broadcast', input: [2, 1, 4, 5], build: (b, x) => b.op('MatMul', [x, b.weight('w', [3, 5, 2])]) },
  { name: 'MatMul linear over [..., K] and vector', input: [2, 3, 4], build: (b, x) => b.op('MatMul', [b.op('MatMul', [x, b.weight('w', [4, 6])]), b.weight('v', [6])]) },
  { name: 'Gemm transA transB alpha beta', input: [5, 3], build: (b, x) => b.op('Gemm', [x, b.weight('w', [4, 5]), b.weight('c', [4])], { transA: 1, transB: 1, alpha: { float: 0.7 }, beta: { float: 1.5 } }) },
  { name: 'Clip min only, HardSigmoid, LeakyRelu, Elu, PRelu', input: [1, 3, 4, 4], build: (b, x) => {
    const y = conv(b, x, 3, 3);
    const c = b.op('Clip', [y, b.weight('lo', [], [-0.1])]);
    const h = b.op('HardSigmoid', [c], { alpha: { float: 0.3 }, beta: { float: 0.4 } });
    const l = b.op('LeakyRelu', [b.op('Sub', [y, h])], { alpha: { float: 0.2 } });
    const e = b.op('Elu', [l], { alpha: { float: 0.5 } });
    return b.op('PRelu', [b.op('Neg', [e]), b.weight('slope', [3, 1, 1])]);
  } },
  { name: 'BatchNormalization on [N,C] and [N,C,L]', input: [2, 3, 5], build: (b, x) => {
    const p = (n: string, lo = 0): Value => b.weight(n, [3], lo ? [1, 0.5, 2] : undefined);
    const y = b.op('BatchNormalization', [x, p('s'), p('bb'), p('m'), p('v', 1)], { epsilon: { float: 1e-3 } });
    const f = b.op('Flatten', [y], { axis: 2 });
    return b.op('BatchNormalization', [b.op('Reshape', [f, b.int64('sh', [2, 3, 5])]), p('s2'), p('b2'), p('m2'), p('v2', 1)]);
  } },
  { name: 'InstanceNormalization', input: [2, 3, 4, 5], build: (b, x) => b.op('InstanceNormalization', [x, b.weight('s', [3]), b.weight('b', [3])]) },
  { name: 'LayerNormalization, Gelu (opset 20)', input: [2, 3, 8], opset: 20, build: (b, x) =>
    b.op('Gelu', [b.op('LayerNormalization', [x, b.weight('g', [8]), b.weight('b', [8])], { axis: -1, epsilon: { float: 1e-5 } })]) },
  { name: 'Gelu tanh (opset 20)', input: [2, 7], opset: 20, build: (b, x) => b.op('Gelu', [x], { approximate: 'tanh' }) },
  { name: 'Softmax axis 1 (opset 11, 2-D coercion)', input: [2, 3, 4], opset: 11, build: (b, x) => b.op('Softmax', [x], { axis: 1 }) },
  { name: 'Softmax axis 1 (opset 13)', input: [2, 3, 4], build: (b, x) => b.op('Softmax', [x], { axis: 1 }) },
  { name: 'LogSoftmax', input: [2, 5], build: (b, x) => b.op('LogSoftmax', [x]) },
  { name: 'Pad reflect on channels-last', input: [1, 2, 5, 5], build: (b, x) => b.op('Pad', [conv(b, x, 2, 2), b.int64('p', [0, 0, 1, 2, 0, 0, 2, 1])], { mode: 'reflect' }) },
  { name: 'Pad constant value', input: [2, 3], build: (b, x) => b.op('Pad', [x, b.int64('p', [1, 0, 0, 2]), b.weight('v', [], [0.25])]) },
  { name: 'Expand, Tile, Where, Equal', input: [2, 1, 3], build: (b, x) => {
    const e = b.op('Expand', [x, b.int64('sh', [2, 4, 3])]);
    const t = b.op('Tile', [x, b.int64('r', [1, 4, 1])]);
    return b.op('Where', [b.op('Greater', [e, b.weight('z', [], [0])]), e, b.op('Mul', [t, b.weight('k', [], [3])])]);
  } },
  { name: 'Squeeze, Unsqueeze, Flatten', input: [2, 1, 3, 1], build: (b, x) =>
    b.op('Flatten', [b.op('Unsqueeze', [b.op('Squeeze', [x, b.int64('a', [1])]), b.int64('u', [0, -1])])], { axis: 2 }) },
  { name: 'Shape start/end into Reshape with 0 and -1', input: [2, 3, 4], build: (b, x) => {
    const s = b.op('Shape', [x], { start: 0, end: 1 });
    return b.op('Reshape', [x, b.op('Concat', [s, b.int64('rest', [-1])], { axis: 0 })]);
  } },
  { name: 'Resize nearest asymmetric floor on channels-last', input: [1, 2, 3, 4], build: (b, x) =>
    b.op('Resize', [conv(b, x, 2, 3), null, b.weight('sc', [4], [1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }) },
  { name: 'Resize nearest half_pixel round_prefer_ceil by 1.5', input: [1, 2, 4, 4], build: (b, x) =>
    b.op('Resize', [x, null, b.weight('sc', [4], [1, 1, 1.5, 1.5])], { mode: 'nearest', nearest_mode: 'round_prefer_ceil' }) },
  { name: 'Resize linear half_pixel to sizes', input: [2, 3, 5, 4], build: (b, x) =>
    b.op('Resize', [x, null, null, b.int64('sz', [2, 3, 7, 9])], { mode: 'linear' }) },
  { name: 'Resize linear align_corners, downscale', input: [1, 2, 6, 7], build: (b, x) =>
    b.op('Resize', [x, null, null, b.int64('sz', [1, 2, 3, 4])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }) },
  { name: 'Resize linear pytorch_half_pixel', input: [1, 1, 3, 5], build: (b, x) =>
    b.op('Resize', [x, null, b.weight('sc', [4], [1, 1, 2, 0.5])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }) },
  { name: 'Dropout at inference, Identity', input: [2, 4], build: (b, x) => b.op('Identity', [b.op('Dropout', [x, b.weight('r', [], [0.5])])]) },
  { name: 'Sqrt, Pow, Reciprocal, Exp, Log, Abs, Tanh', input: [3, 4], build: (b, x) => {
    const a = b.op('Abs', [x]);
    const p = b.op('Pow', [b.op('Sqrt', [a]), b.weight('e', [], [3])]);
    return b.op('Tanh', [b.op('Log', [b.op('Add', [b.op('Exp', [b.op('Reciprocal', [b.op('Add', [p, b.weight('one', [], [1])])])]), a])])]);
  } },
  { name: 'Cos, Sin, Pow 2 (as a square)', input: [3, 5], build: (b, x) =>
    b.op('Add', [b.op('Cos', [x]), b.op('Mul', [b.op('Sin', [x]), b.op('Pow', [x, b.weight('two', [], [2])])])]) },
  { name: 'Expand to rank 5 (repeat_kv)', input: [2, 3, 1, 4, 2], build: (b, x) => b.op('Expand', [x, b.int64('sh', [2, 3, 2, 4, 2])]) },
];

describe.each(['wasm', 'cpu'] as const)('single ops equal onnxruntime (%s backend)', (backend) => {
  beforeAll(async () => { await initTrainingBackend(backend); });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const b = new ModelBuilder(c.opset ?? 17, 7);
    const x = b.input('x', c.input);
    const y = c.build(b, x);
    y.elemType = DataType.FLOAT;
    b.output(y);
    const model = b.build();
    const xs = seededNormal(c.input, 11);
    const want = (await runOrt(model, { x: new ort.Tensor('float32', xs, c.input) }))[y.name]!;
    const exec = new Executor(model);
    try {
      const [got] = exec.predict([tf.tensor(xs, c.input)]);
      expect(got!.shape).toEqual(want.dims);
      expect(relativeError(got!.dataSync(), want, 1)).toBeLessThan(1e-5);
      got!.dispose();
    } finally {
      exec.dispose();
    }
  });
});

describe('unsupported input', () => {
  it('names the op and node it cannot run', async () => {
    await initTrainingBackend('wasm');
    const b = new ModelBuilder();
    const x = b.input('x', [1, 4]);
    b.output(b.op('Det', [x], {}, { name: 'the_det' }));
    const exec = new Executor(b.build());
    expect(() => exec.predict([tf.zeros([1, 4])])).toThrow(UserError);
    expect(() => exec.predict([tf.zeros([1, 4])])).toThrow(/op Det \(node 'the_det'\)/);
    exec.dispose();
  });
});
