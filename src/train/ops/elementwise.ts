import * as tf from '@tensorflow/tfjs-core';
import { DataType } from '../../ir/dtype.js';
import { broadcastAsNhwc, held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';
import { tfDtypeOf } from '../tfDtype.js';

/**
 * Elementwise ops. Broadcasting follows ONNX (right-aligned, as tfjs); when an operand is held channels-last the
 * others are lined up with it, so conv → bias/scale/activation chains stay channels-last.
 */

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** Applies f over operands of any layout: channels-last when some 4-D operand is and the result is 4-D. */
function broadcastOp(c: OpContext, f: (...xs: tf.Tensor[]) => tf.Tensor): Held {
  const ins = c.node.inputs.map((_, i) => c.input(i));
  const rank = Math.max(...ins.map((h) => h.t.rank));
  if (rank === 4 && ins.some((h) => h.nhwc)) return held(f(...ins.map((h) => (h.nhwc ? h.t : broadcastAsNhwc(h.t)))), true);
  return held(f(...ins.map((_, i) => c.onnx(i))));
}

/** Folds a variadic op (Max, Min, Sum) pairwise. */
function variadic(f: Binary): (...xs: tf.Tensor[]) => tf.Tensor {
  return (...xs) => xs.slice(1).reduce(f, xs[0]!);
}

const binary = (f: Binary) => (c: OpContext): Held => broadcastOp(c, (a, b) => f(a!, b!));

export const Add = binary(tf.add);
export const Sub = binary(tf.sub);
export const Mul = binary(tf.mul);
/** Integer Div truncates in ONNX; tfjs floors. They differ only for negative operands, which shape math avoids. */
export const Div = binary(tf.div);
export const Pow = binary((a, b) => (b.dtype === a.dtype ? tf.pow(a, b) : tf.pow(a, tf.cast(b, a.dtype))));
export const Equal = binary(tf.equal);
export const Less = binary(tf.less);
export const Greater = binary(tf.greater);
export const LessOrEqual = binary(tf.lessEqual);
export const GreaterOrEqual = binary(tf.greaterEqual);
export const And = binary(tf.logicalAnd);
export const Or = binary(tf.logicalOr);
export const PRelu = binary((x, slope) => tf.add(tf.relu(x), tf.mul(slope, tf.minimum(x, 0))));
export const Max = (c: OpContext): Held => broadcastOp(c, variadic(tf.maximum));
export const Min = (c: OpContext): Held => broadcastOp(c, variadic(tf.minimum));
export const Sum = (c: OpContext): Held => broadcastOp(c, variadic(tf.add));
export const Mean = (c: OpContext): Held => broadcastOp(c, (...xs) => tf.div(variadic(tf.add)(...xs), xs.length));
export const Where = (c: OpContext): Held => broadcastOp(c, (cond, a, b) => tf.where(tf.cast(cond!, 'bool'), a!, b!));

/** Unary ops keep whatever layout their input has. */
const unary = (f: (x: tf.Tensor, c: OpContext) => tf.Tensor) => (c: OpContext): Held => {
  const x = c.input(0);
  return held(f(x.t, c), x.nhwc);
};

export const Identity = unary((x) => x);
export const Relu = unary((x) => tf.relu(x));
export const LeakyRelu = unary((x, c) => tf.leakyRelu(x, c.node.getFloat('alpha', 0.01)));
export const Elu = unary((x, c) => {
  const alpha = c.node.getFloat('alpha', 1);
  return alpha === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.sub(tf.exp(x), 1)));
});
export const Sigmoid = unary((x) => tf.sigmoid(x));
export const Tanh = unary((x) => tf.tanh(x));
export const Erf = unary((x) => tf.erf(x));
export const Exp = unary((x) => tf.exp(x));
export const Cos = unary((x) => tf.cos(x));
export const Sin = unary((x) => tf.sin(x));
export const Log = unary((x) => tf.log(x));
export const Sqrt = unary((x) => tf.sqrt(x));
export const Reciprocal = unary((x) => tf.reciprocal(x));
export const Neg = unary((x) => tf.neg(x));
export const Abs = unary((x) => tf.abs(x));
export const Floor = unary((x) => tf.floor(x));
export const Ceil = unary((x) => tf.ceil(x));
export const Softplus = unary((x) => tf.softplus(x));
export const Not = unary((x) => tf.logicalNot(x));
export const HardSigmoid = unary((x, c) => hardSigmoid(x, c.node.getFloat('alpha', 0.2), c.node.getFloat('beta', 0.5)));
export const HardSwish = unary((x) => tf.mul(x, hardSigmoid(x, 1 / 6, 0.5)));
export const Gelu = unary((x, c) => (c.node.getString('approximate', 'none') === 'tanh' ? geluTanh(x) : geluErf(x)));

/** ONNX Clip: bounds from inputs 1 and 2 (opset 11+) or the min/max attributes; either may be absent. */
export const Clip = unary((x, c) => {
  const lo = c.opset >= 11 ? c.optionalNumbers(1)?.[0] : c.node.getFloat('min');
  const hi = c.opset >= 11 ? c.optionalNumbers(2)?.[0] : c.node.getFloat('max');
  if (lo !== undefined && hi !== undefined) return tf.clipByValue(x, lo, hi);
  if (lo !== undefined) return tf.maximum(x, lo);
  if (hi !== undefined) return tf.minimum(x, hi);
  return x;
});

/** ONNX Cast: every float type is float32 here, every integer type int32 (int64 values beyond it do not occur in shapes). */
export const Cast = unary((x, c) => tf.cast(x, tfDtypeOf(c.node.getInt('to', DataType.FLOAT))));

function hardSigmoid(x: tf.Tensor, alpha: number, beta: number): tf.Tensor {
  return tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
}

function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/** Mod: fmod=0 takes the divisor's sign (as tf.mod), fmod=1 the dividend's (C fmod: a - b·trunc(a / b)). */
export const Mod = (c: OpContext): Held => broadcastOp(c, (a, b) => {
  if (c.node.getInt('fmod', 0) === 0) return tf.mod(a!, b!);
  const q = tf.div(tf.cast(a!, 'float32'), tf.cast(b!, 'float32'));
  const truncated = tf.mul(tf.sign(q), tf.floor(tf.abs(q)));
  return tf.sub(a!, tf.mul(b!, tf.cast(truncated, a!.dtype)));
});
