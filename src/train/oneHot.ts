import * as tf from '@tensorflow/tfjs-core';

/**
 * float32 one-hot rows for int32 indices. Built from a comparison rather than tf.oneHot: the wasm backend's OneHot
 * kernel asked for float32 writes integer bit patterns (1 comes out as 1.4e-45).
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor2D {
  const flat = tf.reshape(indices, [-1, 1]);
  return tf.cast(tf.equal(flat, tf.range(0, depth, 1, 'int32')), 'float32') as tf.Tensor2D;
}
