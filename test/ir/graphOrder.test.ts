import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { dependencyOrder } from '../../src/ir/graph.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { analyze } from '../../src/passes/dependency/analyze.js';

/** x → Conv a → Relu → Conv b → y, with the node list stored backwards (real files are not always sorted). */
function reversedChain() {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 3, 8, 8]);
  const a = b.op('Conv', [x, b.weight('wa', [4, 3, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'a' });
  const r = b.op('Relu', [a], {}, { name: 'relu' });
  const y = b.op('Conv', [r, b.weight('wb', [2, 4, 1, 1])], {}, { name: 'b' });
  b.output(y);
  const model = b.build();
  model.graph.nodes.reverse();
  return model;
}

describe('dependency order', () => {
  it('puts producers first without touching the stored order, and the stable sort reorders it', () => {
    const model = reversedChain();
    expect(model.graph.nodes.map((n) => n.name)).toEqual(['b', 'relu', 'a']);
    const { order, cyclic } = dependencyOrder(model.graph);
    expect(order.map((n) => n.name)).toEqual(['a', 'relu', 'b']);
    expect(cyclic).toBe(0);
    expect(model.graph.nodes.map((n) => n.name)).toEqual(['b', 'relu', 'a']);
    model.graph.topologicalSort();
    expect(model.graph.nodes.map((n) => n.name)).toEqual(['a', 'relu', 'b']);
  });

  it('lets shape inference and the dependency analysis work on an unsorted graph', () => {
    const model = reversedChain();
    for (const v of model.graph.allValues()) if (!v.isGraphInput() && !v.initializer) v.shape = undefined;
    inferShapes(model);
    expect(model.graph.outputs[0]!.shape).toEqual([1, 2, 8, 8]);
    const groups = analyze(model);
    expect(groups.filter((g) => g.prunable).map((g) => g.producers.map((n) => n.name))).toEqual([['a']]);
  });

  it('counts the nodes on a cycle, keeps them last, and topologicalSort refuses the graph', () => {
    const model = reversedChain();
    const relu = model.graph.nodes.find((n) => n.name === 'relu')!;
    const b = model.graph.nodes.find((n) => n.name === 'b')!;
    relu.setInput(0, b.output(0));
    const { order, cyclic } = dependencyOrder(model.graph);
    expect(cyclic).toBe(2);
    expect(order.map((n) => n.name)).toEqual(['a', 'b', 'relu']);
    expect(() => model.graph.topologicalSort()).toThrow(/cycle: 2 nodes/);
  });
});
