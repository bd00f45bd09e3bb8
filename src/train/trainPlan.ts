import { constantSource } from '../ir/constants.js';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Use, Value } from '../ir/value.js';
import { denseLayerAt, findClassifier, type DenseLayer } from './classifier.js';
import { isFloatType } from '../ir/dtype.js';
import { storedConstants } from './parameters.js';

/**
 * What trains: `head` the classifier (the last dense layer feeding the logits), `dense` every dense layer after the
 * convolutional trunk, `all` every weight. For head and dense the trunk is frozen and computed once by onnxruntime:
 * training then starts from `start`, the input of the first trained layer.
 */
export type TrainMode = 'head' | 'dense' | 'all';

export interface TrainPlan {
  mode: TrainMode;
  /** The value training feeds: a graph input for `all`, the frozen trunk's output otherwise. */
  start: Value;
  /** The stored constants (initializers / Constant outputs) that become trainable variables. */
  trainable: Set<Value>;
  /** The dense layers that train (head and dense modes). */
  denseLayers: DenseLayer[];
}

export function planTraining(graph: Graph, logits: Value, mode: TrainMode, opts: { trainBatchNorm?: boolean } = {}): TrainPlan {
  if (mode === 'all') {
    const inputs = graph.inputs.filter((v) => !v.initializer);
    if (inputs.length !== 1) fail(`--train all feeds models with one input; this one has ${inputs.length}`);
    return { mode, start: inputs[0]!, trainable: allWeights(graph, opts.trainBatchNorm ?? false), denseLayers: [] };
  }
  const layers = mode === 'head' ? [findClassifier(logits)] : headLayers(graph, logits);
  const start = layers[0]!.data;
  const trainable = new Set<Value>();
  for (const l of layers) {
    trainable.add(l.weight.stored);
    if (l.bias) trainable.add(l.bias.source.stored);
  }
  return { mode, start, trainable, denseLayers: layers };
}

/**
 * The dense layers after the last convolution, from the earliest one whose input alone (with constants) determines
 * the logits — so residual or attention blocks that reach back past it are not cut in half.
 */
function headLayers(graph: Graph, logits: Value): DenseLayer[] {
  const lastConv = graph.nodes.reduce((at, n, i) => (n.opType === 'Conv' || n.opType === 'ConvTranspose' ? i : at), -1);
  const candidates = graph.nodes.slice(lastConv + 1).map(denseLayerAt).filter((l): l is DenseLayer => l !== undefined);
  for (const first of candidates) {
    const between = nodesBetween(first.data, logits);
    if (!between) continue;
    return candidates.filter((l) => between.has(l.node));
  }
  return [findClassifier(logits)];
}

/** The nodes computing `to` from `from` and constants, or undefined when `to` also depends on a graph input. */
export function nodesBetween(from: Value, to: Value): Set<Node> | undefined {
  const nodes = new Set<Node>();
  const stack = [to];
  const seen = new Set<Value>();
  while (stack.length) {
    const v = stack.pop()!;
    if (v === from || seen.has(v)) continue;
    seen.add(v);
    if (constantSource(v)) continue;
    const p = v.producer();
    if (!p) return undefined; // a graph input other than `from`
    nodes.add(p);
    for (const i of p.inputs) if (i) stack.push(i);
  }
  return nodes;
}

/** Input slots that take arguments (shapes, pads, scales, bounds, indices), never weights. */
const ARGUMENT_SLOTS: Record<string, (index: number) => boolean> = {
  BatchNormalization: (i) => i >= 3,
  Resize: (i) => i >= 1, Upsample: (i) => i >= 1, Pad: (i) => i >= 1, Clip: (i) => i >= 1, Dropout: (i) => i >= 1,
  Reshape: (i) => i === 1, Expand: (i) => i === 1, Tile: (i) => i === 1, Slice: (i) => i >= 1,
  Gather: (i) => i === 1, ScatterND: (i) => i === 1, ConstantOfShape: () => true, Range: () => true,
};

/**
 * Every weight for `--train all`: float constants with more than one element, except BatchNormalization statistics
 * (always frozen) and its scale/shift (unless trainBatchNorm), and constants used as op arguments.
 */
function allWeights(graph: Graph, trainBatchNorm: boolean): Set<Value> {
  const out = new Set<Value>();
  for (const { value, tensor } of storedConstants(graph)) {
    if (tensor.numel < 2 || !isFloatType(tensor.dataType)) continue;
    const uses = effectiveUses(value);
    const frozen = uses.some(({ node, index }) =>
      ARGUMENT_SLOTS[node.opType]?.(index) || (!trainBatchNorm && node.opType === 'BatchNormalization' && index >= 1));
    if (!frozen && uses.length > 0) out.add(value);
  }
  return out;
}

/** Uses of a stored value, looking through the Cast / Identity nodes that pass it on (fp16 weights). */
function effectiveUses(v: Value): Use[] {
  const out: Use[] = [];
  for (const u of v.uses()) {
    if (u.node.opType === 'Cast' || u.node.opType === 'Identity') out.push(...effectiveUses(u.node.output(0)));
    else out.push(u);
  }
  return out;
}
