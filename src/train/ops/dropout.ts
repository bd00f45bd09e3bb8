import * as tf from '@tensorflow/tfjs-core';
import { held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';

/**
 * Dropout: the identity at inference; while training, inverted dropout (kept values scaled by 1/(1-ratio)) with a
 * seed from the executor's stream, so runs with the same --seed drop the same units.
 */
export function Dropout(c: OpContext): Held[] {
  const x = c.input(0);
  const ratio = c.opset >= 12 ? c.optionalNumbers(1)?.[0] ?? 0.5 : c.node.getFloat('ratio', 0.5);
  if (!c.run.training || ratio === 0) {
    const outs = [x];
    if (c.wantsOutput(1)) outs.push(held(tf.cast(tf.onesLike(x.t), 'bool'), x.nhwc));
    return outs;
  }
  const keep = tf.greaterEqual(tf.randomUniform(x.t.shape, 0, 1, 'float32', c.run.nextSeed()), ratio);
  const y = tf.mul(x.t, tf.div(tf.cast(keep, 'float32'), 1 - ratio));
  return [held(y, x.nhwc), held(keep, x.nhwc)];
}
