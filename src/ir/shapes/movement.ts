import type { Dim, Shape } from '../value.js';
import type { RuleTable } from './context.js';
import { broadcastShapes, isKnown, normalizeAxes, normalizeAxis, numelOf, productDims, scaleDim } from './dims.js';
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

export const movementRules: RuleTable = {
  Reshape(ctx) {
    const elemType = ctx.type(0);
    const target = ctx.opset < 5 ? ctx.ints('shape') : ctx.value(1);
    if (!target) {
      const len = ctx.shape(1)?.[0];
      return [{ elemType, shape: isKnown(len) ? new Array<Dim>(len).fill(null) : undefined }];
    }
    const shape = reshapeOutput(ctx.shape(0), target, ctx.int('allowzero', 0) === 1);
    return [{ elemType, shape, value: passValue(ctx.value(0), shape) }];
  },

  Flatten(ctx) {
    const x = ctx.shape(0);
    const axisAttr = ctx.int('axis', 1);
    const axis = x ? (axisAttr < 0 ? axisAttr + x.length : axisAttr) : undefined;
    if (!x || axis === undefined || axis < 0 || axis > x.length) return [{ elemType: ctx.type(0) }];
    const shape = [productDims(x.slice(0, axis)), productDims(x.slice(axis))];
    return [{ elemType: ctx.type(0), shape, value: passValue(ctx.value(0), shape) }];
  },

  Transpose(ctx) {
    const x = ctx.shape(0);
    if (!x) return [{ elemType: ctx.type(0) }];
    const perm = ctx.ints('perm') ?? x.map((_, i) => x.length - 1 - i);
    const axes = normalizeAxes(perm, x.length);
    const shape = axes && axes.length === x.length ? axes.map((a) => x[a]!) : undefined;
    const v = ctx.value(0);
    const value = !v || !axes || !x.every(isKnown) ? undefined : x.length <= 1 ? v : transposeValues(v, x as number[], axes);
    return [{ elemType: ctx.type(0), shape, value }];
  },

  /** Without axes, every dim of size 1 goes, which needs every dim known. */
  Squeeze(ctx) {
    const elemType = ctx.type(0);
    const x = ctx.shape(0);
    const axesArg = ctx.intsArg('axes', 1, 13);
    if (!x || axesArg === null) return [{ elemType }];
    const axes = axesArg === undefined ? (x.every(isKnown) ? x.flatMap((d, i) => (d === 1 ? [i] : [])) : undefined) : normalizeAxes(axesArg, x.length);
    if (!axes) return [{ elemType }];
    const shape = x.filter((_, i) => !axes.includes(i));
    return [{ elemType, shape, value: passValue(ctx.value(0), shape) }];
  },

  Unsqueeze(ctx) {
    const elemType = ctx.type(0);
    const x = ctx.shape(0);
    const axesArg = ctx.intsArg('axes', 1, 13);
    if (!x || !axesArg) return [{ elemType }];
    const rank = x.length + axesArg.length;
    const axes = normalizeAxes(axesArg, rank);
    if (!axes) return [{ elemType }];
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x[j++]!);
    return [{ elemType, shape, value: passValue(ctx.value(0), shape) }];
  },

  Expand(ctx) {
    const elemType = ctx.type(0);
    const len = ctx.shape(1)?.[0];
    const target = ctx.value(1) ?? (isKnown(len) ? new Array<Dim>(len).fill(null) : undefined);
    return [{ elemType, shape: target ? broadcastShapes([ctx.shape(0), target]) : undefined }];
  },

  Tile(ctx) {
    const x = ctx.shape(0);
    const repeats = ctx.value(1);
    const shape = x && repeats && repeats.length === x.length
      ? x.map((d, i) => { const r = repeats[i]!; return isKnown(r) ? scaleDim(d, r) : null; })
      : x?.map(() => null);
    return [{ elemType: ctx.type(0), shape }];
  },

  DepthToSpace(ctx) {
    const x = ctx.shape(0);
    const b = ctx.int('blocksize', 1);
    const c = x?.[1];
    const shape = x && x.length === 4
      ? [x[0]!, isKnown(c) ? c / (b * b) : null, scaleDim(x[2]!, b), scaleDim(x[3]!, b)]
      : undefined;
    return [{ elemType: ctx.type(0), shape }];
  },

  SpaceToDepth(ctx) {
    const x = ctx.shape(0);
    const b = ctx.int('blocksize', 1);
    const div = (d: Dim): Dim => (isKnown(d) ? d / b : b === 1 ? d : null);
    const shape = x && x.length === 4 ? [x[0]!, scaleDim(x[1]!, b * b), div(x[2]!), div(x[3]!)] : undefined;
    return [{ elemType: ctx.type(0), shape }];
  },

  OneHot(ctx) {
    const indices = ctx.shape(0);
    const depth = ctx.value(1)?.[0];
    if (!indices) return [{ elemType: ctx.type(2) }];
    const axis = normalizeAxis(ctx.int('axis', -1), indices.length + 1);
    if (axis === undefined) return [{ elemType: ctx.type(2) }];
    const shape: Dim[] = [...indices];
    shape.splice(axis, 0, isKnown(depth) ? Math.trunc(depth) : null);
    return [{ elemType: ctx.type(2), shape }];
  },
};
