import { DataType } from '../dtype.js';
import type { Dim, Shape } from '../value.js';
import { op, type Attrs, type RuleContext, type RuleTable, type ShapeRule } from './context.js';
import { isKnown, productDims, sumDims } from './dims.js';

const REDUCE_OPS = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

/** Removes (or, with keepdims, sets to 1) the reduced axes. */
function reducedShape(x: Shape, axes: readonly number[], keepdims: boolean): Shape {
  if (keepdims) return x.map((d, i) => (axes.includes(i) ? 1 : d));
  return x.filter((_, i) => !axes.includes(i));
}

/** Folds a full reduction of a known 1-D vector (ReduceProd of a Shape slice computes a flattened size). */
function foldVector(op: string, values: Dim[] | undefined): Dim[] | undefined {
  if (!values) return undefined;
  switch (op) {
    case 'ReduceProd': return [productDims(values)];
    case 'ReduceSum': return [sumDims(values)];
    case 'ReduceMax': return values.every((v) => typeof v === 'number') ? [Math.max(...(values as number[]))] : undefined;
    case 'ReduceMin': return values.every((v) => typeof v === 'number') ? [Math.min(...(values as number[]))] : undefined;
    default: return undefined;
  }
}

/** Reductions: axes an attribute until opset 18 (ReduceSum: 13), then an input; keepdims; noop_with_empty_axes. */
const reduce: ShapeRule = (ctx) => {
  const elemType = ctx.type(0);
  const x = ctx.shape(0);
  const keepdims = ctx.int('keepdims', 1) === 1;
  const axesArg = ctx.intsArg('axes', 1, ctx.node.opType === 'ReduceSum' ? 13 : 18);
  ctx.operandRank(1, 1, 1, 'axes');
  if (!x) return [{ elemType }];
  if (axesArg === null) return [{ elemType, shape: keepdims ? x.map(() => null) : undefined }];
  if (axesArg === undefined && ctx.int('noop_with_empty_axes', 0) === 1) return [{ elemType, shape: x, value: ctx.value(0) }];
  const axes = axesArg === undefined ? x.map((_, i) => i) : ctx.axes(axesArg, x.length);
  if (!axes) return [{ elemType }];
  const shape = reducedShape(x, axes, keepdims);
  const value = x.length === 1 && axes.length === 1 ? foldVector(ctx.node.opType, ctx.value(0)) : undefined;
  return [{ elemType, shape, value }];
};

/** ArgMax / ArgMin: one axis, int64 indices. */
const argReduce: ShapeRule = (ctx) => {
  const x = ctx.shape(0);
  const axis = x ? ctx.axis(ctx.int('axis', 0), x.length) : undefined;
  const shape = x && axis !== undefined ? reducedShape(x, [axis], ctx.int('keepdims', 1) === 1) : undefined;
  return [{ elemType: DataType.INT64, shape }];
};

function topK(ctx: RuleContext) {
  const x = ctx.shape(0);
  const axis = x ? ctx.axis(ctx.int('axis', -1), x.length) : undefined;
  ctx.operandRank(1, 0, 1, 'K');
  const k: Dim = ctx.opset >= 10 ? ctx.value(1)?.[0] ?? null : ctx.int('k', -1);
  const size = x && axis !== undefined ? x[axis] : undefined;
  if (isKnown(k) && (k < 0 || (isKnown(size) && k > size))) ctx.invalid(`K ${k} is out of range for an axis of size ${size ?? '?'}`);
  const shape = x && axis !== undefined ? x.map((d, i) => (i === axis ? k : d)) : undefined;
  return [{ elemType: ctx.type(0), shape }, { elemType: DataType.INT64, shape }];
}

const ARG_ATTRS: Attrs = { axis: 'int', keepdims: 'int', select_last_index: 'int' };

export const reduceRules: RuleTable = {
  /** Axes are an attribute until opset 18 (ReduceSum: 13), then an optional input. */
  ...Object.fromEntries(REDUCE_OPS.map((name) => [name, op('T int64?', 'T', { axes: 'ints', keepdims: 'int', noop_with_empty_axes: 'int' }, reduce)])),
  ArgMax: op('T', 'int64', ARG_ATTRS, argReduce),
  ArgMin: op('T', 'int64', ARG_ATTRS, argReduce),
  TopK: op('T int64?', 'T int64', { axis: 'int', k: 'int', largest: 'int', sorted: 'int' }, topK),
};
