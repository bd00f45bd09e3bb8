import * as tf from '@tensorflow/tfjs-core';
import { held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';
import { readWindow, type Window } from './geometry.js';
import { imageIn, imageOut } from './image.js';

/** Padding value for max pooling: below any activation, yet finite so no gradient meets an infinity. */
const LOWEST = -3.4e38;

/** MaxPool (1-D / 2-D; asymmetric pads, ceil_mode). */
export function MaxPool(c: OpContext): Held {
  if (c.wantsOutput(1)) c.fail('the Indices output is not supported');
  const img = imageIn(c, 0);
  const win = poolWindow(c, img.spatial);
  const [t, b, l, r] = win.pads;
  const x = t || b || l || r ? tf.pad(img.x, [[0, 0], [t, b], [l, r], [0, 0]], LOWEST) : img.x;
  return imageOut(img, tf.maxPool(x, win.kernel, win.strides, 'valid'));
}

/**
 * AveragePool as a windowed sum divided by the count of cells ONNX averages over: the real ones, plus the padding
 * when count_include_pad, never the extra cells ceil_mode adds past the padding.
 */
export function AveragePool(c: OpContext): Held {
  const img = imageIn(c, 0);
  const declared = readWindow(c, img.spatial, poolKernel(c, img.spatial));
  const win = poolWindow(c, img.spatial);
  const [t, b, l, r] = win.pads;
  if (!(t || b || l || r)) return imageOut(img, tf.avgPool(img.x, win.kernel, win.strides, 'valid'));
  const x = tf.pad(img.x, [[0, 0], [t, b], [l, r], [0, 0]]);
  const [, h, w] = img.x.shape;
  const includePad = c.node.getInt('count_include_pad', 0) === 1;
  const [dt, db, dl, dr] = declared.pads;
  const inner = includePad ? tf.ones([1, h + dt + db, w + dl + dr, 1]) : tf.pad(tf.ones([1, h, w, 1]), [[0, 0], [dt, db], [dl, dr], [0, 0]]);
  const mask = tf.pad(inner, [[0, 0], [t - dt, b - db], [l - dl, r - dr], [0, 0]]) as tf.Tensor4D;
  const sum = tf.avgPool(x, win.kernel, win.strides, 'valid');
  const count = tf.avgPool(mask, win.kernel, win.strides, 'valid');
  return imageOut(img, tf.div(sum, count));
}

export function GlobalAveragePool(c: OpContext): Held {
  return globalPool(c, (x, axes) => tf.mean(x, axes, true));
}

export function GlobalMaxPool(c: OpContext): Held {
  return globalPool(c, (x, axes) => tf.max(x, axes, true));
}

function globalPool(c: OpContext, reduce: (x: tf.Tensor, axes: number[]) => tf.Tensor): Held {
  const x = c.input(0);
  if (x.nhwc) return held(reduce(x.t, [1, 2]), true);
  return held(reduce(x.t, Array.from({ length: x.t.rank - 2 }, (_, i) => i + 2)));
}

function poolKernel(c: OpContext, spatial: number[]): number[] {
  const k = c.node.getInts('kernel_shape');
  if (!k || k.length !== spatial.length) c.fail(`kernel_shape ${k ? `[${k.join(', ')}]` : 'missing'} does not fit a ${spatial.length}-D input`);
  return k;
}

/** The declared window, with end padding grown so ceil_mode's last partial windows exist. */
function poolWindow(c: OpContext, spatial: number[]): Window {
  const win = readWindow(c, spatial, poolKernel(c, spatial));
  if (win.dilations.some((d) => d !== 1)) c.fail('dilated pooling is not supported');
  if (c.node.getInt('ceil_mode', 0) !== 1) return win;
  const size = spatial.length === 1 ? [1, spatial[0]!] : spatial;
  const extra = [0, 1].map((i) => {
    const padded = size[i]! + win.pads[2 * i]! + win.pads[2 * i + 1]!;
    const k = win.kernel[i]!;
    const s = win.strides[i]!;
    let out = Math.ceil((padded - k) / s) + 1;
    // The last window must start inside the input or its leading padding (as onnxruntime and PyTorch).
    if ((out - 1) * s >= size[i]! + win.pads[2 * i]!) out--;
    return Math.max(0, (out - 1) * s + k - padded);
  });
  const [t, b, l, r] = win.pads;
  return { ...win, pads: [t, b + extra[0]!, l, r + extra[1]!] };
}
