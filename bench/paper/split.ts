import { constantSource } from '../../src/ir/constants.js';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';
import type { Node } from '../../src/ir/node.js';
import type { Value } from '../../src/ir/value.js';

/**
 * Cuts a classifier where its dense part starts (the data input of the first Gemm/MatMul with constant weights), so
 * the frozen trunk runs once per test set and each fine-tuned model is evaluated on cached features: with
 * `--train dense` only the part after the cut differs between arms. Both functions rewrite `model` in place.
 */
export function denseCut(model: Model): Value {
  model.graph.topologicalSort();
  const first = model.graph.nodes.find(isDense);
  if (!first) throw new Error('the model has no Gemm/MatMul with constant weights');
  return first.input(0)!;
}

/** Keeps the trunk: the graph's only output becomes the cut value. */
export function keepTrunk(model: Model): void {
  const g = model.graph;
  const cut = denseCut(model);
  cut.elemType ??= DataType.FLOAT; // serialisation needs an output type; the file has no value_info for it
  g.outputs = [cut];
  g.eliminateDeadCode();
}

/** Keeps the head: the cut value becomes a new graph input `features` of shape [batch, d]. */
export function keepHead(model: Model, featureSize: number): void {
  const g = model.graph;
  const cut = denseCut(model);
  const features = g.value(g.freshName('features'));
  features.elemType = DataType.FLOAT;
  features.shape = ['batch', featureSize];
  g.replaceAllUsesWith(cut, features);
  g.inputs = [features];
  g.eliminateDeadCode();
}

function isDense(n: Node): boolean {
  if (n.domain !== '' || (n.opType !== 'Gemm' && n.opType !== 'MatMul')) return false;
  const w = n.input(1);
  return !!w && constantSource(w) !== undefined;
}
