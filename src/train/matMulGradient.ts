import * as tf from '@tensorflow/tfjs-core';

/**
 * A 2-D product a·b whose gradients transpose their operands explicitly before multiplying. tfjs's own gradient
 * asks the kernel for aᵀ·dy and dy·bᵀ, and the wasm backend runs transposed 2-D products an order of magnitude slower
 * than plain ones (lm_kjv's FFN weight gradient, [2048, 128]ᵀ·[2048, 384]: 187 ms against 15 ms with the transpose
 * done first), which made them most of a training step.
 */
export function matMulWithGrad(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((aIn, bIn, save) => {
    (save as tf.GradSaveFunc)([aIn as tf.Tensor, bIn as tf.Tensor]);
    return {
      value: tf.matMul(aIn as tf.Tensor2D, bIn as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [aSaved, bSaved] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, tf.transpose(bSaved)), tf.matMul(tf.transpose(aSaved), dy as tf.Tensor2D)];
      },
    };
  });
  return op(a, b) as tf.Tensor2D;
}
