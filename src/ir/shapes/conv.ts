import { DataType } from '../dtype.js';
import type { Dim, Shape } from '../value.js';
import { op, type Attrs, type OutputInfo, type RuleContext, type RuleTable } from './context.js';
import { allKnown, isKnown } from './dims.js';
import { readWindow, transposedWindowOutput, WINDOW_ATTRS, windowOutput } from './window.js';

const CONV_ATTRS: Attrs = { ...WINDOW_ATTRS, dilations: 'ints', group: 'int' };

/** The kernel's spatial size: the kernel_shape attribute, else the weight's trailing dims. */
function kernelOf(ctx: RuleContext, weightInput: number): number[] | undefined {
  const attr = ctx.ints('kernel_shape');
  const w = ctx.shape(weightInput)?.slice(2);
  if (attr && w && w.length === attr.length && w.some((d, i) => isKnown(d) && d !== attr[i]))
    ctx.invalid(`kernel_shape [${attr.join(', ')}] disagrees with the weight's kernel [${w.join(', ')}]`);
  if (attr) return attr;
  return w && allKnown(w) ? w : undefined;
}

/** group ≥ 1; undefined (after reporting) when it is not. */
function groupOf(ctx: RuleContext): number | undefined {
  const group = ctx.int('group', 1);
  if (group >= 1) return group;
  ctx.invalid(`group ${group} must be at least 1`);
  return undefined;
}

/**
 * Checks a (transposed) convolution's weight against its input: the same rank, input channels equal to
 * `inPerGroup · group` (Conv: weight[1] · group; ConvTranspose: weight[0]), the grouped axis divisible by group.
 */
function checkWeight(ctx: RuleContext, xs: Shape, ws: Shape | undefined, group: number | undefined, transposed: boolean): void {
  if (!ws) return;
  if (ws.length !== xs.length) {
    ctx.invalid(`the weight has rank ${ws.length} but the input has rank ${xs.length}`);
    return;
  }
  if (group === undefined) return;
  const c = xs[1];
  const inChannels: Dim = transposed ? ws[0]! : isKnown(ws[1]) ? ws[1] * group : null;
  if (isKnown(c) && isKnown(inChannels) && c !== inChannels)
    ctx.invalid(`the input has ${c} channels but the weight [${ws.join(', ')}] with group ${group} expects ${inChannels}`);
  const grouped = ws[0];
  if (isKnown(grouped) && grouped % group !== 0)
    ctx.invalid(`group ${group} does not divide the weight's ${transposed ? 'input' : 'output'} channels (${grouped})`);
}

/** A bias must be a vector with one entry per output channel. */
function checkBias(ctx: RuleContext, input: number, channels: Dim): void {
  const b = ctx.shape(input);
  if (!b || !ctx.has(input)) return;
  if (b.length !== 1 || (isKnown(b[0]) && isKnown(channels) && b[0] !== channels))
    ctx.invalid(`the bias has shape [${b.join(', ')}] but the output has ${channels ?? '?'} channels`);
}

/** Conv and its quantized forms: [N, C, *spatial] with weight [M, C/group, *kernel] → [N, M, *out]. */
function convolution(ctx: RuleContext, x: number, weight: number, bias: number | undefined, elemType: number | undefined): OutputInfo[] {
  const xs = ctx.shape(x);
  if (!xs) return [{ elemType }];
  if (xs.length < 3) {
    ctx.invalid(`the input has rank ${xs.length}; a convolution needs [N, C, spatial...]`);
    return [{ elemType }];
  }
  const spatial = xs.length - 2;
  const group = groupOf(ctx);
  checkWeight(ctx, xs, ctx.shape(weight), group, false);
  const window = readWindow(ctx, spatial, kernelOf(ctx, weight));
  const channels: Dim = ctx.shape(weight)?.[0] ?? null;
  if (bias !== undefined) checkBias(ctx, bias, channels);
  const out = xs.slice(2).map((d, i) => (window ? windowOutput(ctx, d, i, window) : null));
  return [{ elemType, shape: [xs[0]!, channels, ...out] }];
}

export const convRules: RuleTable = {
  Conv: op('T T T?', 'T', CONV_ATTRS, (ctx) => convolution(ctx, 0, 1, 2, ctx.type(0))),
  /** Inputs: x, w, x_zero_point, w_zero_point. */
  ConvInteger: op('T1 T2 T1? T2?', 'int32', CONV_ATTRS, (ctx) => convolution(ctx, 0, 1, undefined, DataType.INT32)),
  /** Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, bias. */
  QLinearConv: op('T1 S1 T1 T2 S2 T2 S3 T3 T4?', 'T3', CONV_ATTRS, (ctx) => convolution(ctx, 0, 3, 8, ctx.type(7) ?? ctx.type(0))),

  /** Weight [C, M/group, *kernel]: output channels are M = weight[1] * group. */
  ConvTranspose: op('T T T?', 'T', { ...CONV_ATTRS, output_padding: 'ints', output_shape: 'ints' }, (ctx) => {
    const elemType = ctx.type(0);
    const xs = ctx.shape(0);
    if (!xs) return [{ elemType }];
    if (xs.length < 3) {
      ctx.invalid(`the input has rank ${xs.length}; a convolution needs [N, C, spatial...]`);
      return [{ elemType }];
    }
    const spatial = xs.length - 2;
    const group = groupOf(ctx);
    checkWeight(ctx, xs, ctx.shape(1), group, true);
    const w1 = ctx.shape(1)?.[1];
    const channels: Dim = isKnown(w1) && group !== undefined ? w1 * group : null;
    checkBias(ctx, 2, channels);
    const explicit = ctx.ints('output_shape');
    if (explicit && explicit.length >= spatial) return [{ elemType, shape: [xs[0]!, channels, ...explicit.slice(explicit.length - spatial)] }];
    const window = readWindow(ctx, spatial, kernelOf(ctx, 1));
    const outputPadding = ctx.ints('output_padding');
    const out = xs.slice(2).map((d, i) => (window ? transposedWindowOutput(d, i, window, outputPadding?.[i] ?? 0) : null));
    return [{ elemType, shape: [xs[0]!, channels, ...out] }];
  }),
};
