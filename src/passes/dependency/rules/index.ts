import type { NodeContext } from '../context.js';
import { conv, convTranspose } from './conv.js';
import { broadcast, unary, where } from './elementwise.js';
import { gemm, matmul } from './linear.js';
import { concat, expand, gather, readsShape, reshape, slice, split, transpose } from './movement.js';
import { batchNorm, groupNorm, instanceNorm, layerNorm, meanVarianceNorm, mixesChannels, alongAxis } from './norm.js';
import { alongOneAxis, argReduce, reduce, softmax } from './reduce.js';
import { pad, pool, resize, tile } from './spatial.js';

/** How one op moves channel indices from its inputs to its outputs and which constants it slices. */
export interface ChannelRule {
  /** One line for documentation and `inspect`. */
  readonly does: string;
  readonly apply: (ctx: NodeContext) => void;
}

const rule = (does: string, apply: (ctx: NodeContext) => void): ChannelRule => ({ does, apply });

const UNARY = rule('elementwise: channels pass through', unary);
const BINARY = rule('broadcasting elementwise: tracked operands couple, per-channel constants are sliced, size-1 operands couple nothing', (c) => broadcast(c));
const POOL = rule('pools spatial axes; channels pass through', pool);
const REDUCE = rule('channels pass unless reduced over (allowed only as a decomposed LayerNorm statistic)', reduce);
const SOFTMAX = rule('normalizes along one axis: declined there, other channels pass', softmax);
const RESHAPE = rule('channels follow the flat index: merged (Flatten into Gemm) or split (heads: whole heads go)', reshape);

/**
 * THE rule table: every default-domain op the engine understands. An op not listed here (or from another domain),
 * and If/Loop/Scan, declines every channel group it touches; it is never guessed to be elementwise.
 */
export const CHANNEL_RULES: Readonly<Record<string, ChannelRule>> = Object.freeze({
  // Unary elementwise and activations.
  ...Object.fromEntries([
    'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
    'Gelu', 'Erf', 'Mish', 'ThresholdedRelu', 'Shrink', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Sign',
    'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
    'Not', 'IsNaN', 'IsInf', 'Identity', 'Cast', 'Dropout', 'BitwiseNot',
  ].map((op) => [op, UNARY])),
  // Binary / n-ary elementwise with broadcasting (Clip and PRelu take their bounds / slope as operands).
  ...Object.fromEntries([
    'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'PRelu', 'Clip', 'Equal', 'Less',
    'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'BitShift', 'CastLike',
  ].map((op) => [op, BINARY])),
  Where: rule('broadcasting select: all three operands couple', where),
  BatchNormalization: rule('per-channel scale, bias, mean, variance sliced', batchNorm),
  InstanceNormalization: rule('per-channel scale and bias sliced', instanceNorm),
  LayerNormalization: rule('scale and bias sliced along normalized channel axes; statistics over kept features', layerNorm),
  GroupNormalization: rule('whole groups only: each group is one unit; num_groups shrinks', groupNorm),
  LpNormalization: rule('normalizes along its axis: declined there', (c) => alongAxis(c, 'axis', -1)),
  MeanVarianceNormalization: rule('normalizes over its axes: declined there', meanVarianceNorm),
  LRN: rule('mixes neighbouring channels: declined', mixesChannels),
  Conv: rule('root of output channels, consumer of input channels; depthwise passes through; grouped: whole groups', conv),
  ConvTranspose: rule('as Conv with output channels on weight axis 1', convTranspose),
  Gemm: rule('root of output features (constant B), consumer of input features; C sliced', gemm),
  MatMul: rule('constant [K,N] weight: root and consumer; two activations: batched contraction couples K', matmul),
  Concat: rule('offsets along the concatenated axis; other axes couple, constant inputs sliced', concat),
  Split: rule('segments along a channel axis, sizes rewritten', split),
  Slice: rule('step-1 range along a channel axis, bounds rewritten', slice),
  Gather: rule('passes other axes; a constant float table is a source', gather),
  Transpose: rule('channel axes follow the permutation', transpose),
  Reshape: RESHAPE,
  Flatten: RESHAPE,
  Squeeze: RESHAPE,
  Unsqueeze: RESHAPE,
  Expand: rule('channel axes keep their size; a shape vector naming them is rewritten', expand),
  Tile: rule('channel axes must repeat once', tile),
  Pad: rule('channel axes must not be padded', pad),
  Resize: rule('channel axes must have scale 1; sizes rewritten', resize),
  Upsample: rule('channel axes must have scale 1', resize),
  MaxPool: POOL, AveragePool: POOL, LpPool: POOL, GlobalAveragePool: POOL, GlobalMaxPool: POOL, GlobalLpPool: POOL,
  ...Object.fromEntries([
    'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
    'ReduceLogSumExp', 'ReduceSumSquare',
  ].map((op) => [op, REDUCE])),
  ArgMax: rule('channels pass unless reduced over', argReduce),
  ArgMin: rule('channels pass unless reduced over', argReduce),
  Softmax: SOFTMAX, LogSoftmax: SOFTMAX, Hardmax: SOFTMAX,
  TopK: rule('works along one axis: declined there', (c) => alongOneAxis(c, c.node.getInt('axis', -1))),
  CumSum: rule('accumulates along one axis: declined there', (c) => alongOneAxis(c, c.numbers(c.input(1))?.[0])),
  Shape: rule('reports the original channel counts after pruning (shape arithmetic may feed computation)', readsShape),
  Size: rule('reports the original element count after pruning', readsShape),
});

export function ruleFor(domain: string, opType: string): ChannelRule | undefined {
  if (domain !== '' && domain !== 'ai.onnx') return undefined;
  return Object.prototype.hasOwnProperty.call(CHANNEL_RULES, opType) ? CHANNEL_RULES[opType] : undefined;
}
