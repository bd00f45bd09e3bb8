import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Shape, Value } from '../../src/ir/value.js';

/**
 * Small graphs for the cases exporters make hard (folded shape chains, ConvTranspose, asymmetric pads, ceil_mode,
 * opset-dependent arguments), each with the shapes worked out by hand. The test also checks them against
 * python-onnx and onnxruntime.
 */
export interface HandCase {
  name: string;
  opset: number;
  build(b: ModelBuilder): [Value, Shape][];
  /** Values where python-onnx 1.12 is known to differ (it predates a spec fix); the runtime still decides. */
  pythonDiffers?: string[];
  /** Skip onnxruntime (no runnable graph, e.g. opsets python-onnx cannot check either way). */
  noRuntime?: boolean;
}

const INT64_MAX = 2n ** 63n - 1n;

/** An int64 initializer that may hold INT64_MAX (the exporters' "to the end"). */
function big(b: ModelBuilder, name: string, values: bigint[]): Value {
  return b.graph.addInitializer(Tensor.fromInt64(name, [values.length], values));
}

/** Shape(x)[i] as a 1-element vector, the way torch exports `x.size(i)` into a Concat. */
function dimOf(b: ModelBuilder, x: Value, i: number): Value {
  const s = b.op('Shape', [x]);
  const g = b.op('Gather', [s, b.int64(`i${i}_${x.name}`, [i], [])], { axis: 0 });
  return b.op('Unsqueeze', [g, b.int64(`ax0_${x.name}_${i}`, [0])]);
}

export const HAND_CASES: HandCase[] = [
  {
    name: 'Reshape from a folded Shape→Gather→Unsqueeze→Concat chain, symbolic batch',
    opset: 13,
    build(b) {
      const x = b.input('x', ['N', 6, 4, 4]);
      const target = b.op('Concat', [dimOf(b, x, 0), b.int64('minus1', [-1])], { axis: 0 });
      const flat = b.op('Reshape', [x, target]);
      const split = b.op('Reshape', [x, b.int64('zero_m1_2', [0, -1, 2])]);
      const back = b.op('Reshape', [flat, b.op('Shape', [x])]);
      b.output(flat); b.output(split); b.output(back);
      return [[flat, ['N', 96]], [split, ['N', 48, 2]], [back, ['N', 6, 4, 4]]];
    },
  },
  {
    name: 'Reshape with allowzero and a copied 0',
    opset: 14,
    build(b) {
      const x = b.input('x', [0, 3]);
      const y = b.op('Reshape', [x, b.int64('s30', [3, 0])], { allowzero: 1 });
      const z = b.op('Reshape', [b.input('u', [2, 3, 4]), b.int64('s0m1', [0, -1])]);
      b.output(y); b.output(z);
      return [[y, [3, 0]], [z, [2, 12]]];
    },
  },
  {
    name: 'Resize sizes computed by Shape→Slice→Cast→Mul→Floor→Cast→Concat (torch opset 11 upsampling)',
    opset: 11,
    build(b) {
      const x = b.input('x', [1, 8, 6, 10]);
      const s = b.op('Shape', [x]);
      const nc = b.op('Slice', [s, b.int64('st0', [0]), b.int64('en2', [2]), b.int64('ax0', [0])]);
      const hw = b.op('Slice', [s, b.int64('st2', [2]), big(b, 'enMax', [INT64_MAX]), b.int64('ax0b', [0])]);
      const f = b.op('Cast', [hw], { to: DataType.FLOAT });
      const scaled = b.op('Mul', [f, b.weight('scale', [2], [2, 1.5])]);
      const sizes2 = b.op('Cast', [b.op('Floor', [scaled])], { to: DataType.INT64 });
      const sizes = b.op('Concat', [nc, sizes2], { axis: 0 });
      const empty = b.weight('empty', [0], []);
      const y = b.op('Resize', [x, empty, empty, sizes], { mode: 'nearest' });
      b.output(y);
      return [[sizes, [4]], [y, [1, 8, 12, 15]]];
    },
  },
  {
    name: "torch's Expand: Where(Equal(shape, -1), ones, shape) with a symbolic dim",
    opset: 13,
    build(b) {
      const y = b.input('y', ['B', 7]);
      const x = b.input('x', [1, 3, 1]);
      const s = b.op('Concat', [dimOf(b, y, 0), b.int64('m1_5', [-1, 5])], { axis: 0 });
      const eq = b.op('Equal', [s, b.int64('m1', [-1])]);
      const ones = b.op('ConstantOfShape', [b.op('Shape', [s])], { value: Tensor.fromInt64('one', [1], [1]) });
      const t = b.op('Where', [eq, ones, s]);
      const z = b.op('Expand', [x, t]);
      b.output(z);
      return [[eq, [3]], [t, [3]], [z, ['B', 3, 5]]];
    },
  },
  {
    name: 'ConvTranspose: strides, asymmetric pads, output_padding, dilations, group; SAME_UPPER; output_shape',
    opset: 13,
    build(b) {
      const x = b.input('x', [1, 4, 5, 7]);
      const w = b.weight('w', [4, 3, 3, 3]);
      const a = b.op('ConvTranspose', [x, w], { group: 2, strides: [2, 3], pads: [1, 0, 2, 1], output_padding: [1, 2], dilations: [1, 2] });
      const same = b.op('ConvTranspose', [x, w, b.weight('bias', [6])], { group: 2, strides: [2, 2], auto_pad: 'SAME_UPPER' });
      const explicit = b.op('ConvTranspose', [x, w], { group: 2, strides: [2, 2], output_shape: [11, 15] });
      b.output(a); b.output(same); b.output(explicit);
      return [[a, [1, 6, 9, 24]], [same, [1, 6, 10, 14]], [explicit, [1, 6, 11, 15]]];
    },
  },
  {
    name: 'Conv: asymmetric pads, strides, dilations, SAME_LOWER, VALID, groups, 1-D',
    opset: 13,
    build(b) {
      const x = b.input('x', [1, 3, 11, 13]);
      const w = b.weight('w', [5, 3, 3, 4]);
      const pads = b.op('Conv', [x, w], { pads: [0, 1, 2, 3], strides: [2, 3], dilations: [2, 1] });
      const same = b.op('Conv', [x, w], { auto_pad: 'SAME_LOWER', strides: [2, 2] });
      const valid = b.op('Conv', [x, w], { auto_pad: 'VALID', strides: [2, 3], dilations: [2, 1] });
      const grouped = b.op('Conv', [b.input('g', [1, 4, 9, 9]), b.weight('wg', [6, 2, 3, 3])], { group: 2 });
      const oneD = b.op('Conv', [b.input('s', [2, 3, 10]), b.weight('w1', [4, 3, 3])], { strides: [2] });
      for (const v of [pads, same, valid, grouped, oneD]) b.output(v);
      return [[pads, [1, 5, 5, 5]], [same, [1, 5, 6, 7]], [valid, [1, 5, 4, 4]], [grouped, [1, 6, 7, 7]], [oneD, [2, 4, 4]]];
    },
  },
  {
    name: 'Pools: ceil_mode (last window starting in the padding is dropped), SAME_UPPER, global',
    opset: 13,
    pythonDiffers: ['maxpool_0_out0'],
    build(b) {
      const x = b.input('x', [1, 2, 5, 5]);
      const dropped = b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 });
      const kept = b.op('AveragePool', [b.input('y', [1, 2, 7, 7])], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 });
      const same = b.op('MaxPool', [b.input('z', [1, 2, 7, 7])], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' });
      const floor = b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
      const global = b.op('GlobalAveragePool', [x]);
      for (const v of [dropped, kept, same, floor, global]) b.output(v);
      return [[dropped, [1, 2, 3, 3]], [kept, [1, 2, 4, 4]], [same, [1, 2, 4, 4]], [floor, [1, 2, 2, 2]], [global, [1, 2, 1, 1]]];
    },
  },
  {
    name: 'Split: sizes as attribute (opset 11)',
    opset: 11,
    build(b) {
      const n = b.node('Split', [b.input('x', [2, 6, 3])], { axis: 1, split: [2, 4] }, { outputs: 2 });
      const eq = b.node('Split', [b.input('y', [9, 2])], {}, { outputs: 3 });
      for (const v of [...n.outputs, ...eq.outputs]) b.output(v!);
      return [[n.output(0), [2, 2, 3]], [n.output(1), [2, 4, 3]], [eq.output(2), [3, 2]]];
    },
  },
  {
    name: 'Split: sizes as input (opset 13), and of a folded shape vector',
    opset: 13,
    build(b) {
      const x = b.input('x', [2, 6, 3]);
      const n = b.node('Split', [x, b.int64('sizes', [1, 5])], { axis: -2 }, { outputs: 2 });
      const parts = b.node('Split', [b.op('Shape', [x]), b.int64('sz12', [1, 2])], {}, { outputs: 2 });
      const y = b.op('Reshape', [b.input('u', [3, 6]), parts.output(1)]);
      for (const v of [...n.outputs, y]) b.output(v!);
      return [[n.output(0), [2, 1, 3]], [n.output(1), [2, 5, 3]], [y, [6, 3]]];
    },
  },
  {
    name: 'Split: num_outputs rounds up (opset 18)',
    opset: 18,
    build(b) {
      const n = b.node('Split', [b.input('x', [10, 2])], { num_outputs: 3 }, { outputs: 3 });
      for (const v of n.outputs) b.output(v!);
      return [[n.output(0), [4, 2]], [n.output(2), [2, 2]]];
    },
  },
  {
    name: 'Slice: negative starts, INT64_MAX ends, axes, steps, negative step; of a Shape',
    opset: 13,
    build(b) {
      const x = b.input('x', [10, 8, 6]);
      const a = b.op('Slice', [x, b.int64('s1', [-3, 1]), big(b, 'e1', [INT64_MAX, -1n]), b.int64('a1', [0, 2]), b.int64('p1', [1, 2])]);
      const back = b.op('Slice', [x, b.int64('s2', [-1]), big(b, 'e2', [-INT64_MAX]), b.int64('a2', [1]), b.int64('p2', [-2])]);
      const hw = b.op('Slice', [b.op('Shape', [x]), b.int64('s3', [1]), b.int64('e3', [3])]);
      const y = b.op('Reshape', [b.input('u', [48]), hw]);
      for (const v of [a, back, y]) b.output(v);
      return [[a, [3, 8, 2]], [back, [10, 4, 6]], [y, [8, 6]]];
    },
  },
  {
    name: 'Slice with attributes (opset 9)',
    opset: 9,
    build(b) {
      const y = b.op('Slice', [b.input('x', [10, 8])], { starts: [2, -3], ends: [100, -1], axes: [0, 1] });
      b.output(y);
      return [[y, [8, 2]]];
    },
  },
  {
    name: 'Squeeze/Unsqueeze axes as attributes (opset 11)',
    opset: 11,
    build(b) {
      const x = b.input('x', [1, 3, 1, 5]);
      const sq = b.op('Squeeze', [x], { axes: [0, -2] });
      const all = b.op('Squeeze', [x]);
      const un = b.op('Unsqueeze', [sq], { axes: [0, 3] });
      for (const v of [sq, all, un]) b.output(v);
      return [[sq, [3, 5]], [all, [3, 5]], [un, [1, 3, 5, 1]]];
    },
  },
  {
    name: 'Squeeze/Unsqueeze axes as inputs (opset 13)',
    opset: 13,
    build(b) {
      const x = b.input('x', [1, 3, 1, 5]);
      const sq = b.op('Squeeze', [x, b.int64('ax', [2])]);
      const un = b.op('Unsqueeze', [sq, b.int64('ax2', [-1, 1])]);
      for (const v of [sq, un]) b.output(v);
      return [[sq, [1, 3, 5]], [un, [1, 1, 3, 5, 1]]];
    },
  },
  {
    name: 'Reductions: axes attribute (opset 13) and input (ReduceSum 13), keepdims, noop_with_empty_axes',
    opset: 13,
    build(b) {
      const x = b.input('x', [2, 3, 4, 5]);
      const mean = b.op('ReduceMean', [x], { axes: [-1, 1], keepdims: 0 });
      const sum = b.op('ReduceSum', [x, b.int64('ax', [2])]);
      const all = b.op('ReduceMax', [x], { keepdims: 0 });
      const noop = b.op('ReduceSum', [x], { noop_with_empty_axes: 1 });
      const arg = b.op('ArgMax', [x], { axis: 2, keepdims: 0 });
      for (const v of [mean, sum, all, noop, arg]) b.output(v);
      return [[mean, [2, 4]], [sum, [2, 3, 1, 5]], [all, []], [noop, [2, 3, 4, 5]], [arg, [2, 3, 5]]];
    },
  },
  {
    name: 'ReduceMean axes as input (opset 18)',
    opset: 18,
    build(b) {
      const y = b.op('ReduceMean', [b.input('x', [2, 3, 4]), b.int64('ax', [1])], { keepdims: 1 });
      b.output(y);
      return [[y, [2, 1, 4]]];
    },
  },
  {
    name: 'Resize by scales and by sizes, roi omitted (opset 13)',
    opset: 13,
    build(b) {
      const x = b.input('x', [1, 3, 5, 7]);
      const byScales = b.op('Resize', [x, null, b.weight('sc', [4], [1, 1, 2, 1.5])], { mode: 'nearest' });
      const bySizes = b.op('Resize', [x, null, null, b.int64('sizes', [1, 3, 9, 4])], { mode: 'linear' });
      for (const v of [byScales, bySizes]) b.output(v);
      return [[byScales, [1, 3, 10, 10]], [bySizes, [1, 3, 9, 4]]];
    },
  },
  {
    name: 'Resize scales as input 1 (opset 10)',
    opset: 10,
    build(b) {
      const y = b.op('Resize', [b.input('x', [1, 3, 5, 7]), b.weight('sc', [4], [1, 1, 2, 2])], { mode: 'nearest' });
      b.output(y);
      return [[y, [1, 3, 10, 14]]];
    },
  },
  {
    name: 'Upsample (opset 9)',
    opset: 9,
    build(b) {
      const y = b.op('Upsample', [b.input('x', [1, 3, 5, 7]), b.weight('sc', [4], [1, 1, 2, 3])], { mode: 'nearest' });
      b.output(y);
      return [[y, [1, 3, 10, 21]]];
    },
  },
  {
    name: 'Pad: pads as input (opset 11)',
    opset: 11,
    build(b) {
      const y = b.op('Pad', [b.input('x', [1, 3, 4, 6]), b.int64('pads', [0, 0, 1, 2, 0, 0, 3, 4])]);
      b.output(y);
      return [[y, [1, 3, 8, 12]]];
    },
  },
  {
    name: 'Pad attribute (opset 10)',
    opset: 10,
    build(b) {
      const y = b.op('Pad', [b.input('x', [1, 3, 4, 6])], { pads: [0, 1, 1, 2, 0, 0, 3, 4] });
      b.output(y);
      return [[y, [1, 4, 8, 12]]];
    },
  },
  {
    name: 'Gemm transA/transB, MatMul batching and 1-D operands, Einsum',
    opset: 13,
    build(b) {
      const g = b.op('Gemm', [b.input('a', [7, 3]), b.weight('bw', [5, 7]), b.weight('c', [5])], { transA: 1, transB: 1 });
      const batched = b.op('MatMul', [b.input('m', [2, 1, 4, 6]), b.input('n', [3, 6, 5])]);
      const vecLeft = b.op('MatMul', [b.input('v', [6]), b.input('k', [2, 6, 5])]);
      const vecRight = b.op('MatMul', [b.input('p', [2, 4, 6]), b.weight('q', [6])]);
      const es = b.op('Einsum', [b.input('e1', [2, 3, 4]), b.input('e2', [2, 4, 5])], { equation: 'bij,bjk->bik' });
      const implicit = b.op('Einsum', [b.input('e3', [3, 4]), b.input('e4', [4, 6])], { equation: 'ij,jk' });
      for (const v of [g, batched, vecLeft, vecRight, es, implicit]) b.output(v);
      return [[g, [3, 5]], [batched, [2, 3, 4, 5]], [vecLeft, [2, 5]], [vecRight, [2, 4]], [es, [2, 3, 5]], [implicit, [3, 6]]];
    },
  },
  {
    name: 'Flatten, Transpose, Gather, Tile, TopK, LayerNormalization, BatchNormalization, Softmax',
    opset: 17,
    build(b) {
      const x = b.input('x', [2, 3, 4, 5]);
      const f0 = b.op('Flatten', [x], { axis: 0 });
      const fm1 = b.op('Flatten', [x], { axis: -1 });
      const t = b.op('Transpose', [x]);
      const g = b.op('Gather', [x, b.int64('idx', [0, 2, 1, 1], [2, 2])], { axis: 2 });
      const tile = b.op('Tile', [x, b.int64('rep', [1, 2, 1, 3])]);
      const topk = b.node('TopK', [x, b.int64('k', [2])], { axis: 1 }, { outputs: 2 });
      const ln = b.node('LayerNormalization', [x, b.weight('lw', [4, 5]), b.weight('lb', [4, 5])], { axis: -2 }, { outputs: 3 });
      const bn = b.op('BatchNormalization', [x, b.weight('s', [3]), b.weight('bb', [3]), b.weight('mu', [3]), b.weight('var', [3], [1, 2, 3])]);
      const sm = b.op('Softmax', [x], { axis: 1 });
      for (const v of [f0, fm1, t, g, tile, topk.output(0), topk.output(1), ln.output(0), ln.output(1), bn, sm]) b.output(v);
      return [[f0, [1, 120]], [fm1, [24, 5]], [t, [5, 4, 3, 2]], [g, [2, 3, 2, 2, 5]], [tile, [2, 6, 4, 15]],
        [topk.output(0), [2, 2, 4, 5]], [topk.output(1), [2, 2, 4, 5]], [ln.output(0), [2, 3, 4, 5]], [ln.output(1), [2, 3, 1, 1]],
        [bn, [2, 3, 4, 5]], [sm, [2, 3, 4, 5]]];
    },
  },
  {
    name: 'Broadcasting with symbolic dims, comparison outputs, Shape start/end (opset 15)',
    opset: 15,
    build(b) {
      const x = b.input('x', ['N', 3, 1, 5]);
      const add = b.op('Add', [x, b.input('y', [4, 1])]);
      const less = b.op('Less', [x, b.weight('zero', [1])]);
      const tail = b.op('Shape', [x], { start: -2 });
      const y = b.op('Reshape', [b.input('u', [5, 1]), tail]);
      for (const v of [add, less, tail, y]) b.output(v);
      return [[add, ['N', 3, 4, 5]], [less, ['N', 3, 1, 5]], [tail, [2]], [y, [1, 5]]];
    },
  },
];
