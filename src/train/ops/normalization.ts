import * as tf from '@tensorflow/tfjs-core';
import { held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';

/**
 * BatchNormalization with its stored statistics, always (the fine-tuning setting: statistics stay frozen, and are
 * written back byte-identical). Scale and bias train only when the executor makes them variables.
 */
export function BatchNormalization(c: OpContext): Held {
  if (c.wantsOutput(1) || c.wantsOutput(2)) c.fail('training-mode outputs (running mean/var) are not supported');
  const x = c.input(0);
  const eps = c.node.getFloat('epsilon', 1e-5);
  const perChannel = (i: number): tf.Tensor => {
    const p = c.onnx(i);
    // Channels are last when held NHWC or for [N, C]; otherwise line [C] up with axis 1.
    return x.nhwc || x.t.rank === 2 ? p : tf.reshape(p, [p.shape[0]!, ...new Array<number>(x.t.rank - 2).fill(1)]);
  };
  const k = tf.mul(perChannel(1), tf.rsqrt(tf.add(perChannel(4), eps)));
  const shift = tf.sub(perChannel(2), tf.mul(perChannel(3), k));
  return held(tf.add(tf.mul(x.t, k), shift), x.nhwc);
}

/** LayerNormalization over axes [axis, rank): (x - mean) / sqrt(var + eps) · scale + bias. */
export function LayerNormalization(c: OpContext): Held[] {
  const x = c.onnx(0);
  const axis = c.node.getInt('axis', -1);
  const start = axis < 0 ? axis + x.rank : axis;
  const axes = Array.from({ length: x.rank - start }, (_, i) => start + i);
  const mean = tf.mean(x, axes, true);
  const centred = tf.sub(x, mean);
  const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axes, true), c.node.getFloat('epsilon', 1e-5)));
  let y = tf.mul(tf.mul(centred, invStd), c.onnx(1));
  if (c.has(2)) y = tf.add(y, c.onnx(2));
  return [held(y), held(mean), held(invStd)];
}

/** InstanceNormalization: per sample and channel over the spatial axes. */
export function InstanceNormalization(c: OpContext): Held {
  const x = c.input(0);
  if (!x.nhwc && x.t.rank !== 4) c.fail(`supports 4-D inputs, got rank ${x.t.rank}`);
  const t = x.nhwc ? x.t : c.nhwc(0);
  const { mean, variance } = tf.moments(t, [1, 2], true);
  const normed = tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, c.node.getFloat('epsilon', 1e-5))));
  return held(tf.add(tf.mul(normed, c.onnx(1)), c.onnx(2)), true);
}
