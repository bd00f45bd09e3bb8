import { constantNodeTensor } from '../constants.js';
import { DataType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import type { Dim, Shape } from '../value.js';
import { isIntegerType, MAX_FOLD, op, tensorContents, type RuleContext, type RuleTable } from './context.js';
import { allKnown, isKnown, numelOf, productDims } from './dims.js';

/**
 * Compile-time evaluation of the small integer tensors exporters compute shapes with (Shape → Gather → Concat →
 * Reshape and friends), on values that may hold symbolic dims: Shape of [N,3,H,W] is ['N',3,'H','W'], and only
 * arithmetic that does not need N's value keeps it (N + 0, N * 1, N == -1 is false since dims are never negative).
 */

type DimFn = (args: Dim[]) => Dim;

const isNum = (d: Dim): d is number => typeof d === 'number';
const isSym = (d: Dim): d is string => typeof d === 'string';

/** Round half to even, as ONNX Round. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Orders a symbolic dim (never negative) against a known number when that alone decides it. */
function compareSymbol(a: Dim, b: Dim): -1 | 1 | undefined {
  if (isSym(a) && isNum(b) && b < 0) return 1;
  if (isNum(a) && a < 0 && isSym(b)) return -1;
  return undefined;
}

function binaryFn(op: string, intResult: boolean, fmod: boolean): DimFn | undefined {
  const numeric = (f: (a: number, b: number) => number | undefined): DimFn => ([a, b]) => {
    if (isNum(a!) && isNum(b!)) return f(a, b) ?? null;
    return null;
  };
  switch (op) {
    case 'Add': case 'Sum':
      return ([a, b]) => (isNum(a!) && isNum(b!) ? a + b : a === 0 ? b! : b === 0 ? a! : null);
    case 'Sub':
      return ([a, b]) => (isNum(a!) && isNum(b!) ? a - b : b === 0 ? a! : isSym(a!) && a === b ? 0 : null);
    case 'Mul':
      return ([a, b]) => (isNum(a!) && isNum(b!) ? a * b : a === 1 ? b! : b === 1 ? a! : a === 0 || b === 0 ? 0 : null);
    case 'Div':
      return ([a, b]) => {
        if (isNum(a!) && isNum(b!)) return intResult ? (b === 0 ? null : Math.trunc(a / b)) : a / b;
        if (b === 1) return a!;
        return isSym(a!) && a === b ? 1 : null;
      };
    case 'Mod':
      return numeric((a, b) => {
        if (b === 0) return undefined;
        if (fmod) return a % b;
        const r = a % b;
        return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
      });
    case 'Pow': return numeric((a, b) => a ** b);
    case 'Max': return ([a, b]) => (isNum(a!) && isNum(b!) ? Math.max(a, b) : a === b ? a! : compareSymbol(a!, b!) === 1 ? a! : compareSymbol(a!, b!) === -1 ? b! : null);
    case 'Min': return ([a, b]) => (isNum(a!) && isNum(b!) ? Math.min(a, b) : a === b ? a! : compareSymbol(a!, b!) === 1 ? b! : compareSymbol(a!, b!) === -1 ? a! : null);
    case 'Equal': return ([a, b]) => (isNum(a!) && isNum(b!) ? +(a === b) : isSym(a!) && a === b ? 1 : compareSymbol(a!, b!) ? 0 : null);
    case 'Less': return ([a, b]) => (isNum(a!) && isNum(b!) ? +(a < b) : compareSymbol(a!, b!) !== undefined ? +(compareSymbol(a!, b!) === -1) : null);
    case 'LessOrEqual': return ([a, b]) => (isNum(a!) && isNum(b!) ? +(a <= b) : compareSymbol(a!, b!) !== undefined ? +(compareSymbol(a!, b!) === -1) : null);
    case 'Greater': return ([a, b]) => (isNum(a!) && isNum(b!) ? +(a > b) : compareSymbol(a!, b!) !== undefined ? +(compareSymbol(a!, b!) === 1) : null);
    case 'GreaterOrEqual': return ([a, b]) => (isNum(a!) && isNum(b!) ? +(a >= b) : compareSymbol(a!, b!) !== undefined ? +(compareSymbol(a!, b!) === 1) : null);
    case 'And': return numeric((a, b) => +(a !== 0 && b !== 0));
    case 'Or': return numeric((a, b) => +(a !== 0 || b !== 0));
    case 'Xor': return numeric((a, b) => +((a !== 0) !== (b !== 0)));
    default: return undefined;
  }
}

function unaryFn(op: string): DimFn | undefined {
  const numeric = (f: (a: number) => number): DimFn => ([a]) => (isNum(a!) ? f(a) : null);
  // Dims are never negative, so Abs / Relu / rounding keep a symbol.
  const keepsSymbol = (f: (a: number) => number): DimFn => ([a]) => (isNum(a!) ? f(a) : isSym(a!) ? a : null);
  switch (op) {
    case 'Identity': return ([a]) => a!;
    case 'Neg': return numeric((a) => -a);
    case 'Abs': return keepsSymbol(Math.abs);
    case 'Relu': return keepsSymbol((a) => Math.max(a, 0));
    case 'Floor': return keepsSymbol(Math.floor);
    case 'Ceil': return keepsSymbol(Math.ceil);
    case 'Round': return keepsSymbol(roundHalfEven);
    case 'Sqrt': return numeric(Math.sqrt);
    case 'Reciprocal': return numeric((a) => 1 / a);
    case 'Sign': return numeric(Math.sign);
    case 'Not': return numeric((a) => +(a === 0));
    default: return undefined;
  }
}

/** A Cast's effect on one value: integer targets truncate, bool tests non-zero; dims stay symbolic. */
function castFn(to: number): DimFn {
  return ([a]) => {
    if (!isNum(a!)) return a!;
    if (to === DataType.BOOL) return +(a !== 0);
    if (isIntegerType(to)) return Number.isFinite(a) ? Math.trunc(a) : null;
    return to === DataType.FLOAT ? Math.fround(a) : a;
  };
}

/** Applies `fn` elementwise with numpy broadcasting over inputs whose shapes and contents are all known. */
function foldBroadcast(ctx: RuleContext, inputs: readonly number[], outShape: Shape | undefined, fn: DimFn, outType: number | undefined): Dim[] | undefined {
  const n = numelOf(outShape);
  if (n === undefined || n > MAX_FOLD) return undefined;
  const out = outShape as number[];
  const sources: { value: Dim[]; strides: number[] }[] = [];
  for (const i of inputs) {
    const value = ctx.value(i);
    const shape = ctx.shape(i);
    if (!value || !shape || !allKnown(shape) || value.length !== numelOf(shape)) return undefined;
    // Strides over the output's axes: 0 where this input is broadcast.
    const strides = new Array<number>(out.length).fill(0);
    let stride = 1;
    for (let k = shape.length - 1; k >= 0; k--) {
      const axis = out.length - shape.length + k;
      strides[axis] = shape[k] === 1 ? 0 : stride;
      stride *= shape[k]!;
    }
    sources.push({ value, strides });
  }
  const result: Dim[] = [];
  const index = new Array<number>(out.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    const args = sources.map((s) => s.value[index.reduce((p, x, k) => p + x * s.strides[k]!, 0)]!);
    const r = fn(args);
    result.push(outType === DataType.FLOAT && isNum(r) ? Math.fround(r) : r);
    for (let k = out.length - 1; k >= 0; k--) {
      if (++index[k]! < out[k]!) break;
      index[k] = 0;
    }
  }
  return result;
}

/** Folds a broadcasting elementwise op (binary ops, variadic Sum/Max/Min, Where) when its operands are known. */
export function foldElementwise(ctx: RuleContext, outShape: Shape | undefined, outType: number | undefined): Dim[] | undefined {
  const op = ctx.node.opType;
  if (op === 'Where') {
    const where: DimFn = ([c, x, y]) => (isNum(c!) ? (c !== 0 ? x! : y!) : x === y ? x! : null);
    return foldBroadcast(ctx, [0, 1, 2], outShape, where, outType);
  }
  const intResult = isIntegerType(ctx.type(0));
  const fn = binaryFn(op, intResult, ctx.int('fmod', 0) === 1);
  const count = ctx.node.inputs.length;
  if (!fn || count < 1) return undefined;
  if (count === 1) return foldBroadcast(ctx, [0], outShape, ([a]) => a!, outType);
  // Variadic ops (Sum, Max, Min) fold pairwise in one pass.
  const all = Array.from({ length: count }, (_, i) => i);
  return foldBroadcast(ctx, all, outShape, (args) => args.reduce((acc, x) => fn([acc, x])), outType);
}

/** Folds a unary op (or Cast) over known contents. */
export function foldUnary(ctx: RuleContext, outType: number | undefined): Dim[] | undefined {
  const op = ctx.node.opType;
  const fn = op === 'Cast' ? castFn(ctx.int('to', 0)) : op === 'CastLike' ? castFn(ctx.type(1) ?? 0) : unaryFn(op);
  return fn ? foldBroadcast(ctx, [0], ctx.shape(0), fn, outType) : undefined;
}

function constantTensor(ctx: RuleContext): { elemType: number; dims: number[]; tensor?: Tensor } | undefined {
  const node = ctx.node;
  const t = constantNodeTensor(node);
  if (t) return { elemType: t.dataType, dims: t.dims, tensor: t };
  const sparse = node.attr('sparse_value')?.sparseTensor;
  if (sparse) return { elemType: sparse.values?.dataType ?? DataType.UNDEFINED, dims: sparse.dims.map(Number) };
  const strings = node.attr('value_strings');
  if (strings) return { elemType: DataType.STRING, dims: [strings.strings.length] };
  if (node.attr('value_string')) return { elemType: DataType.STRING, dims: [] };
  return undefined;
}

/** Window functions: a vector of `size` (scalar input 0) elements of output_datatype (float by default). */
const windowFunction = op('T1', 'T2', { output_datatype: 'int', periodic: 'int' }, (ctx) => {
  const size = ctx.numbers(0)?.[0];
  return [{ elemType: ctx.int('output_datatype', DataType.FLOAT), shape: [size ?? null] }];
});

export const constantRules: RuleTable = {
  HannWindow: windowFunction,
  HammingWindow: windowFunction,
  BlackmanWindow: windowFunction,

  Constant: op('', 'T', {
    value: 'tensor', sparse_value: 'sparse_tensor', value_float: 'float', value_floats: 'floats', value_int: 'int', value_ints: 'ints',
    value_string: 'string', value_strings: 'strings',
  }, (ctx) => {
    const given = ctx.node.attributes.length;
    if (given !== 1) ctx.invalid(`a Constant needs exactly one value attribute, it has ${given}`);
    const c = constantTensor(ctx);
    if (!c) return [];
    return [{ elemType: c.elemType, shape: c.dims, value: c.tensor ? tensorContents(c.tensor) : undefined }];
  }),

  Shape: op('T', 'int64', { start: 'int', end: 'int' }, (ctx) => {
    const s = ctx.shape(0);
    if (!s) return [{ elemType: DataType.INT64, shape: [null] }];
    const clamp = (x: number) => Math.min(Math.max(x < 0 ? x + s.length : x, 0), s.length);
    const start = ctx.opset >= 15 ? clamp(ctx.int('start', 0)) : 0;
    const end = ctx.opset >= 15 ? clamp(ctx.int('end', s.length)) : s.length;
    const dims = s.slice(start, Math.max(start, end));
    return [{ elemType: DataType.INT64, shape: [dims.length], value: dims }];
  }),

  Size: op('T', 'int64', {}, (ctx) => {
    const s = ctx.shape(0);
    return [{ elemType: DataType.INT64, shape: [], value: s ? [productDims(s)] : undefined }];
  }),

  ConstantOfShape: op('int64', 'T', { value: 'tensor' }, (ctx) => {
    ctx.operandRank(0, 1, 1, 'the shape');
    const fill = ctx.node.getTensor('value');
    if (fill && fill.numel !== 1) ctx.invalid(`the fill value has ${fill.numel} elements; it must have one`);
    const elemType = fill?.dataType ?? DataType.FLOAT;
    const dims = ctx.value(0);
    if (dims?.some((d) => isKnown(d) && d < 0)) ctx.invalid(`the shape [${dims.join(', ')}] has a negative dimension`);
    const inShape = ctx.shape(0);
    const shape: Shape | undefined = dims ?? (inShape && isKnown(inShape[0]) ? new Array<Dim>(inShape[0]).fill(null) : undefined);
    const n = shape ? numelOf(shape) : undefined;
    const fillValue = fill ? tensorContents(fill)?.[0] : 0;
    const value = n !== undefined && n <= MAX_FOLD && fillValue !== undefined ? new Array<Dim>(n).fill(fillValue) : undefined;
    return [{ elemType, shape, value }];
  }),

  Range: op('T T T', 'T', {}, (ctx) => {
    for (const [i, what] of [[0, 'start'], [1, 'limit'], [2, 'delta']] as const) ctx.operandRank(i, 0, 0, what);
    const [start, limit, delta] = [ctx.numbers(0)?.[0], ctx.numbers(1)?.[0], ctx.numbers(2)?.[0]];
    if (start === undefined || limit === undefined || delta === undefined || delta === 0)
      return [{ elemType: ctx.type(0), shape: [null] }];
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const value = n <= MAX_FOLD ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined;
    return [{ elemType: ctx.type(0), shape: [n], value }];
  }),
};
