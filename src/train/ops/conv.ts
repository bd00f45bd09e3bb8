import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dBuiltin, conv2dCustomGrad, depthwiseConv2dBuiltin, depthwiseConv2dCustomGrad, upsampleZeros, type ConvGeometry,
} from '../convGradients.js';
import type { Held } from '../held.js';
import type { OpContext } from '../opContext.js';
import { readWindow } from './geometry.js';
import { imageIn, imageOut } from './image.js';

/** ONNX Conv (1-D or 2-D; any group count, depthwise included). */
export function Conv(c: OpContext): Held {
  const wDims = c.dims(1);
  const img = imageIn(c, 0);
  const win = readWindow(c, img.spatial, wDims.slice(2));
  const group = c.node.getInt('group', 1);
  const w = c.onnx(1);
  // [O, I/g, kh, kw] → [kh, kw, I/g, O]
  const kernel = tf.transpose(wDims.length === 3 ? tf.reshape(w, [wDims[0]!, wDims[1]!, 1, wDims[2]!]) : w, [2, 3, 1, 0]) as tf.Tensor4D;
  let y = groupedConv(c, img.x, kernel, group, { strides: win.strides, dilations: win.dilations, pads: win.pads });
  if (c.has(2)) y = tf.add(y, c.onnx(2));
  return imageOut(img, y);
}

/**
 * ONNX ConvTranspose as a convolution of the zero-upsampled input with the flipped kernel: every weight then trains
 * through the same conv gradients (tfjs's conv2dTranspose gradient needs the filter-backprop kernel wasm lacks).
 */
export function ConvTranspose(c: OpContext): Held {
  const wDims = c.dims(1); // [Cin, Cout/g, kh, kw]
  const img = imageIn(c, 0);
  const group = c.node.getInt('group', 1);
  const oneD = wDims.length === 3;
  const win = readWindow(c, img.spatial, wDims.slice(2));
  const [kh, kw] = win.kernel;
  const outPad = c.node.getInts('output_padding') ?? [];
  const [oph, opw] = oneD ? [0, outPad[0] ?? 0] : [outPad[0] ?? 0, outPad[1] ?? 0];
  const [h, w] = img.x.shape.slice(1, 3) as [number, number];
  const outputShape = c.node.getInts('output_shape');
  let [pt, pb, pl, pr] = win.pads;
  if (outputShape || c.node.getString('auto_pad', 'NOTSET').startsWith('SAME')) {
    const want = outputShape ? (oneD ? [1, outputShape.at(-1)!] : outputShape.slice(-2)) : [h * win.strides[0], w * win.strides[1]];
    const total = (i: 0 | 1, size: number, k: number, op: number): number =>
      Math.max(0, win.strides[i] * (size - 1) + op + (k - 1) * win.dilations[i] + 1 - want[i]!);
    const upper = c.node.getString('auto_pad', 'NOTSET') === 'SAME_UPPER';
    const split = (t: number): [number, number] => (upper ? [Math.floor(t / 2), t - Math.floor(t / 2)] : [t - Math.floor(t / 2), Math.floor(t / 2)]);
    [pt, pb] = split(total(0, h, kh, oph));
    [pl, pr] = split(total(1, w, kw, opw));
  }
  const reach = (k: number, d: number): number => (k - 1) * d;
  const before = [reach(kh, win.dilations[0]) - pt, reach(kw, win.dilations[1]) - pl];
  const after = [reach(kh, win.dilations[0]) - pb + oph, reach(kw, win.dilations[1]) - pr + opw];
  // Negative padding crops the upsampled input; positive padding goes to the convolution.
  let up = upsampleZeros(img.x, win.strides);
  const crop = [Math.max(0, -before[0]!), Math.max(0, -after[0]!), Math.max(0, -before[1]!), Math.max(0, -after[1]!)];
  if (crop.some((v) => v > 0)) {
    const [n, uh, uw, ch] = up.shape;
    up = tf.slice(up, [0, crop[0]!, crop[2]!, 0], [n, uh - crop[0]! - crop[1]!, uw - crop[2]! - crop[3]!, ch]);
  }
  const pads: ConvGeometry['pads'] = [Math.max(0, before[0]!), Math.max(0, after[0]!), Math.max(0, before[1]!), Math.max(0, after[1]!)];
  const wt = c.onnx(1);
  const w4 = oneD ? tf.reshape(wt, [wDims[0]!, wDims[1]!, 1, wDims[2]!]) : wt;
  // Per group: [Cin/g, Cout/g, kh, kw] → flipped [kh, kw, Cin/g, Cout/g]; the groups stacked along the output axis.
  const groups = group === 1 ? [w4] : tf.split(w4, group, 0);
  const kernel = tf.concat(groups.map((g) => tf.reverse(tf.transpose(g, [2, 3, 0, 1]), [0, 1])), 3) as tf.Tensor4D;
  let y = groupedConv(c, up, kernel, group, { strides: [1, 1], dilations: win.dilations, pads });
  if (c.has(2)) y = tf.add(y, c.onnx(2));
  return imageOut(img, y);
}

/** x [N,H,W,C] ⊛ kernel [kh,kw,C/group,O]: one conv, a depthwise conv, or one conv per group. */
function groupedConv(c: OpContext, x: tf.Tensor4D, kernel: tf.Tensor4D, group: number, g: ConvGeometry): tf.Tensor4D {
  const channels = x.shape[3];
  const [kh, kw, perGroup, out] = kernel.shape;
  if (perGroup * group !== channels) c.fail(`weight expects ${perGroup * group} input channels, input has ${channels}`);
  if (out % group !== 0) c.fail(`${out} output channels do not split into ${group} groups`);
  const dilated = g.dilations[0] > 1 || g.dilations[1] > 1;
  if (group === 1) return (c.run.kernels.customConvGrad || dilated ? conv2dCustomGrad : conv2dBuiltin)(x, kernel, g);
  if (perGroup === 1) {
    const depthwise = c.run.kernels.customDepthwiseGrad || dilated ? depthwiseConv2dCustomGrad : depthwiseConv2dBuiltin;
    return depthwise(x, tf.reshape(kernel, [kh, kw, channels, out / channels]), g);
  }
  const conv = c.run.kernels.customConvGrad || dilated ? conv2dCustomGrad : conv2dBuiltin;
  const xs = tf.split(x, group, 3);
  const ks = tf.split(kernel, group, 3);
  return tf.concat(xs.map((xi, i) => conv(xi as tf.Tensor4D, ks[i] as tf.Tensor4D, g)), 3);
}
