import * as tf from '@tensorflow/tfjs-core';

/**
 * A value while the executor runs: a tfjs tensor, and whether a 4-D image tensor is held channels-last.
 * ONNX images are NCHW but tfjs convolutions and pools want NHWC; keeping conv outputs channels-last across the
 * elementwise ops between convolutions saves a transpose pair per layer. Ops that depend on axis order ask for the
 * layout they need.
 */
// A type alias rather than an interface: tf.tidy accepts it as a tensor container (it has no index signature).
export type Held = {
  readonly t: tf.Tensor;
  /** True when t is a 4-D NCHW value stored as NHWC. */
  readonly nhwc: boolean;
};

export function held(t: tf.Tensor, nhwc = false): Held {
  return { t, nhwc };
}

/** Where NCHW axis i sits in NHWC: N→0, C→3, H→1, W→2. */
const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2];

/** The value in ONNX's own axis order. */
export function toOnnx(h: Held): tf.Tensor {
  return h.nhwc ? tf.transpose(h.t, [0, 3, 1, 2]) : h.t;
}

/** The value channels-last; it must be 4-D in ONNX order (NCHW). */
export function toNhwc(h: Held): tf.Tensor4D {
  if (h.nhwc) return h.t as tf.Tensor4D;
  if (h.t.rank !== 4) throw new Error(`expected a 4-D NCHW tensor, got rank ${h.t.rank}`);
  return tf.transpose(h.t as tf.Tensor4D, [0, 2, 3, 1]);
}

/** An ONNX axis (possibly negative) of a rank-`rank` value, as an index into the held tensor. */
export function heldAxis(h: Held, axis: number, rank = h.t.rank): number {
  const a = axis < 0 ? axis + rank : axis;
  return h.nhwc ? NCHW_TO_NHWC_AXIS[a]! : a;
}

/** The ONNX dims of a held value. */
export function onnxShape(h: Held): number[] {
  const s = h.t.shape;
  return h.nhwc ? [s[0]!, s[3]!, s[1]!, s[2]!] : s.slice();
}

/**
 * Lines a (ONNX-ordered, rank ≤ 4) operand up with a channels-last 4-D operand under ONNX's right-aligned
 * broadcasting: pad its dims to rank 4 with leading ones, then move C last.
 */
export function broadcastAsNhwc(t: tf.Tensor): tf.Tensor {
  if (t.rank > 4) throw new Error(`cannot broadcast a rank-${t.rank} operand against a 4-D image`);
  const dims = [...new Array<number>(4 - t.rank).fill(1), ...t.shape];
  const r = t.rank === 4 ? t : tf.reshape(t, dims);
  // Moving an axis of size 1 is a reshape, not a data movement.
  if (dims[1] === 1) return tf.reshape(r, [dims[0]!, dims[2]!, dims[3]!, 1]);
  return tf.transpose(r, [0, 2, 3, 1]);
}
