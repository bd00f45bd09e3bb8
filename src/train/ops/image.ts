import * as tf from '@tensorflow/tfjs-core';
import { held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';

/** An image-like input of a conv or pool, channels-last and 2-D (1-D inputs get a height of 1). */
export interface ImageIn {
  x: tf.Tensor4D;
  /** The ONNX spatial dims: [H, W] or [L]. */
  spatial: number[];
  oneD: boolean;
}

export function imageIn(c: OpContext, i: number): ImageIn {
  const dims = c.dims(i);
  if (dims.length === 4) return { x: c.nhwc(i), spatial: dims.slice(2), oneD: false };
  if (dims.length === 3) {
    const [n, ch, l] = dims as [number, number, number];
    return { x: tf.reshape(tf.transpose(c.onnx(i), [0, 2, 1]), [n, 1, l, ch]), spatial: [l], oneD: true };
  }
  c.fail(`expects a 3-D or 4-D input, got [${dims.join(', ')}]`);
}

/** The op's NHWC result back as a held value: channels-last for images, [N, C, L] for 1-D. */
export function imageOut(img: ImageIn, y: tf.Tensor4D): Held {
  if (!img.oneD) return held(y, true);
  const [n, , l, ch] = y.shape;
  return held(tf.transpose(tf.reshape(y, [n, l, ch]), [0, 2, 1]));
}
