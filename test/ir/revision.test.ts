/**
 * The IR's bookkeeping: every edit bumps the graph's revision (and the dependency analysis cache is keyed on it),
 * uses() is a snapshot, graph input/output membership follows every way of editing the lists, and cloneGraph gives
 * a copy whose edits never reach the original.
 */
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { cloneGraph } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { analysis, analyze } from '../../src/passes/dependency/analyze.js';

/** x → Conv a (4 channels) → Relu → Conv b (2 channels) → y. */
function chain() {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 3, 6, 6]);
  const wa = b.weight('wa', [4, 3, 1, 1]);
  const a = b.op('Conv', [x, wa], {}, { name: 'a' });
  const r = b.op('Relu', [a], {}, { name: 'relu' });
  const y = b.op('Conv', [r, b.weight('wb', [2, 4, 1, 1])], {}, { name: 'b' });
  b.output(y);
  return { model: b.build(), x, wa, a, r, y };
}

describe('graph revision', () => {
  it('grows with every kind of edit and not when nothing changes', () => {
    const { model, x, a, r } = chain();
    const g = model.graph;
    const bumps = (edit: () => void) => {
      const before = g.revision;
      edit();
      return g.revision > before;
    };
    const relu = r.producer()!;
    expect(bumps(() => relu.setAttr('alpha', 0.1, 'float'))).toBe(true);
    expect(bumps(() => { relu.opType = 'LeakyRelu'; })).toBe(true);
    expect(bumps(() => relu.setInput(0, x))).toBe(true);
    expect(bumps(() => { a.shape = [1, 4, 6, 7]; })).toBe(true);
    expect(bumps(() => { a.shape = [1, 4, 6, 7]; })).toBe(false);
    expect(bumps(() => { a.elemType = 10; })).toBe(true);
    expect(bumps(() => g.outputs.push(a))).toBe(true);
    expect(bumps(() => { g.valueInfo = [a]; })).toBe(true);
    expect(bumps(() => { g.nodes.reverse(); })).toBe(false);
  });

  it('a same-count edit (an initializer replaced by one of another width) invalidates the cached analysis', () => {
    const { model, wa } = chain();
    const first = analysis(model);
    expect(analysis(model)).toBe(first);
    expect(first.groups[0]!.channels).toBe(4);
    const counts = [model.graph.nodes.length, model.graph.initializers.length];
    // Conv a now makes 5 channels; Conv b reads 5: same node and initializer counts as before.
    wa.initializer = Tensor.fromFloat32('wa', [5, 3, 1, 1], new Float32Array(15).fill(0.5));
    const wb = model.graph.initializers.find((v) => v.name === 'wb')!;
    wb.initializer = Tensor.fromFloat32('wb', [2, 5, 1, 1], new Float32Array(10).fill(0.25));
    expect([model.graph.nodes.length, model.graph.initializers.length]).toEqual(counts);
    const second = analysis(model);
    expect(second).not.toBe(first);
    expect(analyze(model)[0]!.channels).toBe(5);
  });
});

describe('uses and membership', () => {
  it('uses() is a snapshot: rewiring every use while iterating over it is safe', () => {
    const { model, a, r } = chain();
    const relu = r.producer()!;
    const other = model.graph.addNode('Identity', [a], ['copy']).output(0);
    relu.setInputs([a, a]);
    for (const u of a.uses()) if (u.node === relu) u.node.setInput(u.index, other);
    expect(a.uses().map((u) => u.node.opType)).toEqual(['Identity']);
    expect(other.uses().length).toBe(2);
  });

  it('isGraphInput / isGraphOutput follow push, splice, index writes and reassignment', () => {
    const { model, x, a, y } = chain();
    const g = model.graph;
    expect([x.isGraphInput(), y.isGraphOutput(), a.isGraphOutput()]).toEqual([true, true, false]);
    g.outputs.push(a);
    expect(a.isGraphOutput()).toBe(true);
    g.outputs.splice(0, 1);
    expect([y.isGraphOutput(), a.isGraphOutput()]).toEqual([false, true]);
    g.outputs[0] = y;
    expect([y.isGraphOutput(), a.isGraphOutput()]).toEqual([true, false]);
    g.inputs = [];
    expect(x.isGraphInput()).toBe(false);
    g.inputs.length = 0;
    g.inputs.unshift(x);
    expect(x.isGraphInput()).toBe(true);
  });
});

describe('cloneGraph', () => {
  it('copies structure, shapes and attributes; edits to the copy leave the original as it was', () => {
    const { model, a, r } = chain();
    const g = model.graph;
    const revision = g.revision;
    const copy = cloneGraph(g);
    const ca = copy.values.get(a)!;
    expect(copy.graph.nodes.map((n) => n.name)).toEqual(['a', 'relu', 'b']);
    expect(ca.shape).toEqual(a.shape);
    expect(ca.producer()).toBe(copy.nodes.get(a.producer()!));
    expect(copy.graph.outputs[0]!.isGraphOutput()).toBe(true);
    ca.shape = [1, 9, 9, 9];
    copy.nodes.get(a.producer()!)!.setAttr('group', 1);
    copy.graph.outputs = [copy.values.get(r)!];
    copy.graph.removeNodes([copy.graph.nodes[2]!]);
    expect(g.revision).toBe(revision);
    expect(g.outputs[0]!.producer()!.name).toBe('b');
    expect(a.shape).toEqual([1, 4, 6, 6]);
    expect(a.producer()!.attr('group')).toBeUndefined();
    expect(g.nodes.length).toBe(3);
  });
});
