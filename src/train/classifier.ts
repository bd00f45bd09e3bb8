import { constantSource, type ConstantSource } from '../ir/constants.js';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';

/** The value training takes its loss on: the model's output, or the input of a final Softmax / LogSoftmax. */
export interface LogitsInfo {
  output: Value;
  logits: Value;
  /** The output is a probability (or log-probability) layer over the logits. */
  normalized: boolean;
}

export function findLogits(graph: Graph): LogitsInfo {
  const output = graph.outputs[0];
  if (!output) fail('the model has no outputs');
  const p = output.producer();
  if (p && (p.opType === 'Softmax' || p.opType === 'LogSoftmax') && p.input(0)) return { output, logits: p.input(0)!, normalized: true };
  return { output, logits: output, normalized: false };
}

/** A dense layer: Gemm, or MatMul (with the Add after it as its bias), with a constant weight. */
export interface DenseLayer {
  node: Node;
  /** The activations it multiplies (its non-constant operand). */
  data: Value;
  weight: ConstantSource;
  /** Which input of `node` the weight is. */
  weightIndex: number;
  /** The weight's layout: [in, out] (MatMul, Gemm) or [out, in] (Gemm with transB). */
  outFirst: boolean;
  bias?: { source: ConstantSource; node: Node; index: number };
  /** The layer's result after the bias. */
  result: Value;
  inFeatures: number;
  outFeatures: number;
}

/** The dense layer a node is, or undefined when it is not a Gemm/MatMul with a constant 2-D weight. */
export function denseLayerAt(node: Node): DenseLayer | undefined {
  if (node.opType === 'Gemm') {
    if (node.getInt('transA', 0) !== 0) return undefined;
    const weight = constantSource(node.input(1));
    const data = node.input(0);
    if (!weight || !data || weight.tensor.dims.length !== 2) return undefined;
    const outFirst = node.getInt('transB', 0) === 1;
    const [a, b] = weight.tensor.dims as [number, number];
    const c = constantSource(node.input(2));
    const layer: DenseLayer = { node, data, weight, weightIndex: 1, outFirst, result: node.output(0), inFeatures: outFirst ? b : a, outFeatures: outFirst ? a : b };
    if (c) layer.bias = { source: c, node, index: 2 };
    return layer;
  }
  if (node.opType !== 'MatMul') return undefined;
  const weightIndex = constantSource(node.input(1)) ? 1 : constantSource(node.input(0)) ? 0 : -1;
  if (weightIndex !== 1) return undefined; // x·W only; W·x is not a layer over features
  const weight = constantSource(node.input(1))!;
  const data = node.input(0);
  if (!data || weight.tensor.dims.length !== 2) return undefined;
  const [inFeatures, outFeatures] = weight.tensor.dims as [number, number];
  const layer: DenseLayer = { node, data, weight, weightIndex, outFirst: false, result: node.output(0), inFeatures, outFeatures };
  const uses = node.output(0).uses();
  const add = uses.length === 1 && uses[0]!.node.opType === 'Add' ? uses[0]!.node : undefined;
  if (add) {
    const other = add.input(1 - uses[0]!.index);
    const src = constantSource(other);
    if (src && src.tensor.numel === outFeatures) {
      layer.bias = { source: src, node: add, index: 1 - uses[0]!.index };
      layer.result = add.output(0);
    }
  }
  return layer;
}

/**
 * Ops between the classifier and the logits that leave each class's score as the classifier computed it, up to
 * layout and a bias. Not the channel rules' knowledge: those let channels through Relu, Sigmoid or Mul too, which
 * change the scores a new head would have to reproduce.
 */
const PASS_THROUGH = new Set(['Add', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Dropout', 'Cast']);

/** The last dense layer feeding the logits (following the data path back through bias Adds and reshapes). */
export function findClassifier(logits: Value): DenseLayer {
  for (let v: Value | undefined = logits; v; ) {
    const p = v.producer();
    if (!p) break;
    const layer = denseLayerAt(p);
    if (layer) return layer;
    if (!PASS_THROUGH.has(p.opType)) {
      fail(`the logits come from ${p.opType} node '${p.label}', not from a dense layer (Gemm/MatMul with a constant weight): there is no classifier to fine-tune or replace`);
    }
    v = p.inputs.find((x) => x && !constantSource(x)) ?? undefined;
  }
  fail(`no dense layer (Gemm/MatMul with a constant weight) feeds the output '${logits.name}'`);
}
