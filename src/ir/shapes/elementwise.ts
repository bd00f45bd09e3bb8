import { DataType } from '../dtype.js';
import type { OutputInfo, RuleContext, RuleTable, ShapeRule } from './context.js';
import { foldElementwise, foldUnary } from './constantFolding.js';
import { broadcastShapes } from './dims.js';

/** Ops whose output has the shape and type of input 0 (activations, math, normalizations that keep shape). */
const SAME_AS_INPUT = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Celu', 'Clip', 'Cos', 'Cosh', 'CumSum', 'Elu', 'Erf',
  'Exp', 'Floor', 'Gelu', 'HardSigmoid', 'HardSwish', 'Hardmax', 'Identity', 'LeakyRelu', 'Log', 'LogSoftmax', 'Mish', 'Neg', 'Not', 'Reciprocal', 'Relu', 'ReverseSequence', 'Round', 'Selu', 'Shrink',
  'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softmax', 'Softplus', 'Softsign', 'Sqrt', 'Tan', 'Tanh', 'ThresholdedRelu', 'Trilu',
  'BitwiseNot',
];

/** Broadcasting ops whose output type is input 0's. */
const BROADCAST_SAME_TYPE = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor'];
/** Broadcasting comparisons and logic: bool output. */
const BROADCAST_BOOL = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'];
/** Before opset 7 these took a `broadcast` attribute that stretched B to A's shape. */
const LEGACY_BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Less', 'Greater', 'PRelu']);

/** Output 0 has input 0's shape and type (folded when the op is one we evaluate). */
export function sameAsInput(ctx: RuleContext): OutputInfo[] {
  const elemType = ctx.type(0);
  return [{ elemType, shape: ctx.shape(0), value: foldUnary(ctx, elemType) }];
}

function broadcasting(boolOutput: boolean): ShapeRule {
  return (ctx) => {
    const elemType = boolOutput ? DataType.BOOL : ctx.type(0);
    const inputs = ctx.node.inputs.map((_, i) => ctx.shape(i));
    const shape = ctx.opset < 7 && LEGACY_BROADCAST.has(ctx.node.opType) ? ctx.shape(0) : broadcastShapes(inputs);
    return [{ elemType, shape, value: foldElementwise(ctx, shape, elemType) }];
  };
}

function table(names: readonly string[], rule: ShapeRule): RuleTable {
  return Object.fromEntries(names.map((n) => [n, rule]));
}

export const elementwiseRules: RuleTable = {
  ...table(SAME_AS_INPUT, sameAsInput),
  ...table(BROADCAST_SAME_TYPE, broadcasting(false)),
  ...table(BROADCAST_BOOL, broadcasting(true)),

  Where(ctx) {
    const shape = broadcastShapes([ctx.shape(0), ctx.shape(1), ctx.shape(2)]);
    const elemType = ctx.type(1) ?? ctx.type(2);
    return [{ elemType, shape, value: foldElementwise(ctx, shape, elemType) }];
  },

  IsNaN: (ctx) => [{ elemType: DataType.BOOL, shape: ctx.shape(0) }],
  IsInf: (ctx) => [{ elemType: DataType.BOOL, shape: ctx.shape(0) }],

  Cast(ctx) {
    const elemType = ctx.int('to', DataType.UNDEFINED) || undefined;
    return [{ elemType, shape: ctx.shape(0), value: foldUnary(ctx, elemType) }];
  },

  CastLike(ctx) {
    const elemType = ctx.type(1);
    return [{ elemType, shape: ctx.shape(0), value: foldUnary(ctx, elemType) }];
  },

  /** Output, and the optional mask (bool from opset 10; the input's type before). */
  Dropout(ctx) {
    const maskType = ctx.opset >= 10 ? DataType.BOOL : ctx.type(0);
    return [{ elemType: ctx.type(0), shape: ctx.shape(0) }, { elemType: maskType, shape: ctx.shape(0) }];
  },

  EyeLike(ctx) {
    return [{ elemType: ctx.int('dtype', 0) || ctx.type(0), shape: ctx.shape(0) }];
  },

  QuantizeLinear(ctx) {
    return [{ elemType: ctx.type(2) ?? DataType.UINT8, shape: ctx.shape(0) }];
  },

  /** y (uint8, like x), y_scale (float scalar), y_zero_point (uint8 scalar). */
  DynamicQuantizeLinear(ctx) {
    return [{ elemType: DataType.UINT8, shape: ctx.shape(0) }, { elemType: DataType.FLOAT, shape: [] }, { elemType: DataType.UINT8, shape: [] }];
  },

  DequantizeLinear(ctx) {
    return [{ elemType: ctx.opset >= 19 ? ctx.type(1) : DataType.FLOAT, shape: ctx.shape(0) }];
  },
};
