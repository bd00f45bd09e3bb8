import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat } from './oneHot.js';

/**
 * tf.gather whose gradient needs no UnsortedSegmentSum kernel (wasm lacks it): the rows of dy are summed back
 * onto the gathered positions by a one-hot matrix product. Memory is indices × axis length, fine for the class
 * tokens, position tables and small vocabularies this serves.
 */
export function gatherWithGrad(x: tf.Tensor, indices: tf.Tensor, axis: number): tf.Tensor {
  const op = tf.customGrad((xIn, save) => {
    // Saved, not captured: the indices may be disposed by the time the backward pass runs.
    (save as tf.GradSaveFunc)([indices]);
    return {
      value: tf.gather(xIn as tf.Tensor, indices, axis),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => scatterAdd(dy, saved[0]!, x.shape, axis),
    };
  });
  return op(x);
}

/** dx[.., d, ..] = Σ over k with indices[k] = d of dy[.., k, ..]. */
function scatterAdd(dy: tf.Tensor, indices: tf.Tensor, xShape: number[], axis: number): tf.Tensor {
  const pre = xShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const post = xShape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const depth = xShape[axis]!;
  const k = indices.size;
  const rows = tf.reshape(tf.transpose(tf.reshape(dy, [pre, k, post]), [1, 0, 2]), [k, pre * post]);
  // Transposed first: wasm's transposed products are an order of magnitude slower than plain ones.
  const summed = tf.matMul(tf.transpose(oneHotFloat(indices, depth)), rows); // [depth, pre·post]
  return tf.reshape(tf.transpose(tf.reshape(summed, [depth, pre, post]), [1, 0, 2]), xShape);
}
