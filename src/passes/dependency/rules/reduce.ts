import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { NodeContext } from '../context.js';
import { normAxis } from '../context.js';

/**
 * Reductions: a channel axis that is not reduced passes through (shifted when keepdims=0). Reducing over the
 * channels is declined, except the mean and variance of a LayerNorm that TorchScript decomposed into
 * ReduceMean / Sub / Pow / ReduceMean / Sqrt / Div (opset < 17): those statistics are then taken over the kept
 * features, exactly as the LayerNormalization op does after pruning.
 */
export function reduce(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  const rank = ctx.rank(ctx.input(0));
  // ReduceSum took axes as an input from opset 13, the others from 18.
  const since = ctx.op === 'ReduceSum' ? 13 : 18;
  const given = ctx.intsArg('axes', 1, since);
  if (rank === undefined || given === null) {
    ctx.declineAll(`${ctx.where}: rank or reduced axes unknown`);
    return;
  }
  const noop = ctx.node.getInt('noop_with_empty_axes', 0) === 1;
  if (!given?.length && noop) {
    ctx.passAll(0);
    return;
  }
  const reduced = given?.length ? given.map((a) => normAxis(a, rank)) : Array.from({ length: rank }, (_, a) => a);
  reduceAxes(ctx, reduced, ctx.node.getInt('keepdims', 1) === 1, rank);
}

/** ArgMax / ArgMin over one axis. */
export function argReduce(ctx: NodeContext): void {
  const rank = ctx.rank(ctx.input(0));
  if (!ctx.axes(0)) return;
  if (rank === undefined) {
    ctx.declineAll(`${ctx.where}: rank unknown`);
    return;
  }
  reduceAxes(ctx, [normAxis(ctx.node.getInt('axis', 0), rank)], ctx.node.getInt('keepdims', 1) === 1, rank);
}

function reduceAxes(ctx: NodeContext, reduced: (number | undefined)[], keepdims: boolean, _rank: number): void {
  for (const [a, labels] of ctx.axes(0)!) {
    if (reduced.includes(a)) {
      if (!(keepdims && isLayerNormStatistic(ctx.node))) ctx.block(labels, `${ctx.where}: reduces over the channels (axis ${a})`);
      else ctx.touch('through', labels);
      continue;
    }
    const shift = keepdims ? 0 : reduced.filter((r) => r !== undefined && r < a).length;
    ctx.setOut(0, a - shift, labels);
  }
}

/** The mean (feeds Sub(x, mean)) or the variance (reads Pow(Sub(x, mean), 2)) of a decomposed LayerNorm. */
function isLayerNormStatistic(reduceNode: Node): boolean {
  if (reduceNode.opType !== 'ReduceMean') return false;
  const x = reduceNode.input(0);
  const out = reduceNode.outputs[0];
  if (!x || !out) return false;
  if (centers(x, out)) return true;
  const pow = x.producer();
  if (!pow || !(pow.opType === 'Pow' || pow.opType === 'Mul')) return false;
  const d = pow.input(0);
  if (!d || (pow.opType === 'Mul' && pow.input(1) !== d)) return false;
  const sub = d.producer();
  if (!sub || sub.opType !== 'Sub') return false;
  const mean = sub.input(1)?.producer();
  return !!mean && mean.opType === 'ReduceMean' && mean.input(0) === sub.input(0) && centers(sub.input(0)!, mean.outputs[0]!);
}

/** `mean` is used only by Sub(x, mean) nodes. */
function centers(x: Value, mean: Value): boolean {
  const uses = mean.uses();
  return uses.length > 0 && uses.every((u) => u.node.opType === 'Sub' && u.index === 1 && u.node.input(0) === x);
}

/** Softmax / LogSoftmax / Hardmax: normalizing over a channel axis is declined. */
export function softmax(ctx: NodeContext): void {
  const traced = ctx.traced(0);
  if (!traced) return;
  const { axes, rank } = traced;
  const legacy = ctx.opset < 13;
  const axis = normAxis(ctx.node.getInt('axis', legacy ? 1 : -1), rank) ?? 0;
  for (const [a, labels] of axes) {
    // Before opset 13 the input is flattened to 2-D at `axis`: every later axis is normalized too.
    if (legacy ? a >= axis : a === axis) ctx.block(labels, `${ctx.where}: normalizes across the channels (axis ${a})`);
    else ctx.setOut(0, a, labels);
  }
}

/** TopK / CumSum style ops along one axis: that axis cannot be a channel axis; others pass to every output. */
export function alongOneAxis(ctx: NodeContext, axis: number | undefined): void {
  const rank = ctx.rank(ctx.input(0));
  for (const [a, labels] of ctx.axes(0) ?? []) {
    if (rank === undefined || axis === undefined || normAxis(axis, rank) === a) ctx.block(labels, `${ctx.where}: works along the channels (axis ${a})`);
    else ctx.node.outputs.forEach((_, o) => ctx.setOut(o, a, labels));
  }
}
