import type { NodeContext } from '../context.js';
import { rule, table, type ChannelRuleTable } from './rule.js';

/** Pools (MaxPool, AveragePool, LpPool and their Global forms): channels on axis 1 pass; spatial axes are pooled. */
function pool(ctx: NodeContext): void {
  for (const [a, labels] of ctx.axes(0) ?? []) {
    if (a === 1) ctx.node.outputs.forEach((_, o) => ctx.setOut(o, 1, labels));
    else ctx.block(labels, `${ctx.where}: pools over the channels (axis ${a})`);
  }
}

/**
 * Resize / Upsample: a channel axis must have scale 1; `sizes` (when given) names the channel count, so the rewrite
 * recomputes it from the output's new shape.
 */
function resize(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  const legacy = ctx.op === 'Upsample' || ctx.opset < 11;
  const scales = legacy ? (ctx.node.getFloats('scales') ?? numbersAt(ctx, 1)) : numbersAt(ctx, 2);
  const sizesInput = legacy ? undefined : ctx.input(3);
  const rank = ctx.rank(ctx.input(0));
  for (const [a, labels] of axes) {
    if (sizesInput && !(scales && scales.length)) {
      if (!ctx.output(0)?.shape?.every((d) => typeof d === 'number')) {
        ctx.block(labels, `${ctx.where}: sizes along the channels with an output shape not known at compile time`);
        continue;
      }
      ctx.edit({ kind: 'shapeInput', node: ctx.node, input: 3, mode: 'sizes' });
    } else if (!scales || scales[a] !== 1 || (rank !== undefined && scales.length !== rank)) {
      ctx.block(labels, `${ctx.where}: scale along the channels is not a constant 1`);
      continue;
    }
    ctx.setOut(0, a, labels);
  }
}

/** A constant input's values (stored float scales included), [] for an empty one, undefined when not constant. */
function numbersAt(ctx: NodeContext, i: number): number[] | undefined {
  const v = ctx.input(i);
  if (!v) return undefined;
  return ctx.numbers(v) ?? (v.shape?.[0] === 0 ? [] : undefined);
}

/** Pad: the channel axes must not be padded. */
function pad(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  const rank = ctx.rank(ctx.input(0));
  if (!axes) return;
  const pads = ctx.opset < 11 ? ctx.node.getInts('pads') : ctx.numbers(ctx.input(1));
  const padAxes = ctx.opset >= 18 && ctx.input(3) ? ctx.numbers(ctx.input(3)) : undefined;
  if (!pads || rank === undefined || (ctx.opset >= 18 && ctx.input(3) && !padAxes)) {
    ctx.declineAll(`${ctx.where}: pads not known at compile time`);
    return;
  }
  const listed = padAxes ? padAxes.map((a) => (a < 0 ? a + rank : a)) : Array.from({ length: rank }, (_, a) => a);
  const n = listed.length;
  for (const [a, labels] of axes) {
    const k = listed.indexOf(a);
    if (k >= 0 && (pads[k] !== 0 || pads[k + n] !== 0)) ctx.block(labels, `${ctx.where}: pads the channel axis ${a}`);
    else ctx.setOut(0, a, labels);
  }
}

/** Tile: a channel axis must be repeated once. */
function tile(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  const repeats = ctx.numbers(ctx.input(1));
  for (const [a, labels] of axes) {
    if (!repeats || repeats[a] !== 1) ctx.block(labels, `${ctx.where}: repeats along the channel axis ${a}`);
    else ctx.setOut(0, a, labels);
  }
}

const POOL = rule('pools spatial axes; channels pass through', pool);

export const spatialRules: ChannelRuleTable = {
  ...table(['MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'], POOL),
  Tile: rule('channel axes must repeat once', tile),
  Pad: rule('channel axes must not be padded', pad),
  Resize: rule('channel axes must have scale 1; sizes rewritten', resize),
  Upsample: rule('channel axes must have scale 1', resize),
};
