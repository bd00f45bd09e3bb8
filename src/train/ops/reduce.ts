import * as tf from '@tensorflow/tfjs-core';
import { heldAxis, held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';
import { normAxis } from './shape.js';

type Reducer = (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor;

/** Reduce ops: axes from the attribute or (ReduceSum from opset 13, the others from 18) input 1. */
function reduceOp(f: Reducer, axesInputSince: number) {
  return (c: OpContext): Held => {
    const x = c.input(0);
    const rank = x.t.rank;
    const given = c.opset >= axesInputSince ? c.optionalNumbers(1) : c.node.getInts('axes');
    const keep = c.node.getInt('keepdims', 1) === 1;
    if (!given || given.length === 0) {
      if (c.node.getInt('noop_with_empty_axes', 0) === 1) return x;
      const all = Array.from({ length: rank }, (_, i) => i);
      return held(f(x.t, all, keep), x.nhwc && keep);
    }
    if (x.nhwc && keep) return held(f(x.t, given.map((a) => heldAxis(x, a, rank)), true), true);
    return held(f(c.onnx(0), given.map((a) => normAxis(a, rank)), keep));
  };
}

export const ReduceMean = reduceOp((x, a, k) => tf.mean(x, a, k), 18);
export const ReduceSum = reduceOp((x, a, k) => tf.sum(x, a, k), 13);
export const ReduceMax = reduceOp((x, a, k) => tf.max(x, a, k), 18);
export const ReduceMin = reduceOp((x, a, k) => tf.min(x, a, k), 18);
export const ReduceProd = reduceOp((x, a, k) => tf.prod(x, a, k), 18);
export const ReduceL2 = reduceOp((x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k)), 18);

export const Softmax = softmaxOp((x) => tf.softmax(x));
export const LogSoftmax = softmaxOp((x) => tf.logSoftmax(x));

/**
 * Softmax over one axis (opset 13+: default -1), or before opset 13 over the input coerced to 2-D at `axis`
 * (default 1). tfjs normalises the last axis, so another axis is moved there and back.
 */
function softmaxOp(f: (x: tf.Tensor) => tf.Tensor) {
  return (c: OpContext): Held => {
    const x = c.onnx(0);
    const axis = normAxis(c.node.getInt('axis', c.opset >= 13 ? -1 : 1), x.rank);
    if (c.opset < 13) {
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      return held(tf.reshape(f(tf.reshape(x, [outer, -1])), x.shape));
    }
    if (axis === x.rank - 1) return held(f(x));
    const perm = x.shape.map((_, i) => i);
    [perm[axis], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[axis]!];
    return held(tf.transpose(f(tf.transpose(x, perm)), perm));
  };
}

export function ArgMax(c: OpContext): Held {
  const x = c.onnx(0);
  const axis = normAxis(c.node.getInt('axis', 0), x.rank);
  const y = tf.argMax(x, axis);
  return held(c.node.getInt('keepdims', 1) === 1 ? tf.expandDims(y, axis) : y);
}
