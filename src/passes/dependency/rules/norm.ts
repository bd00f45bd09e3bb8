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
  ctx.edit({ kind: 'numGroups', node: ctx.node, labels: c, perGroup: per });
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

const SOFTMAX = rule('normalizes along one axis: declined there, other channels pass', (c) => alongAxis(c, c.opset < 13 ? 1 : -1, c.opset < 13));

export const normRules: ChannelRuleTable = {
  BatchNormalization: rule('per-channel scale, bias, mean, variance sliced', batchNorm),
  InstanceNormalization: rule('per-channel scale and bias sliced', instanceNorm),
  LayerNormalization: rule('scale and bias sliced along normalized channel axes; statistics over kept features', layerNorm),
  GroupNormalization: rule('whole groups only: each group is one unit; num_groups shrinks', groupNorm),
  LpNormalization: rule('normalizes along its axis: declined there', (c) => alongAxis(c, -1, false)),
  MeanVarianceNormalization: rule('normalizes over its axes: declined there', meanVarianceNorm),
  LRN: rule('mixes neighbouring channels: declined', mixesChannels),
  ...table(['Softmax', 'LogSoftmax', 'Hardmax'], SOFTMAX),
};
