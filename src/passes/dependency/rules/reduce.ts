import { constantNumbers, constantSource } from '../../../ir/constants.js';
import type { Node } from '../../../ir/node.js';
import type { Use, Value } from '../../../ir/value.js';
import type { NodeContext } from '../context.js';
import { normAxis } from '../context.js';
import { rule, table, type ChannelRuleTable } from './rule.js';

/**
 * Reductions: a channel axis that is not reduced passes through (shifted when keepdims=0); reducing over the
 * channels is declined unless `statistic` accepts the node (see the ReduceMean rule).
 */
function reduce(ctx: NodeContext, statistic?: (node: Node) => boolean): void {
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
  const keepdims = ctx.node.getInt('keepdims', 1) === 1;
  reduceAxes(ctx, reduced, keepdims, keepdims && !!statistic?.(ctx.node));
}

/** ArgMax / ArgMin over one axis. */
function argReduce(ctx: NodeContext): void {
  const rank = ctx.rank(ctx.input(0));
  if (!ctx.axes(0)) return;
  if (rank === undefined) {
    ctx.declineAll(`${ctx.where}: rank unknown`);
    return;
  }
  reduceAxes(ctx, [normAxis(ctx.node.getInt('axis', 0), rank)], ctx.node.getInt('keepdims', 1) === 1, false);
}

/** `overChannelsAllowed`: a reduction over the channels is a statistic over the kept ones, not a decline. */
function reduceAxes(ctx: NodeContext, reduced: (number | undefined)[], keepdims: boolean, overChannelsAllowed: boolean): void {
  for (const [a, labels] of ctx.axes(0)!) {
    if (reduced.includes(a)) {
      if (overChannelsAllowed) ctx.touch('through', labels);
      else ctx.block(labels, `${ctx.where}: reduces over the channels (axis ${a})`);
      continue;
    }
    const shift = keepdims ? 0 : reduced.filter((r) => r !== undefined && r < a).length;
    ctx.setOut(0, a - shift, labels);
  }
}

/**
 * Whether a ReduceMean is the mean (feeds Sub(x, mean)) or the variance (reads Pow(Sub(x, mean), 2)) of a LayerNorm
 * that TorchScript decomposed into ReduceMean / Sub / Pow / ReduceMean / Sqrt / Div (opset < 17): those statistics
 * are then taken over the kept features, exactly as the LayerNormalization op does after pruning.
 */
function isLayerNormStatistic(reduceNode: Node): boolean {
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

/**
 * Whether a ReduceMean is the statistic of an RMSNorm that TorchScript decomposed (Llama, Qwen2, T5):
 * `ReduceMean(Pow(x, 2) | Mul(x, x))` whose result reaches x only through `Add(eps)`, `Sqrt`, `Div(1, ·)` or
 * `Reciprocal`, ending in `Mul(x, ·)` or `Div(x, ·)` (Casts to float32 and back allowed anywhere, as fp16 exports
 * have them). The mean of squares is then taken over the kept features, exactly what an RMSNorm of the pruned width
 * computes.
 */
function isRmsNormStatistic(reduceNode: Node): boolean {
  const square = reduceNode.input(0)?.producer();
  if (!square) return false;
  const x = square.input(0);
  if (!x) return false;
  if (square.opType === 'Pow' ? constantNumbers(square.input(1))?.[0] !== 2 : !(square.opType === 'Mul' && square.input(1) === x)) return false;
  let cur: Value | null | undefined = reduceNode.outputs[0];
  for (let step = 0; cur && step < 8; step++) {
    const uses: readonly Use[] = cur.uses();
    if (uses.length !== 1 || cur.isGraphOutput()) return false;
    const { node, index }: Use = uses[0]!;
    const other = node.input(1 - index);
    const out: Value | undefined = node.outputs[0] ?? undefined;
    switch (node.opType) {
      case 'Cast': case 'Sqrt': case 'Reciprocal':
        cur = out;
        break;
      case 'Add':
        if (!constantSource(other)) return false;
        cur = out;
        break;
      case 'Div':
        if (index === 1 && other && sameData(other, x)) return true;
        if (index !== 1 || !constantSource(other)) return false;
        cur = out;
        break;
      case 'Mul':
        return !!other && sameData(other, x);
      default:
        return false;
    }
  }
  return false;
}

/** The same tensor up to a Cast (fp16 exports normalize a float32 copy). */
function sameData(a: Value, b: Value): boolean {
  const castOf = (v: Value) => (v.producer()?.opType === 'Cast' ? v.producer()!.input(0) : undefined);
  return a === b || castOf(a) === b || castOf(b) === a || (!!castOf(a) && castOf(a) === castOf(b));
}

/** `mean` is used only by Sub(x, mean) nodes. */
function centers(x: Value, mean: Value): boolean {
  const uses = mean.uses();
  return uses.length > 0 && uses.every((u) => u.node.opType === 'Sub' && u.index === 1 && u.node.input(0) === x);
}

/** TopK / CumSum style ops along one axis: that axis cannot be a channel axis; others pass to every output. */
function alongOneAxis(ctx: NodeContext, axis: number | undefined): void {
  const rank = ctx.rank(ctx.input(0));
  for (const [a, labels] of ctx.axes(0) ?? []) {
    if (rank === undefined || axis === undefined || normAxis(axis, rank) === a) ctx.block(labels, `${ctx.where}: works along the channels (axis ${a})`);
    else ctx.node.outputs.forEach((_, o) => ctx.setOut(o, a, labels));
  }
}

const REDUCE = rule('channels pass unless reduced over', (c) => reduce(c));
const ARG_REDUCE = rule('channels pass unless reduced over', argReduce);

export const reduceRules: ChannelRuleTable = {
  ...table([
    'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp',
    'ReduceSumSquare',
  ], REDUCE),
  ReduceMean: rule('channels pass unless reduced over; over the channels only as a decomposed LayerNorm\'s mean or variance or an RMSNorm\'s mean square',
    (c) => reduce(c, (n) => isLayerNormStatistic(n) || isRmsNormStatistic(n))),
  ArgMax: ARG_REDUCE,
  ArgMin: ARG_REDUCE,
  TopK: rule('works along one axis: declined there', (c) => alongOneAxis(c, c.node.getInt('axis', -1))),
  CumSum: rule('accumulates along one axis: declined there', (c) => alongOneAxis(c, c.numbers(c.input(1))?.[0])),
};
