/** Policy: what is declined and why, shared and oddly stored constants, and keep-list validation. */
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AttrType, AttributeProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { constantNodeTensor } from '../../src/ir/constants.js';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { Graph } from '../../src/ir/graph.js';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Value } from '../../src/ir/value.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { formatGroups, groupsToJson } from '../../src/passes/dependency/format.js';
import { pruneChannels } from '../../src/passes/pruneChannels.js';
import { ruleCase, shapeOf } from './helpers/ruleCase.js';

function graph(opset = 17) {
  const b = new ModelBuilder(opset, 3);
  const op = (name: string, type: string, inputs: (Value | null)[], attrs: Parameters<ModelBuilder['op']>[2] = {}, domain = '') => b.op(type, inputs, attrs, { name, domain });
  const conv = (name: string, x: Value, cin: number, cout: number, w?: Value) =>
    op(name, 'Conv', [x, w ?? b.weight(`${name}.w`, [cout, cin, 1, 1]), b.weight(`${name}.b`, [cout])]);
  return { b, op, conv };
}

describe('declined groups name the op and the node', () => {
  it('an op the table does not know (any domain) declines every group it touches', () => {
    const { b, op, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 5);
    const y = op('mystery', 'MyOp', [x], {}, 'com.example');
    const z = op('einsum', 'Einsum', [conv('c2', x, 5, 4)], { equation: 'nchw->nchw' });
    b.output(y);
    b.output(conv('c3', z, 4, 2));
    const groups = analyze(b.build());
    expect(groups.find((g) => g.producers[0]!.label === 'c1')!.reason).toContain("op com.example.MyOp (node 'mystery') is not in the rule table");
    expect(groups.find((g) => g.producers[0]!.label === 'c2')!.reason).toContain("op Einsum (node 'einsum') is not in the rule table");
  });

  it('control flow using a channel (directly or from its body) declines the group', () => {
    const { b, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 5);
    const cond = b.input('cond', [], DataType.BOOL);
    const branch = (name: string) => {
      const g = new Graph({ name, parent: b.graph });
      const n = g.addNode('Relu', [x], [`${name}_out`]);
      g.outputs.push(n.output(0));
      return g;
    };
    const iff = b.node('If', [cond], {}, { name: 'branchy' });
    for (const name of ['then_branch', 'else_branch']) {
      iff.attributes = [...iff.attributes, create(AttributeProtoSchema, { name, type: AttrType.GRAPH })];
      iff.subgraphs.set(name, [branch(name)]);
    }
    b.output(iff.output(0));
    const [g] = analyze(b.build());
    expect(g!.prunable).toBe(false);
    expect(g!.reason).toContain("If 'branchy': control flow (If) uses these channels");
  });

  it('Softmax, ReduceMean (outside a LayerNorm) and Gather across the channels decline', () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 3, 4, 4]);
    b.output(op('sm', 'Softmax', [conv('a', x, 3, 4)], { axis: 1 }));
    b.output(op('mean', 'ReduceMean', [conv('c', x, 3, 4)], { axes: [1], keepdims: 1 }));
    b.output(op('pick', 'Gather', [conv('d', x, 3, 4), b.int64('i', [0], [])], { axis: 1 }));
    const reasons = analyze(b.build()).map((g) => g.reason);
    expect(reasons[0]).toContain("Softmax 'sm': normalizes across the channels (axis 1)");
    expect(reasons[1]).toContain("ReduceMean 'mean': reduces over the channels (axis 1)");
    expect(reasons[2]).toContain("Gather 'pick': gathers along the channels");
  });

  it('channels that reach a graph output are never pruned; a one-channel group cannot be', () => {
    const { b, conv } = graph();
    const x = conv('c1', b.input('x', [1, 3, 4, 4]), 3, 1);
    b.output(conv('c2', x, 1, 4));
    const groups = analyze(b.build());
    expect(groups.map((g) => g.reason)).toEqual(['a single channel, which cannot be removed', "its channels reach the graph output 'c2_out0'"]);
    expect(() => pruneChannels(b.build(), new Map([[1, [0, 1]]]))).toThrow(/cannot be pruned: its channels reach the graph output/);
  });
});

describe('constants in any storage', () => {
  it('a weight shared by two layers in different groups gets a sliced copy per use', async () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 4, 3, 3]);
    const shared = b.weight('shared', [4, 4, 1, 1]);
    const y = conv('a', op('r', 'Relu', [conv('a0', x, 4, 4)]), 4, 4, shared);
    const z = conv('c', op('s', 'Sigmoid', [conv('c0', x, 4, 4)]), 4, 4, shared);
    b.output(conv('out', op('sum', 'Concat', [y, z], { axis: 1 }), 8, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['a0:4', 'a:4', 'c0:4', 'c:4', 'out:2!']));
  });

  it('weights stored in Constant nodes are sliced in place, in the node', async () => {
    const { b, op } = graph();
    const k = (name: string, dims: number[]) => op(name, 'Constant', [], { value: Tensor.fromFloat32(name, dims, Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i + dims[0]!))) });
    const h = op('c1', 'Conv', [b.input('x', [1, 3, 4, 4]), k('w1', [6, 3, 1, 1]), k('b1', [6])]);
    b.output(op('c2', 'Conv', [op('r', 'Relu', [h]), k('w2', [2, 6, 1, 1])]));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:6', 'c2:2!']));
    const m = b.build();
    pruneChannels(m, new Map([[0, [1, 4]]]));
    const w1 = m.graph.nodes.find((n) => n.name === 'w1')!;
    expect(constantNodeTensor(w1)!.dims).toEqual([2, 3, 1, 1]);
    expect(m.graph.initializers).toHaveLength(0);
  });

  it('float16 weights behind Cast are sliced as float16', async () => {
    const { b, op } = graph();
    const half = (name: string, dims: number[]) => op(`${name}.cast`, 'Cast', [b.weight(name, dims, undefined, 0.5, DataType.FLOAT16)], { to: DataType.FLOAT });
    const h = op('fc1', 'Gemm', [b.input('x', [2, 5]), half('w1', [7, 5]), half('b1', [7])], { transB: 1 });
    b.output(op('fc2', 'Gemm', [op('r', 'Relu', [h]), half('w2', [3, 7])], { transB: 1 }));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['fc1:7', 'fc2:3!']));
    const m = b.build();
    pruneChannels(m, new Map([[0, [0, 2, 3]]]));
    const w1 = m.graph.initializers.find((v) => v.name === 'w1')!.initializer!;
    expect([w1.dataType, w1.dims]).toEqual([DataType.FLOAT16, [3, 5]]);
  });

  it('a Concat with an untraced input keeps that input whole', async () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 3, 4, 4]);
    b.output(conv('out', op('cat', 'Concat', [x, op('r', 'Relu', [conv('c1', x, 3, 5)])], { axis: 1 }), 8, 2));
    await ruleCase(b, (g) => expect(shapeOf(g)).toEqual(['c1:5', 'out:2!']));
  });
});

describe('keep lists', () => {
  const build = () => {
    const { b, op, conv } = graph();
    b.output(conv('c2', op('r', 'Relu', [conv('c1', b.input('x', [1, 3, 4, 4]), 3, 5)]), 5, 2));
    return b.build();
  };
  it.each([
    [[], /would lose all of its 5 channels/],
    [[2, 1], /must be sorted and unique/],
    [[1, 1], /must be sorted and unique/],
    [[0, 5], /index 5 is out of range \[0, 5\)/],
    [[0.5], /index 0.5 is out of range/],
  ])('rejects %j without touching the model', (keep, message) => {
    const m = build();
    const before = encodeModel(m);
    expect(() => pruneChannels(m, new Map([[0, keep]]))).toThrow(UserError);
    expect(() => pruneChannels(m, new Map([[0, keep]]))).toThrow(message);
    expect(encodeModel(m)).toEqual(before);
  });

  it('rejects unknown group ids; accepts a plain object', () => {
    expect(() => pruneChannels(build(), new Map([[7, [0]]]))).toThrow(/no channel group 7 \(the model has 2\)/);
    const m = pruneChannels(build(), { 0: [0, 3] });
    expect(decodeModel(encodeModel(m)).graph.initializers.find((v) => v.name === 'c1.w')!.initializer!.dims).toEqual([2, 3, 1, 1]);
  });
});

describe('printing', () => {
  it('formats groups as readable chains and as JSON', () => {
    const { b, op, conv } = graph();
    const x = conv('conv1', b.input('x', [1, 3, 4, 4]), 3, 5);
    const y = op('relu', 'Relu', [op('bn1', 'BatchNormalization', [x, b.weight('s', [5]), b.weight('o', [5]), b.weight('m', [5]), b.weight('v', [5], [1, 1, 1, 1, 1])])]);
    b.output(op('add', 'Add', [conv('conv2', y, 5, 2), conv('conv3', y, 5, 2)]));
    const groups = analyze(b.build());
    expect(groups[0]!.members).toBe('conv1 → bn1 → relu → {conv2.in, conv3.in}');
    // conv1 15 + bias 5 + BN 4×5 + the input columns of conv2 and conv3 2×5 each; MACs over 4×4 outputs.
    expect([groups[0]!.params, groups[0]!.macs]).toEqual([60, (15 + 10 + 10) * 16]);
    expect(formatGroups(groups)).toContain('#0 conv 5 ch  params 60  MACs 560  prunable\n   conv1 → bn1 → relu → {conv2.in, conv3.in}');
    expect(groupsToJson(groups).groups[1]).toMatchObject({ id: 1, producers: ['conv2', 'conv3'], channels: 2, prunable: false, reason: "its channels reach the graph output 'add_out0'" });
  });
});
