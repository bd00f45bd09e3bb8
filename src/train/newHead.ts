import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { Rng } from '../ir/random.js';
import type { DenseLayer } from './classifier.js';
import { replaceStoredTensor } from './writeBack.js';

/**
 * Replaces the classifier with a fresh `classes`-way layer for a new task: Glorot-uniform weights (the classifier
 * feeds no activation) from a seeded generator and a zero bias, in the stored element types of the old ones. A Gemm
 * without a bias gets one. Shapes downstream (logits, softmax, graph output) get the new class count.
 */
export function replaceHead(graph: Graph, layer: DenseLayer, classes: number, seed: number): { weight: Value; bias?: Value } {
  if (!(Number.isInteger(classes) && classes >= 1)) fail(`--new-head needs a positive number of classes, got ${classes}`);
  const w = layer.weight;
  if (sharedBeyond(w.stored, layer)) fail(`the classifier's weight '${w.stored.name}' is shared with other nodes: cannot replace it`);
  const fanIn = layer.inFeatures;
  const limit = Math.sqrt(6 / (fanIn + classes));
  const random = new Rng(seed);
  const values = Float32Array.from({ length: fanIn * classes }, () => (random.next() * 2 - 1) * limit);
  const dims = layer.outFirst ? [classes, fanIn] : [fanIn, classes];
  replaceStoredTensor(w.stored, dims, values, w.tensor.dataType);
  for (const cast of w.through) if (cast.output(0).shape) cast.output(0).shape = [...dims];

  let bias: Value | undefined;
  if (layer.bias) {
    const b = layer.bias.source;
    if (sharedBeyond(b.stored, layer)) fail(`the classifier's bias '${b.stored.name}' is shared with other nodes: cannot replace it`);
    const bDims = b.tensor.dims.map((d, i, all) => (i === all.length - 1 ? classes : d));
    replaceStoredTensor(b.stored, bDims, new Float32Array(classes), b.tensor.dataType);
    for (const cast of b.through) if (cast.output(0).shape) cast.output(0).shape = [...bDims];
    bias = b.stored;
  } else if (layer.node.opType === 'Gemm') {
    bias = graph.addInitializer(Tensor.fromFloat32(graph.freshName(`${w.stored.name}_bias`), [classes], new Float32Array(classes), DataType.FLOAT));
    layer.node.setInput(2, bias);
  }
  resizeDownstream(layer.node.output(0), layer.outFeatures, classes);
  return bias ? { weight: w.stored, bias } : { weight: w.stored };
}

/** True when the stored value (or the Cast feeding it on) is read by a node other than the layer's. */
function sharedBeyond(stored: Value, layer: DenseLayer): boolean {
  const own = new Set([layer.node, layer.bias?.node]);
  const reach = (v: Value): boolean => v.uses().some(({ node }) =>
    (node.opType === 'Cast' || node.opType === 'Identity') && !own.has(node) ? reach(node.output(0)) : !own.has(node));
  return reach(stored);
}

/** Sets the class dimension (last dim, where it was the old class count) on every value after the classifier. */
function resizeDownstream(from: Value, oldClasses: number, classes: number): void {
  const stack = [from];
  const seen = new Set<Value>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const s = v.shape;
    if (s && s.length > 0 && s[s.length - 1] === oldClasses) v.shape = [...s.slice(0, -1), classes];
    for (const { node } of v.uses()) for (const out of node.outputs) if (out) stack.push(out);
  }
}
