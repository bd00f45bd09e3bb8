import type { Dim } from '../value.js';
import type { Attrs, RuleContext } from './context.js';
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

/** The window attributes every windowed op takes (Conv adds dilations and group, the pools ceil_mode and more). */
export const WINDOW_ATTRS: Attrs = { auto_pad: 'string', kernel_shape: 'ints', pads: 'ints', strides: 'ints' };

const AUTO_PADS = new Set(['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID']);

/**
 * Reads the window attributes of a node with `spatial` spatial axes; undefined without a kernel size. Values the
 * spec rules out (a kernel or stride below 1, negative pads, lists of the wrong length) are reported as invalid.
 */
export function readWindow(ctx: RuleContext, spatial: number, kernel: readonly number[] | undefined): Window | undefined {
  const perAxis = (name: string, fallback: number, min: number): number[] | undefined => {
    const v = ctx.ints(name);
    if (!v) return new Array<number>(spatial).fill(fallback);
    if (v.length !== spatial) ctx.invalid(`${name} [${v.join(', ')}] should have ${spatial} entries, one per spatial axis`);
    else if (v.some((x) => x < min)) ctx.invalid(`${name} [${v.join(', ')}] must be at least ${min}`);
    else return v;
    return undefined;
  };
  const autoPad = ctx.node.getString('auto_pad', 'NOTSET');
  if (!AUTO_PADS.has(autoPad)) ctx.invalid(`auto_pad '${autoPad}' is not one of ${[...AUTO_PADS].join(', ')}`);
  const pads = ctx.ints('pads');
  if (pads && pads.length !== 2 * spatial) ctx.invalid(`pads [${pads.join(', ')}] should have ${2 * spatial} entries`);
  else if (pads?.some((p) => p < 0)) ctx.invalid(`pads [${pads.join(', ')}] must not be negative`);
  if (kernel && (kernel.length !== spatial || kernel.some((k) => k < 1)))
    ctx.invalid(`kernel [${kernel.join(', ')}] should be ${spatial} sizes of at least 1`);
  const strides = perAxis('strides', 1, 1);
  const dilations = perAxis('dilations', 1, 1);
  if (!kernel || kernel.length !== spatial || kernel.some((k) => k < 1) || !strides || !dilations || !AUTO_PADS.has(autoPad)) return undefined;
  const padsOk = pads && pads.length === 2 * spatial && pads.every((p) => p >= 0);
  return {
    kernel,
    strides,
    dilations,
    padsBegin: padsOk ? pads.slice(0, spatial) : new Array<number>(spatial).fill(0),
    padsEnd: padsOk ? pads.slice(spatial) : new Array<number>(spatial).fill(0),
    autoPad,
    ceilMode: ctx.int('ceil_mode', 0) === 1,
  };
}

function effectiveKernel(w: Window, i: number): number {
  return (w.kernel[i]! - 1) * w.dilations[i]! + 1;
}

/** Output size of spatial axis `i` of a Conv or pool; a window larger than the padded input is reported. */
export function windowOutput(ctx: RuleContext, inDim: Dim, i: number, w: Window): Dim {
  const stride = w.strides[i]!;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
    if (isKnown(inDim)) return Math.ceil(inDim / stride);
    return stride === 1 ? inDim : null;
  }
  const pad = w.autoPad === 'VALID' ? 0 : w.padsBegin[i]! + w.padsEnd[i]!;
  const k = effectiveKernel(w, i);
  if (!isKnown(inDim)) return stride === 1 && pad - k + 1 === 0 ? inDim : null;
  const span = inDim + pad - k;
  if (span < 0) {
    ctx.invalid(`on spatial axis ${i} the window (${k}) is larger than the padded input (${inDim + pad})`);
    return null;
  }
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
