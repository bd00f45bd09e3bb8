import type { Dim, Shape } from '../value.js';
import { LEGACY, op, type Attrs, type RuleContext, type RuleTable } from './context.js';
import { allKnown, isKnown, normalizeAxes, numelOf, productDims, scaleDim } from './dims.js';
import { checkedBroadcast } from './elementwise.js';
import { transposeValues } from './valueOps.js';

/**
 * Reshape's output for a (possibly partly symbolic) target: 0 copies the input dim (unless allowzero), -1 takes
 * what is left. The -1 is solved after cancelling symbols that appear on both sides, so [N,C,H,W] → [N,-1]
 * gives [N, C·H·W] even when N is symbolic.
 */
export function reshapeOutput(input: Shape | undefined, target: readonly Dim[], allowzero: boolean): Shape {
  const out: Dim[] = target.map((t, i) => {
    if (t === 0 && !allowzero) return input?.[i] ?? null;
    if (isKnown(t) && t < -1) return null;
    return t;
  });
  const inferAt = out.indexOf(-1);
  if (inferAt < 0) return out;
  const single = out.lastIndexOf(-1) === inferAt;
  const resolved = out.map((d) => (d === -1 ? null : d));
  if (single && input) resolved[inferAt] = remainingDim(input, resolved.filter((_, i) => i !== inferAt));
  return resolved;
}

/** The dim that makes numel(others) · x = numel(input), after cancelling common symbols. */
function remainingDim(input: Shape, others: readonly Dim[]): Dim {
  const inRest = [...input];
  const outRest: Dim[] = [];
  for (const d of others) {
    const j = typeof d === 'string' ? inRest.indexOf(d) : -1;
    if (j >= 0) inRest.splice(j, 1);
    else outRest.push(d);
  }
  const total = productDims(inRest);
  const known = productDims(outRest);
  if (isKnown(total) && isKnown(known)) return known > 0 && total % known === 0 ? total / known : null;
  if (typeof total === 'string' && known === 1) return total;
  return null;
}

/** Contents pass through ops that only change the shape (when the element count agrees). */
function passValue(value: Dim[] | undefined, shape: Shape | undefined): Dim[] | undefined {
  return value && numelOf(shape) === value.length ? value : undefined;
}

/**
 * Reshape targets the spec rules out: entries below -1, more than one -1, a -1 beside a literal 0 under allowzero,
 * or an element count other than the input's.
 */
function checkReshape(ctx: RuleContext, input: Shape | undefined, target: readonly Dim[], allowzero: boolean): void {
  const known = target.filter(isKnown);
  if (known.some((t) => t < -1)) ctx.invalid(`the target shape [${target.join(', ')}] has an entry below -1`);
  else if (known.filter((t) => t === -1).length > 1) ctx.invalid(`the target shape [${target.join(', ')}] has more than one -1`);
  else if (allowzero && known.includes(-1) && known.includes(0)) ctx.invalid(`the target shape [${target.join(', ')}] has both -1 and 0 under allowzero`);
  else if (input && allKnown(input) && allKnown(target)) {
    const from = input.reduce((p, d) => p * d, 1);
    const dims = target.map((t, i) => (t === 0 && !allowzero ? input[i] ?? Number.NaN : t));
    const rest = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    const fits = dims.includes(-1) ? (rest === 0 ? from === 0 : from % rest === 0) : rest === from;
    if (!fits) ctx.invalid(`cannot reshape [${input.join(', ')}] (${from} elements) to [${target.join(', ')}]`);
  }
}

const BLOCKSIZE: Attrs = { blocksize: 'int' };

/** DepthToSpace / SpaceToDepth: a rank-4 input and a blocksize of at least 1 that divides what it must. */
function blockSize(ctx: RuleContext, x: Shape | undefined): number | undefined {
  const b = ctx.int('blocksize', 0);
  if (b < 1) ctx.invalid(`blocksize ${b} must be at least 1`);
  if (x && x.length !== 4) ctx.invalid(`the input has rank ${x.length}; ${ctx.node.opType} takes [N, C, H, W]`);
  return b >= 1 && x?.length === 4 ? b : undefined;
}

export const movementRules: RuleTable = {
  Reshape: op('T int64?', 'T', { shape: 'ints', allowzero: 'int', ...LEGACY }, (ctx) => {
    const elemType = ctx.type(0);
    if (ctx.opset >= 5) ctx.operandRank(1, 1, 1, 'the shape');
    const target = ctx.opset < 5 ? ctx.ints('shape') : ctx.value(1);
    if (!target) {
      const len = ctx.shape(1)?.[0];
      return [{ elemType, shape: isKnown(len) ? new Array<Dim>(len).fill(null) : undefined }];
    }
    const allowzero = ctx.int('allowzero', 0) === 1;
    checkReshape(ctx, ctx.shape(0), target, allowzero);
    const shape = reshapeOutput(ctx.shape(0), target, allowzero);
    return [{ elemType, shape, value: passValue(ctx.value(0), shape) }];
  }),

  Flatten: op('T', 'T', { axis: 'int' }, (ctx) => {
    const x = ctx.shape(0);
    const axisAttr = ctx.int('axis', 1);
    const axis = x ? (axisAttr < 0 ? axisAttr + x.length : axisAttr) : undefined;
    if (x && axis !== undefined && (axis < 0 || axis > x.length)) ctx.invalid(`axis ${axisAttr} is out of range for rank ${x.length} (valid: ${-x.length} to ${x.length})`);
    if (!x || axis === undefined || axis < 0 || axis > x.length) return [{ elemType: ctx.type(0) }];
    const shape = [productDims(x.slice(0, axis)), productDims(x.slice(axis))];
    return [{ elemType: ctx.type(0), shape, value: passValue(ctx.value(0), shape) }];
  }),

  Transpose: op('T', 'T', { perm: 'ints' }, (ctx) => {
    const x = ctx.shape(0);
    if (!x) return [{ elemType: ctx.type(0) }];
    const perm = ctx.ints('perm') ?? x.map((_, i) => x.length - 1 - i);
    const axes = perm.length === x.length && perm.every((p) => p >= 0) ? normalizeAxes(perm, x.length) : undefined;
    if (!axes) ctx.invalid(`perm [${perm.join(', ')}] is not a permutation of the input's ${x.length} axes`);
    const shape = axes ? axes.map((a) => x[a]!) : undefined;
    const v = ctx.value(0);
    const value = !v || !axes || !x.every(isKnown) ? undefined : x.length <= 1 ? v : transposeValues(v, x as number[], axes);
    return [{ elemType: ctx.type(0), shape, value }];
  }),

  /** Without axes, every dim of size 1 goes, which needs every dim known. */
  Squeeze: op('T int64?', 'T', { axes: 'ints' }, (ctx) => {
    const elemType = ctx.type(0);
    const x = ctx.shape(0);
    const axesArg = ctx.intsArg('axes', 1, 13);
    ctx.operandRank(1, 0, 1, 'axes');
    if (!x || axesArg === null) return [{ elemType }];
    const axes = axesArg === undefined ? (x.every(isKnown) ? x.flatMap((d, i) => (d === 1 ? [i] : [])) : undefined) : ctx.axes(axesArg, x.length);
    if (!axes) return [{ elemType }];
    const notOne = axes.find((a) => isKnown(x[a]) && x[a] !== 1);
    if (notOne !== undefined) ctx.invalid(`cannot squeeze axis ${notOne} of [${x.join(', ')}]: its size is not 1`);
    const shape = x.filter((_, i) => !axes.includes(i));
    return [{ elemType, shape, value: passValue(ctx.value(0), shape) }];
  }),

  Unsqueeze: op('T int64?', 'T', { axes: 'ints' }, (ctx) => {
    const elemType = ctx.type(0);
    const x = ctx.shape(0);
    const axesArg = ctx.intsArg('axes', 1, 13);
    ctx.operandRank(1, 0, 1, 'axes');
    if (!x || !axesArg) return [{ elemType }];
    const rank = x.length + axesArg.length;
    const axes = ctx.axes(axesArg, rank);
    if (!axes) return [{ elemType }];
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x[j++]!);
    return [{ elemType, shape, value: passValue(ctx.value(0), shape) }];
  }),

  Expand: op('T int64', 'T', {}, (ctx) => {
    const elemType = ctx.type(0);
    ctx.operandRank(1, 1, 1, 'the shape');
    const len = ctx.shape(1)?.[0];
    const target = ctx.value(1) ?? (isKnown(len) ? new Array<Dim>(len).fill(null) : undefined);
    if (target?.some((d) => isKnown(d) && d < 0)) ctx.invalid(`the target shape [${target.join(', ')}] has a negative dimension`);
    return [{ elemType, shape: target ? checkedBroadcast(ctx, [ctx.shape(0), target]) : undefined }];
  }),

  Tile: op('T T1 T2?', 'T', {}, (ctx) => {
    const x = ctx.shape(0);
    if (ctx.opset >= 6) ctx.operandRank(1, 1, 1, 'repeats');
    const repeats = ctx.value(1);
    if (x && repeats && repeats.length !== x.length) ctx.invalid(`repeats [${repeats.join(', ')}] should have one entry per axis of the rank-${x.length} input`);
    if (repeats?.some((r) => isKnown(r) && r < 0)) ctx.invalid(`repeats [${repeats.join(', ')}] must not be negative`);
    const shape = x && repeats && repeats.length === x.length
      ? x.map((d, i) => { const r = repeats[i]!; return isKnown(r) ? scaleDim(d, r) : null; })
      : x?.map(() => null);
    return [{ elemType: ctx.type(0), shape }];
  }),

  DepthToSpace: op('T', 'T', { ...BLOCKSIZE, mode: 'string' }, (ctx) => {
    const x = ctx.shape(0);
    const b = blockSize(ctx, x);
    if (b === undefined || !x) return [{ elemType: ctx.type(0) }];
    const c = x[1];
    if (isKnown(c) && c % (b * b) !== 0) ctx.invalid(`blocksize ${b}: the ${c} channels are not a multiple of ${b * b}`);
    const shape = [x[0]!, isKnown(c) ? Math.floor(c / (b * b)) : null, scaleDim(x[2]!, b), scaleDim(x[3]!, b)];
    return [{ elemType: ctx.type(0), shape }];
  }),

  SpaceToDepth: op('T', 'T', BLOCKSIZE, (ctx) => {
    const x = ctx.shape(0);
    const b = blockSize(ctx, x);
    if (b === undefined || !x) return [{ elemType: ctx.type(0) }];
    for (const d of [x[2], x[3]]) if (isKnown(d) && d % b !== 0) ctx.invalid(`blocksize ${b} does not divide the spatial size ${d}`);
    const div = (d: Dim): Dim => (isKnown(d) ? Math.floor(d / b) : b === 1 ? d : null);
    const shape = [x[0]!, scaleDim(x[1]!, b * b), div(x[2]!), div(x[3]!)];
    return [{ elemType: ctx.type(0), shape }];
  }),

  OneHot: op('T1 T2 T3', 'T3', { axis: 'int' }, (ctx) => {
    const indices = ctx.shape(0);
    ctx.operandRank(1, 0, 1, 'depth');
    const depth = ctx.value(1)?.[0];
    if (!indices) return [{ elemType: ctx.type(2) }];
    const axis = ctx.axis(ctx.int('axis', -1), indices.length + 1);
    if (axis === undefined) return [{ elemType: ctx.type(2) }];
    const shape: Dim[] = [...indices];
    shape.splice(axis, 0, isKnown(depth) ? Math.trunc(depth) : null);
    return [{ elemType: ctx.type(2), shape }];
  }),
};
