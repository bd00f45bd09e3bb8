import type { Dim } from '../value.js';
import type { RuleContext } from './context.js';
import { isKnown } from './dims.js';

/** Sliding-window geometry shared by Conv, ConvTranspose and the pools. */
export interface Window {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padsBegin: readonly number[];
  readonly padsEnd: readonly number[];
  /** NOTSET (explicit pads), SAME_UPPER, SAME_LOWER or VALID. */
  readonly autoPad: string;
  readonly ceilMode: boolean;
}

/** Reads the window attributes of a node with `spatial` spatial axes; undefined without a kernel size. */
export function readWindow(ctx: RuleContext, spatial: number, kernel: readonly number[] | undefined): Window | undefined {
  if (!kernel || kernel.length !== spatial) return undefined;
  const perAxis = (name: string, fallback: number): number[] => {
    const v = ctx.ints(name);
    return v && v.length === spatial ? v : new Array<number>(spatial).fill(fallback);
  };
  const pads = ctx.ints('pads');
  const padsOk = pads && pads.length === 2 * spatial;
  return {
    kernel,
    strides: perAxis('strides', 1),
    dilations: perAxis('dilations', 1),
    padsBegin: padsOk ? pads.slice(0, spatial) : new Array<number>(spatial).fill(0),
    padsEnd: padsOk ? pads.slice(spatial) : new Array<number>(spatial).fill(0),
    autoPad: ctx.node.getString('auto_pad', 'NOTSET'),
    ceilMode: ctx.int('ceil_mode', 0) === 1,
  };
}

function effectiveKernel(w: Window, i: number): number {
  return (w.kernel[i]! - 1) * w.dilations[i]! + 1;
}

/** Output size of spatial axis `i` of a Conv or pool. */
export function windowOutput(inDim: Dim, i: number, w: Window): Dim {
  const stride = w.strides[i]!;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
    if (isKnown(inDim)) return Math.ceil(inDim / stride);
    return stride === 1 ? inDim : null;
  }
  const pad = w.autoPad === 'VALID' ? 0 : w.padsBegin[i]! + w.padsEnd[i]!;
  const k = effectiveKernel(w, i);
  if (!isKnown(inDim)) return stride === 1 && pad - k + 1 === 0 ? inDim : null;
  const span = inDim + pad - k;
  if (span < 0) return null;
  let out = (w.ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // With ceil_mode the last window must start inside the input or its left padding (as PyTorch and onnxruntime).
  const padBegin = w.autoPad === 'VALID' ? 0 : w.padsBegin[i]!;
  if (w.ceilMode && (out - 1) * stride >= inDim + padBegin) out--;
  return out;
}

/** Output size of spatial axis `i` of a ConvTranspose without an explicit output_shape. */
export function transposedWindowOutput(inDim: Dim, i: number, w: Window, outputPadding: number): Dim {
  const stride = w.strides[i]!;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
    if (isKnown(inDim)) return inDim * stride;
    return stride === 1 ? inDim : null;
  }
  const pad = w.autoPad === 'VALID' ? 0 : w.padsBegin[i]! + w.padsEnd[i]!;
  const grow = outputPadding + effectiveKernel(w, i) - pad;
  if (isKnown(inDim)) return stride * (inDim - 1) + grow;
  return stride === 1 && grow - 1 === 0 ? inDim : null;
}
