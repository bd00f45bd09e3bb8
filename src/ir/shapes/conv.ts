import { DataType } from '../dtype.js';
import type { Dim } from '../value.js';
import type { OutputInfo, RuleContext, RuleTable } from './context.js';
import { allKnown, isKnown } from './dims.js';
import { readWindow, transposedWindowOutput, windowOutput } from './window.js';

/** The kernel's spatial size: the kernel_shape attribute, else the weight's trailing dims. */
function kernelOf(ctx: RuleContext, weightInput: number): number[] | undefined {
  const attr = ctx.ints('kernel_shape');
  if (attr) return attr;
  const w = ctx.shape(weightInput)?.slice(2);
  return w && allKnown(w) ? w : undefined;
}

/** Conv and its quantized forms: [N, C, *spatial] with weight [M, C/group, *kernel] → [N, M, *out]. */
function convolution(ctx: RuleContext, x: number, weight: number, elemType: number | undefined): OutputInfo[] {
  const xs = ctx.shape(x);
  if (!xs || xs.length < 2) return [{ elemType }];
  const spatial = xs.length - 2;
  const window = readWindow(ctx, spatial, kernelOf(ctx, weight));
  const channels: Dim = ctx.shape(weight)?.[0] ?? null;
  const out = xs.slice(2).map((d, i) => (window ? windowOutput(d, i, window) : null));
  return [{ elemType, shape: [xs[0]!, channels, ...out] }];
}

export const convRules: RuleTable = {
  Conv: (ctx) => convolution(ctx, 0, 1, ctx.type(0)),
  ConvInteger: (ctx) => convolution(ctx, 0, 1, DataType.INT32),
  /** Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, bias. */
  QLinearConv: (ctx) => convolution(ctx, 0, 3, ctx.type(7) ?? ctx.type(0)),

  /** Weight [C, M/group, *kernel]: output channels are M = weight[1] * group. */
  ConvTranspose(ctx) {
    const elemType = ctx.type(0);
    const xs = ctx.shape(0);
    if (!xs || xs.length < 2) return [{ elemType }];
    const spatial = xs.length - 2;
    const w1 = ctx.shape(1)?.[1];
    const channels: Dim = isKnown(w1) ? w1 * ctx.int('group', 1) : null;
    const explicit = ctx.ints('output_shape');
    if (explicit && explicit.length >= spatial) return [{ elemType, shape: [xs[0]!, channels, ...explicit.slice(explicit.length - spatial)] }];
    const window = readWindow(ctx, spatial, kernelOf(ctx, 1));
    const outputPadding = ctx.ints('output_padding');
    const out = xs.slice(2).map((d, i) => (window ? transposedWindowOutput(d, i, window, outputPadding?.[i] ?? 0) : null));
    return [{ elemType, shape: [xs[0]!, channels, ...out] }];
  },
};
