import type { NodeContext } from '../context.js';
import { normAxis } from '../context.js';
import type { Labels } from '../state.js';
import { rule, table, type ChannelRuleTable } from './rule.js';

/** BatchNormalization: per-channel scale, bias, mean and variance on axis 1; every channel passes through. */
function batchNorm(ctx: NodeContext): void {
  perChannel(ctx, [1, 2, 3, 4]);
}

/** InstanceNormalization: per-channel scale and bias; statistics are per channel, over the spatial axes. */
function instanceNorm(ctx: NodeContext): void {
  for (const a of ctx.axes(0)?.keys() ?? []) if (a > 1) ctx.declineAxis(0, a, 'channels on a normalized (spatial) axis');
  perChannel(ctx, [1, 2]);
}

function perChannel(ctx: NodeContext, params: number[]): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  const c = axes.get(1);
  if (c) for (const i of params) if (ctx.input(i)) ctx.slice(i, 0, c);
  ctx.passAll(0);
}

/**
 * LayerNormalization over axes [axis, rank): channels on an earlier axis pass through; channels on a normalized axis
 * slice scale and bias (the statistics are then taken over the kept features, as after any structural pruning).
 */
function layerNorm(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  const rank = ctx.rank(ctx.input(0));
  if (!axes) return;
  const first = rank === undefined ? undefined : normAxis(ctx.node.getInt('axis', -1), rank);
  if (first === undefined) {
    ctx.declineAll(`${ctx.where}: rank unknown`);
    return;
  }
  for (const [a, labels] of axes) {
    if (a >= first) for (const i of [1, 2]) sliceAligned(ctx, i, a, rank!, labels);
    ctx.setOut(0, a, labels);
    // Mean and InvStdDev outputs keep the leading axes.
    if (a < first) for (const o of [1, 2]) ctx.setOut(o, a, labels);
  }
}

/**
 * SkipLayerNormalization / SkipSimplifiedLayerNormalization (com.microsoft): LayerNorm / RMSNorm over the last axis of
 * input + skip (+ bias), the sum also returned (output 3). Input and skip meet like a residual Add (an untraced,
 * non-constant one declines the channels); gamma, beta and bias (`params`) are per channel; the statistics (outputs
 * 1, 2) are per position, taken over the kept features.
 */
function skipNorm(params: readonly number[]) {
  return (ctx: NodeContext): void => {
    const rank = ctx.rank(ctx.input(0));
    if (![0, 1].some((i) => ctx.axes(i))) return;
    if (rank === undefined || [0, 1].some((i) => ctx.input(i) && ctx.rank(ctx.input(i)) === undefined)) {
      ctx.declineAll(`${ctx.where}: rank unknown`);
      return;
    }
    const meeting = new Map<number, Labels>();
    for (const i of [0, 1]) {
      const shift = rank - ctx.rank(ctx.input(i))!;
      for (const [a, labels] of ctx.axes(i) ?? []) {
        const seen = meeting.get(a + shift);
        if (seen) ctx.unite(seen, labels, 'sum');
        else meeting.set(a + shift, ctx.use(labels));
      }
    }
    for (const [k, labels] of meeting) {
      for (const i of [0, 1]) {
        const a = k - (rank - ctx.rank(ctx.input(i))!);
        if (a < 0 || ctx.axes(i)?.has(a) || ctx.shape(ctx.input(i))![a] === 1) continue;
        ctx.slice(i, a, labels);
      }
      if (k === rank - 1) {
        for (const p of params) if (ctx.input(p)) ctx.slice(p, 0, labels);
        for (const o of [0, 3]) ctx.setOut(o, k, labels);
      } else {
        for (const o of [0, 1, 2, 3]) ctx.setOut(o, k, labels);
      }
    }
  };
}

/** Slices input `i` where it spans output axis `a` (right-aligned broadcasting), if it does. */
function sliceAligned(ctx: NodeContext, i: number, a: number, rank: number, labels: Labels): void {
  const s = ctx.shape(ctx.input(i));
  if (!ctx.input(i)) return;
  if (!s) {
    ctx.block(labels, `${ctx.where}: shape of input ${i} unknown`);
    return;
  }
  const k = a - (rank - s.length);
  if (k >= 0 && s[k] !== 1) ctx.slice(i, k, labels);
}

/**
 * GroupNormalization: channels are removed a whole group at a time, so each group's channels are one unit; scale and
 * bias are per channel (opset 21) or per group (opset 18), and `num_groups` shrinks.
 */
function groupNorm(ctx: NodeContext): void {
  const c = ctx.axes(0)?.get(1);
  for (const a of ctx.axes(0)?.keys() ?? []) if (a > 1) ctx.declineAxis(0, a, 'channels on a normalized axis');
  if (!c) return;
  const g = ctx.node.getInt('num_groups', 0);
  if (g <= 0 || c.length % g !== 0) {
    ctx.block(c, `${ctx.where}: ${c.length} channels do not split into num_groups=${g}`);
    return;
  }
  ctx.use(c);
  const per = c.length / g;
  for (let k = 0; k < g; k++) ctx.st.uniteAll(c, k * per, (k + 1) * per);
  const perGroup = Int32Array.from({ length: g }, (_, k) => c[k * per]!);
  for (const i of [1, 2]) {
    const n = ctx.shape(ctx.input(i))?.[0];
    if (n === c.length) ctx.slice(i, 0, c);
    else if (n === g) ctx.slice(i, 0, perGroup);
    else ctx.block(c, `${ctx.where}: input ${i} has neither ${c.length} nor ${g} entries`);
  }
  ctx.edit({ kind: 'countAttr', node: ctx.node, attr: 'num_groups', labels: c, perUnit: per });
  ctx.setOut(0, 1, c);
}

/**
 * Ops that normalize along one axis: LpNormalization, and Softmax / LogSoftmax / Hardmax, which before opset 13
 * flatten the input to 2-D at `axis` (`flattens`), so every axis from there on is normalized together. Channels on a
 * normalized axis are declined; other channel axes pass.
 */
function alongAxis(ctx: NodeContext, fallback: number, flattens: boolean): void {
  const traced = ctx.traced(0);
  if (!traced) return;
  const { axes, rank } = traced;
  const axis = normAxis(ctx.node.getInt('axis', fallback), rank) ?? 0;
  for (const [a, labels] of axes) {
    if (flattens ? a >= axis : a === axis) ctx.block(labels, `${ctx.where}: normalizes across the channels (axis ${a})`);
    else ctx.setOut(0, a, labels);
  }
}

/** Ops that mix neighbouring channels (LRN): the channel axis cannot shrink; other tracked axes pass. */
function mixesChannels(ctx: NodeContext): void {
  for (const [a, labels] of ctx.axes(0) ?? []) {
    if (a === 1) ctx.block(labels, `${ctx.where}: mixes neighbouring channels`);
    else ctx.setOut(0, a, labels);
  }
}

/** MeanVarianceNormalization over `axes` (default [0, 2, 3]). */
function meanVarianceNorm(ctx: NodeContext): void {
  const rank = ctx.rank(ctx.input(0)) ?? 4;
  const axes = (ctx.node.getInts('axes') ?? [0, 2, 3]).map((a) => normAxis(a, rank));
  for (const [a, labels] of ctx.axes(0) ?? []) {
    if (axes.includes(a)) ctx.block(labels, `${ctx.where}: normalizes across the channels (axis ${a})`);
    else ctx.setOut(0, a, labels);
  }
}

const LAYER_NORM = rule('scale and bias sliced along normalized channel axes; statistics over kept features', layerNorm);
const RMS_NORM = rule('RMSNorm: scale sliced along normalized channel axes; statistics over kept features', layerNorm);

const SOFTMAX = rule('normalizes along one axis: declined there, other channels pass', (c) => alongAxis(c, c.opset < 13 ? 1 : -1, c.opset < 13));

export const normRules: ChannelRuleTable = {
  BatchNormalization: rule('per-channel scale, bias, mean, variance sliced', batchNorm),
  InstanceNormalization: rule('per-channel scale and bias sliced', instanceNorm),
  LayerNormalization: LAYER_NORM,
  RMSNormalization: RMS_NORM,
  // onnxruntime's contrib op, in the default domain where its model builder writes it.
  SimplifiedLayerNormalization: RMS_NORM,
  GroupNormalization: rule('whole groups only: each group is one unit; num_groups shrinks', groupNorm),
  LpNormalization: rule('normalizes along its axis: declined there', (c) => alongAxis(c, -1, false)),
  MeanVarianceNormalization: rule('normalizes over its axes: declined there', meanVarianceNorm),
  LRN: rule('mixes neighbouring channels: declined', mixesChannels),
  ...table(['Softmax', 'LogSoftmax', 'Hardmax'], SOFTMAX),
};

/** onnxruntime's fused residual norms (com.microsoft). */
export const microsoftNormRules: ChannelRuleTable = {
  SkipLayerNormalization: rule('input + skip couple like a residual Add; gamma, beta, bias sliced; statistics over kept features', skipNorm([2, 3, 4])),
  SkipSimplifiedLayerNormalization: rule('input + skip couple like a residual Add; gamma, bias sliced; RMS over kept features', skipNorm([2, 3])),
};
