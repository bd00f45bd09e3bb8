import { DataType } from '../dtype.js';
import type { Dim } from '../value.js';
import type { OutputInfo, RuleContext, RuleTable, ShapeRule } from './context.js';
import { isKnown } from './dims.js';
import { readWindow, windowOutput } from './window.js';

/** MaxPool / AveragePool / LpPool: [N, C, *spatial] → [N, C, *out]; MaxPool's optional Indices match it (int64). */
function pool(ctx: RuleContext): OutputInfo[] {
  const elemType = ctx.type(0);
  const xs = ctx.shape(0);
  if (!xs || xs.length < 2) return [{ elemType }, { elemType: DataType.INT64 }];
  const window = readWindow(ctx, xs.length - 2, ctx.ints('kernel_shape'));
  const shape = [xs[0]!, xs[1]!, ...xs.slice(2).map((d, i) => (window ? windowOutput(d, i, window) : null))];
  return [{ elemType, shape }, { elemType: DataType.INT64, shape }];
}

/** Global pools keep N and C and reduce every spatial axis to 1. */
const globalPool: ShapeRule = (ctx) => {
  const xs = ctx.shape(0);
  return [{ elemType: ctx.type(0), shape: xs && xs.length >= 2 ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : undefined }];
};

export const poolRules: RuleTable = {
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,

  /** Inverse of MaxPool: an explicit output_shape input, else (in - 1) * stride + kernel - pads. */
  MaxUnpool(ctx) {
    const elemType = ctx.type(0);
    const xs = ctx.shape(0);
    if (ctx.has(2)) {
      const explicit = ctx.value(2);
      return [{ elemType, shape: explicit ?? (xs ? xs.map(() => null) : undefined) }];
    }
    if (!xs || xs.length < 2) return [{ elemType }];
    const window = readWindow(ctx, xs.length - 2, ctx.ints('kernel_shape'));
    const out = xs.slice(2).map((d, i): Dim => {
      if (!window || !isKnown(d)) return null;
      return (d - 1) * window.strides[i]! + window.kernel[i]! - window.padsBegin[i]! - window.padsEnd[i]!;
    });
    return [{ elemType, shape: [xs[0]!, xs[1]!, ...out] }];
  },
};
