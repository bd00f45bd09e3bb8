import * as tf from '@tensorflow/tfjs-core';
import { held, type Held } from '../held.js';
import { matMulWithGrad } from '../matMulGradient.js';
import type { OpContext } from '../opContext.js';

/** Gemm: alpha·A'·B' + beta·C with optional transposes. */
export function Gemm(c: OpContext): Held {
  const a = c.onnx(0);
  const b = c.onnx(1);
  if (a.rank !== 2 || b.rank !== 2) c.fail(`expects 2-D A and B, got ranks ${a.rank} and ${b.rank}`);
  const alpha = c.node.getFloat('alpha', 1);
  const beta = c.node.getFloat('beta', 1);
  const transA = c.node.getInt('transA', 0) === 1;
  const transB = c.node.getInt('transB', 0) === 1;
  let y = c.run.kernels.customMatMulGrad
    ? matMulWithGrad((transA ? tf.transpose(a) : a) as tf.Tensor2D, (transB ? tf.transpose(b) : b) as tf.Tensor2D)
    : tf.matMul(a, b, transA, transB);
  if (alpha !== 1) y = tf.mul(y, alpha);
  if (c.has(2) && beta !== 0) y = tf.add(y, beta === 1 ? c.onnx(2) : tf.mul(c.onnx(2), beta));
  return held(y);
}

/** MatMul with numpy semantics: 1-D operands are promoted and the added axis removed, batch dims broadcast. */
export function MatMul(c: OpContext): Held {
  let a = c.onnx(0);
  let b = c.onnx(1);
  const vecA = a.rank === 1;
  const vecB = b.rank === 1;
  if (vecA) a = tf.reshape(a, [1, a.shape[0]!]);
  if (vecB) b = tf.reshape(b, [b.shape[0]!, 1]);
  let y: tf.Tensor;
  if (b.rank === 2 && a.rank >= 2) {
    // A linear layer over [..., K]: one 2-D product instead of a broadcast batch product.
    const lead = a.shape.slice(0, -1);
    const rows = tf.reshape(a, [-1, a.shape[a.rank - 1]!]) as tf.Tensor2D;
    const product = c.run.kernels.customMatMulGrad ? matMulWithGrad(rows, b as tf.Tensor2D) : tf.matMul(rows, b);
    y = tf.reshape(product, [...lead, b.shape[1]!]);
  } else {
    y = batchMatMul(a, b);
  }
  if (vecA) y = tf.squeeze(y, [y.rank - 2]);
  if (vecB) y = tf.squeeze(y, [y.rank - 1]);
  return held(y);
}

/**
 * Batched product with numpy broadcasting of the batch dims, done explicitly: tfjs 4.22's own broadcasting returns
 * a tensor with too few elements when the operands' batch ranks differ.
 */
function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...new Array<number>(rank - batchA.length).fill(1), ...batchA];
  const padB = [...new Array<number>(rank - batchB.length).fill(1), ...batchB];
  const batch = padA.map((d, i) => (d === 1 ? padB[i]! : d));
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1]!;
  const count = batch.reduce((x, y) => x * y, 1);
  const full = (t: tf.Tensor, padded: number[], tail: number[]): tf.Tensor => {
    const r = tf.reshape(t, [...padded, ...tail]);
    return tf.reshape(padded.every((d, i) => d === batch[i]) ? r : tf.broadcastTo(r, [...batch, ...tail]), [count, ...tail]);
  };
  const y = tf.matMul(full(a, padA, [m, k]), full(b, padB, [k, n]));
  return tf.reshape(y, [...batch, m, n]);
}
