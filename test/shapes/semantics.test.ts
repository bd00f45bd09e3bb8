import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Value } from '../../src/ir/value.js';

/** What inferShapes promises beyond per-op rules: unknown ops, overwrite, node order, constants. */

/** x → Conv(w1) → Relu → Conv(w2): the pruning rewrite's typical target. */
function convChain() {
  const b = new ModelBuilder(13);
  const x = b.input('x', ['N', 3, 8, 8]);
  const w1 = b.weight('w1', [4, 3, 3, 3]);
  const c1 = b.op('Conv', [x, w1], { pads: [1, 1, 1, 1] });
  const r = b.op('Relu', [c1]);
  const w2 = b.weight('w2', [5, 4, 1, 1]);
  const c2 = b.op('Conv', [r, w2]);
  b.output(c2);
  return { b, x, w1, c1, r, w2, c2 };
}

/** Replaces an initializer's data, as the pruning rewrite does (shape of the Value left stale on purpose). */
function replaceWeight(v: Value, dims: number[]): void {
  const n = dims.reduce((a, d) => a * d, 1);
  v.initializer = Tensor.fromFloat32(v.name, dims, new Float32Array(n));
}

describe('inferShapes semantics', () => {
  it('leaves outputs of unknown ops unknown, names them, and never guesses downstream', () => {
    const b = new ModelBuilder(13);
    const x = b.input('x', [1, 3, 4, 4]);
    const custom = b.op('Foo', [x], {}, { domain: 'com.example' });
    const relu = b.op('Relu', [custom]);
    const madeUp = b.op('NotAnOnnxOp', [x]);
    const proto = b.op('toString', [x]);
    b.output(relu); b.output(madeUp); b.output(proto);
    const result = inferShapes(b.build());
    expect([...result.unknownOps].sort()).toEqual(['NotAnOnnxOp', 'com.example.Foo', 'toString']);
    expect(custom.shape).toBeUndefined();
    expect(relu.shape).toBeUndefined();
    expect(relu.elemType).toBeUndefined();
    expect(result.unresolved.map((v) => v.name).sort()).toEqual([custom.name, madeUp.name, proto.name, relu.name].sort());
  });

  it('keeps existing shapes by default, filling only their unknown dims and computable symbols', () => {
    const { b, c1, r, c2 } = convChain();
    c1.shape = ['N', 4, null, 8];
    r.shape = ['batch', 'C', 8, 8];
    c2.shape = [1, 5, null, null];
    inferShapes(b.build());
    expect(c1.shape).toEqual(['N', 4, 8, 8]);
    expect(r.shape).toEqual(['batch', 4, 8, 8]);
    expect(c2.shape).toEqual([1, 5, 8, 8]);
  });

  it('refuses a declared shape that contradicts the node (another rank or another known size), naming both', () => {
    for (const lie of [[1, 5, 8], ['N', 11, 8, 8]]) {
      const { b, c2 } = convChain();
      c2.shape = lie;
      expect(() => inferShapes(b.build())).toThrow(UserError);
      c2.shape = lie;
      expect(() => inferShapes(b.build())).toThrow(new RegExp(`declared with shape \\[${lie.join(', ')}\\] but the node makes \\[N, 5, 8, 8\\]`));
    }
  });

  it('recomputes every shape downstream of changed weights with overwrite', () => {
    const { b, x, w1, c1, r, w2, c2 } = convChain();
    const model = b.build();
    inferShapes(model);
    expect(c2.shape).toEqual(['N', 5, 8, 8]);
    replaceWeight(w1, [2, 3, 3, 3]);
    replaceWeight(w2, [5, 2, 1, 1]);
    inferShapes(model);
    expect(r.shape).toEqual(['N', 4, 8, 8]);
    inferShapes(model, { overwrite: true });
    expect(w1.shape).toEqual([2, 3, 3, 3]);
    expect(c1.shape).toEqual(['N', 2, 8, 8]);
    expect(r.shape).toEqual(['N', 2, 8, 8]);
    expect(c2.shape).toEqual(['N', 5, 8, 8]);
    expect(x.shape).toEqual(['N', 3, 8, 8]);
  });

  it('with overwrite, keeps an unknown op\'s declared shape only while its inputs are unchanged', () => {
    const b = new ModelBuilder(13);
    const x = b.input('x', [1, 3, 4, 4]);
    const w = b.weight('w', [6, 3, 1, 1]);
    const conv = b.op('Conv', [x, w]);
    const onConv = b.op('Foo', [conv], {}, { domain: 'com.example' });
    const onInput = b.op('Foo', [x], {}, { domain: 'com.example' });
    b.output(onConv); b.output(onInput);
    const model = b.build();
    onConv.shape = [1, 6, 4, 4];
    onInput.shape = [1, 3, 2, 2];
    inferShapes(model, { overwrite: true });
    expect(onConv.shape).toEqual([1, 6, 4, 4]);
    replaceWeight(w, [4, 3, 1, 1]);
    inferShapes(model, { overwrite: true });
    expect(conv.shape).toEqual([1, 4, 4, 4]);
    expect(onConv.shape).toBeUndefined();
    expect(onInput.shape).toEqual([1, 3, 2, 2]);
  });

  it('walks unsorted nodes in dependency order without reordering graph.nodes', () => {
    const { b, c2 } = convChain();
    const model = b.build();
    model.graph.nodes.reverse();
    const order = [...model.graph.nodes];
    inferShapes(model);
    expect(c2.shape).toEqual(['N', 5, 8, 8]);
    expect(model.graph.nodes).toEqual(order);
  });

  it('exposes the folded integer constants of shape chains', () => {
    const b = new ModelBuilder(13);
    const x = b.input('x', [2, 6, 4, 4]);
    const s = b.op('Shape', [x]);
    const n = b.op('Gather', [s, b.int64('zero', [0], [])]);
    const target = b.op('Concat', [b.op('Unsqueeze', [n, b.int64('ax', [0])]), b.int64('m1', [-1])], { axis: 0 });
    const size = b.op('Cast', [b.op('ReduceProd', [s], { keepdims: 0 })], { to: DataType.INT32 });
    const c = b.op('Constant', [], { value: Tensor.fromInt64('c', [2], [7, 8]) });
    const y = b.op('Reshape', [x, target]);
    const sym = b.op('Shape', [b.input('z', ['N', 3])]);
    b.output(y); b.output(size); b.output(c); b.output(sym);
    const { constants } = inferShapes(b.build());
    expect(constants.get(s)).toEqual([2, 6, 4, 4]);
    expect(constants.get(n)).toEqual([2]);
    expect(constants.get(target)).toEqual([2, -1]);
    expect(constants.get(size)).toEqual([192]);
    expect(constants.get(c)).toEqual([7, 8]);
    expect(constants.has(sym)).toBe(false);
    expect(y.shape).toEqual([2, 96]);
    expect(size.elemType).toBe(DataType.INT32);
  });
});
