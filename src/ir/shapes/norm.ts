import { DataType } from '../dtype.js';
import type { Dim } from '../value.js';
import { LEGACY, op, type OutputInfo, type RuleContext, type RuleTable } from './context.js';
import { broadcastClash, isKnown } from './dims.js';
import { sameAsInput } from './elementwise.js';

/** Per-channel operands (scale, bias, statistics) must be vectors of the input's channel count. */
function checkPerChannel(ctx: RuleContext, inputs: readonly number[], names: readonly string[]): void {
  const x = ctx.shape(0);
  if (!x) return;
  if (x.length < 2) {
    ctx.invalid(`the input has rank ${x.length}; a normalization over channels needs [N, C, ...]`);
    return;
  }
  const c: Dim = x[1]!;
  inputs.forEach((i, k) => {
    const s = ctx.shape(i);
    if (!s || !ctx.has(i)) return;
    if (s.length !== 1 || (isKnown(s[0]) && isKnown(c) && s[0] !== c))
      ctx.invalid(`${names[k]} has shape [${s.join(', ')}] but the input has ${c ?? '?'} channels`);
  });
}

export const normRules: RuleTable = {
  /** Y is X; the optional training outputs (running / saved mean and variance) are per channel, shaped like scale. */
  BatchNormalization: op('T T1 T1 T2 T2', 'T T2? T2? T2? T2?', { epsilon: 'float', momentum: 'float', training_mode: 'int', spatial: 'int', is_test: 'int', ...LEGACY }, (ctx) => {
    // Before opset 9, spatial=0 gave per-element statistics; the per-channel check holds from then on.
    if (ctx.opset >= 9 || ctx.int('spatial', 1) === 1) checkPerChannel(ctx, [1, 2, 3, 4], ['scale', 'B', 'mean', 'var']);
    const stats = { elemType: ctx.type(3) ?? ctx.type(0), shape: ctx.shape(1) };
    return [{ elemType: ctx.type(0), shape: ctx.shape(0) }, stats, stats, stats, stats];
  }),
  InstanceNormalization: op('T T T', 'T', { epsilon: 'float', ...LEGACY }, (ctx) => {
    checkPerChannel(ctx, [1, 2], ['scale', 'B']);
    return sameAsInput(ctx);
  }),
  GroupNormalization: op('T T T', 'T', { epsilon: 'float', num_groups: 'int', stash_type: 'int' }, (ctx): OutputInfo[] => {
    const groups = ctx.int('num_groups', 1);
    const c = ctx.shape(0)?.[1];
    if (groups < 1 || (isKnown(c) && c % groups !== 0)) ctx.invalid(`num_groups ${groups} does not divide the input's ${c ?? '?'} channels`);
    return sameAsInput(ctx);
  }),
  MeanVarianceNormalization: op('T', 'T', { axes: 'ints', across_channels: 'int', normalize_variance: 'int' }, (ctx) => {
    const rank = ctx.rank(0);
    const axes = ctx.ints('axes');
    if (rank !== undefined && axes) ctx.axes(axes, rank);
    return sameAsInput(ctx);
  }),
  LpNormalization: op('T', 'T', { axis: 'int', p: 'int' }, (ctx) => {
    const rank = ctx.rank(0);
    if (rank) ctx.axis(ctx.int('axis', -1), rank);
    return sameAsInput(ctx);
  }),
  LRN: op('T', 'T', { alpha: 'float', beta: 'float', bias: 'float', size: 'int' }, (ctx) => {
    if (ctx.int('size', 1) < 1) ctx.invalid(`size ${ctx.int('size', 1)} must be at least 1`);
    return sameAsInput(ctx);
  }),

  /** Y is X; Mean and InvStdDev keep the axes before `axis` and are 1 on the normalized ones. */
  LayerNormalization: op('T T T?', 'T U? U?', { axis: 'int', epsilon: 'float', stash_type: 'int' }, (ctx) => {
    const x = ctx.shape(0);
    const axis = x ? ctx.axis(ctx.int('axis', -1), x.length) : undefined;
    // Scale and bias broadcast to the normalized axes (x's from `axis` on).
    if (x && axis !== undefined) {
      for (const [i, what] of [[1, 'scale'], [2, 'B']] as const) {
        const s = ctx.has(i) ? ctx.shape(i) : undefined;
        if (s && (s.length > x.length - axis || broadcastClash([x.slice(axis), s]))) ctx.invalid(`${what} [${s.join(', ')}] does not match the normalized axes [${x.slice(axis).join(', ')}]`);
      }
    }
    const statShape = x && axis !== undefined ? x.map((d, i) => (i < axis ? d : 1)) : undefined;
    const stats = { elemType: ctx.int('stash_type', DataType.FLOAT), shape: statShape };
    return [{ elemType: ctx.type(0), shape: x }, stats, stats];
  }),
};
