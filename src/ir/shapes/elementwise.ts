import { AttributeProto_AttributeType as AttrType } from 'onnx-buf';
import { DataType, isKnownDataType } from '../dtype.js';
import type { Shape } from '../value.js';
import { LEGACY, op, type Attrs, type OpRule, type OutputInfo, type RuleContext, type RuleTable, type ShapeRule } from './context.js';
import { foldElementwise, foldUnary } from './constantFolding.js';
import { broadcastClash, broadcastShapes } from './dims.js';

const ALPHA: Attrs = { alpha: 'float' };
const AXIS: Attrs = { axis: 'int' };
/** Before opset 7, binary ops took `broadcast` (and `axis`) to stretch B to A's shape. */
const LEGACY_BROADCAST: Attrs = { axis: 'int', broadcast: 'int' };

/** Ops whose output has the shape and type of input 0 (activations, math, normalizations that keep shape), with their attributes. */
const SAME_AS_INPUT: Record<string, Attrs> = {
  Abs: LEGACY, Acos: {}, Acosh: {}, Asin: {}, Asinh: {}, Atan: {}, Atanh: {}, Ceil: LEGACY, Celu: ALPHA, Cos: {}, Cosh: {},
  Elu: { ...ALPHA, ...LEGACY }, Erf: {}, Exp: LEGACY, Floor: LEGACY, Gelu: { approximate: 'string' },
  HardSigmoid: { alpha: 'float', beta: 'float', ...LEGACY }, HardSwish: {}, Hardmax: AXIS, Identity: {},
  LeakyRelu: { ...ALPHA, ...LEGACY }, Log: LEGACY, LogSoftmax: AXIS, Mish: {}, Neg: LEGACY, Not: {}, Reciprocal: LEGACY,
  Relu: LEGACY, Round: {}, Selu: { alpha: 'float', gamma: 'float', ...LEGACY }, Shrink: { bias: 'float', lambd: 'float' },
  Sigmoid: LEGACY, Sign: {}, Sin: {}, Sinh: {}, Softmax: AXIS, Softplus: {}, Softsign: {}, Sqrt: LEGACY, Tan: {}, Tanh: LEGACY,
  ThresholdedRelu: ALPHA, BitwiseNot: {},
};

/** Broadcasting ops whose output type is input 0's; the variadic ones take any number of inputs. */
const BROADCAST_SAME_TYPE: Record<string, Attrs> = {
  Add: { ...LEGACY_BROADCAST, ...LEGACY }, Sub: { ...LEGACY_BROADCAST, ...LEGACY }, Mul: { ...LEGACY_BROADCAST, ...LEGACY },
  Div: { ...LEGACY_BROADCAST, ...LEGACY }, Mod: { fmod: 'int' }, BitShift: { direction: 'string' },
  BitwiseAnd: {}, BitwiseOr: {}, BitwiseXor: {},
};
const VARIADIC_SAME_TYPE = ['Max', 'Min', 'Sum', 'Mean'];
/** Broadcasting comparisons and logic: bool output. */
const BROADCAST_BOOL: Record<string, Attrs> = {
  Equal: LEGACY_BROADCAST, Less: LEGACY_BROADCAST, Greater: LEGACY_BROADCAST, LessOrEqual: {}, GreaterOrEqual: {},
  And: LEGACY_BROADCAST, Or: LEGACY_BROADCAST, Xor: LEGACY_BROADCAST,
};

/** Output 0 has input 0's shape and type (folded when the op is one we evaluate). */
export function sameAsInput(ctx: RuleContext): OutputInfo[] {
  const elemType = ctx.type(0);
  return [{ elemType, shape: ctx.shape(0), value: foldUnary(ctx, elemType) }];
}

/** The operands' broadcast shape; operands that cannot broadcast (two known sizes, neither 1) are reported. */
export function checkedBroadcast(ctx: RuleContext, shapes: readonly (Shape | undefined)[]): Shape | undefined {
  const clash = broadcastClash(shapes);
  if (clash) ctx.invalid(`operands of shapes ${clash} cannot be broadcast together`);
  return broadcastShapes(shapes);
}

/** Ops whose axis attribute picks one axis of input 0 (Softmax, LogSoftmax, Hardmax): reports it when out of range. */
function alongAxis(ctx: RuleContext): OutputInfo[] {
  const rank = ctx.rank(0);
  if (rank) ctx.axis(ctx.int('axis', ctx.opset < 13 ? 1 : -1), rank);
  return sameAsInput(ctx);
}

/** A broadcasting op; with `legacy` (ops that took the `broadcast` flag, and PRelu), before opset 7 the output is A's shape. */
function broadcasting(boolOutput: boolean, legacy: boolean): ShapeRule {
  return (ctx) => {
    const elemType = boolOutput ? DataType.BOOL : ctx.type(0);
    const inputs = ctx.node.inputs.map((_, i) => ctx.shape(i));
    const shape = legacy && ctx.opset < 7 ? ctx.shape(0) : checkedBroadcast(ctx, inputs);
    return [{ elemType, shape, value: foldElementwise(ctx, shape, elemType) }];
  };
}

function table(entries: Record<string, Attrs>, make: (attrs: Attrs) => OpRule): RuleTable {
  return Object.fromEntries(Object.entries(entries).map(([name, attrs]) => [name, make(attrs)]));
}

export const elementwiseRules: RuleTable = {
  ...table(SAME_AS_INPUT, (attrs) => op('T', 'T', attrs, attrs === AXIS ? alongAxis : sameAsInput)),
  Clip: op('T T? T?', 'T', { min: 'float', max: 'float', ...LEGACY }, (ctx) => {
    ctx.operandRank(1, 0, 0, 'min');
    ctx.operandRank(2, 0, 0, 'max');
    return sameAsInput(ctx);
  }),
  CumSum: op('T T2=int32|int64', 'T', { exclusive: 'int', reverse: 'int' }, sameAsInput),
  ReverseSequence: op('T int64', 'T', { batch_axis: 'int', time_axis: 'int' }, sameAsInput),
  Trilu: op('T int64?', 'T', { upper: 'int' }, sameAsInput),
  ...table(BROADCAST_SAME_TYPE, (attrs) => op('T T', 'T', attrs, broadcasting(false, Object.hasOwn(attrs, 'broadcast')))),
  /** The exponent may have another type than the base (since opset 12). */
  Pow: op('T T1', 'T', LEGACY_BROADCAST, broadcasting(false, true)),
  /** Before opset 7 the slope was broadcast along the channel axis. */
  PRelu: op('T T', 'T', LEGACY, broadcasting(false, true)),
  ...Object.fromEntries(VARIADIC_SAME_TYPE.map((name) => [name, op('T...', 'T', LEGACY, broadcasting(false, false))])),
  ...table(BROADCAST_BOOL, (attrs) => op('T T', 'bool', attrs, broadcasting(true, Object.hasOwn(attrs, 'broadcast')))),

  Where: op('bool T T', 'T', {}, (ctx) => {
    const shape = checkedBroadcast(ctx, [ctx.shape(0), ctx.shape(1), ctx.shape(2)]);
    const elemType = ctx.type(1) ?? ctx.type(2);
    return [{ elemType, shape, value: foldElementwise(ctx, shape, elemType) }];
  }),

  IsNaN: op('T', 'bool', {}, (ctx) => [{ elemType: DataType.BOOL, shape: ctx.shape(0) }]),
  IsInf: op('T', 'bool', { detect_negative: 'int', detect_positive: 'int' }, (ctx) => [{ elemType: DataType.BOOL, shape: ctx.shape(0) }]),

  /** `to` was a type name (a string) in opset 1, a TensorProto.DataType number since. */
  Cast: op('T1', 'T2', { to: ['int', 'string'], saturate: 'int', round_mode: 'string' }, (ctx) => {
    const to = ctx.node.attr('to')?.type === AttrType.INT ? ctx.int('to', DataType.UNDEFINED) : undefined;
    if (to !== undefined && !isKnownDataType(to)) ctx.invalid(`'to' ${to} is not an ONNX element type`);
    const elemType = to !== undefined && isKnownDataType(to) ? to : undefined;
    return [{ elemType, shape: ctx.shape(0), value: foldUnary(ctx, elemType) }];
  }),

  CastLike: op('T1 T2', 'T2', { saturate: 'int', round_mode: 'string' }, (ctx) => {
    const elemType = ctx.type(1);
    return [{ elemType, shape: ctx.shape(0), value: foldUnary(ctx, elemType) }];
  }),

  /** Output, and the optional mask (bool from opset 10; the input's type before). */
  Dropout: op('T T1? T2?', 'T T2?', { ratio: 'float', seed: 'int', is_test: 'int', ...LEGACY }, (ctx) => {
    const maskType = ctx.opset >= 10 ? DataType.BOOL : ctx.type(0);
    return [{ elemType: ctx.type(0), shape: ctx.shape(0) }, { elemType: maskType, shape: ctx.shape(0) }];
  }),

  EyeLike: op('T1', 'T2', { dtype: 'int', k: 'int' }, (ctx) => [{ elemType: ctx.int('dtype', 0) || ctx.type(0), shape: ctx.shape(0) }]),

  QuantizeLinear: op('T1 T2 T3?', 'T3', { axis: 'int', saturate: 'int', block_size: 'int', output_dtype: 'int', precision: 'int' },
    (ctx) => [{ elemType: ctx.type(2) ?? (ctx.int('output_dtype', 0) || DataType.UINT8), shape: ctx.shape(0) }]),

  /** y (uint8, like x), y_scale (float scalar), y_zero_point (uint8 scalar). */
  DynamicQuantizeLinear: op('T1', 'T2 float T2', {}, (ctx) =>
    [{ elemType: DataType.UINT8, shape: ctx.shape(0) }, { elemType: DataType.FLOAT, shape: [] }, { elemType: DataType.UINT8, shape: [] }]),

  DequantizeLinear: op('T1 T2 T1?', 'T2', { axis: 'int', block_size: 'int', output_dtype: 'int' },
    (ctx) => [{ elemType: ctx.opset >= 19 ? ctx.int('output_dtype', 0) || ctx.type(1) : DataType.FLOAT, shape: ctx.shape(0) }]),
};
