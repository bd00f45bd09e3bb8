import { DataType } from '../dtype.js';
import type { Dim } from '../value.js';
import { op, type Attrs, type OutputInfo, type RuleContext, type RuleTable } from './context.js';
import { isKnown } from './dims.js';
import { readWindow, WINDOW_ATTRS, windowOutput } from './window.js';

const POOL_ATTRS: Attrs = { ...WINDOW_ATTRS, ceil_mode: 'int', dilations: 'ints' };

/** MaxPool / AveragePool / LpPool: [N, C, *spatial] → [N, C, *out]; MaxPool's optional Indices match it (int64). */
function pool(ctx: RuleContext): OutputInfo[] {
  const elemType = ctx.type(0);
  const xs = ctx.shape(0);
  if (!xs || xs.length < 3) {
    if (xs) ctx.invalid(`the input has rank ${xs.length}; a pool needs [N, C, spatial...]`);
    return [{ elemType }, { elemType: DataType.INT64 }];
  }
  if (!ctx.ints('kernel_shape')) ctx.invalid('kernel_shape is required');
  const window = readWindow(ctx, xs.length - 2, ctx.ints('kernel_shape'));
  const shape = [xs[0]!, xs[1]!, ...xs.slice(2).map((d, i) => (window ? windowOutput(ctx, d, i, window) : null))];
  return [{ elemType, shape }, { elemType: DataType.INT64, shape }];
}

/** Global pools keep N and C and reduce every spatial axis to 1. */
function globalPool(ctx: RuleContext): OutputInfo[] {
  const xs = ctx.shape(0);
  return [{ elemType: ctx.type(0), shape: xs && xs.length >= 2 ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : undefined }];
}

/** LpPool's p was a float in opset 1 and an int since. */
const P: Attrs = { p: ['int', 'float'] };

export const poolRules: RuleTable = {
  MaxPool: op('T', 'T int64?', { ...POOL_ATTRS, storage_order: 'int' }, pool),
  AveragePool: op('T', 'T', { ...POOL_ATTRS, count_include_pad: 'int' }, pool),
  LpPool: op('T', 'T', { ...POOL_ATTRS, ...P }, pool),
  GlobalAveragePool: op('T', 'T', {}, globalPool),
  GlobalMaxPool: op('T', 'T', {}, globalPool),
  GlobalLpPool: op('T', 'T', P, globalPool),

  /** Inverse of MaxPool: an explicit output_shape input, else (in - 1) * stride + kernel - pads. */
  MaxUnpool: op('T1 int64 int64?', 'T1', { kernel_shape: 'ints', pads: 'ints', strides: 'ints' }, (ctx) => {
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
  }),
};
