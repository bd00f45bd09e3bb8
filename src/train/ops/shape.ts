import * as tf from '@tensorflow/tfjs-core';
import { DataType } from '../../ir/dtype.js';
import { held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';
import { tfDtypeOf } from '../tfDtype.js';

/** Ops that rearrange or describe shapes. Shape tensors are int32 here (ONNX's int64 dims all fit). */

export function Shape(c: OpContext): Held {
  const dims = c.dims(0);
  const rank = dims.length;
  const norm = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = norm(c.node.getInt('start', 0));
  const end = norm(c.node.getInt('end', rank));
  return held(tf.tensor1d(dims.slice(start, Math.max(start, end)), 'int32'));
}

export function Reshape(c: OpContext): Held {
  const dims = c.dims(0);
  const allowZero = c.node.getInt('allowzero', 0) === 1;
  const target = c.opset >= 5 ? c.numbers(1) : c.node.getInts('shape') ?? c.fail('missing shape');
  const shape = target.map((d, i) => (d === 0 && !allowZero ? dims[i]! : d));
  return held(tf.reshape(c.onnx(0), shape));
}

export function Flatten(c: OpContext): Held {
  const dims = c.dims(0);
  const axis = normAxis(c.node.getInt('axis', 1), dims.length + 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  return held(tf.reshape(c.onnx(0), [outer, -1]));
}

/** Transpose; from a channels-last input the two permutations compose into one. */
export function Transpose(c: OpContext): Held {
  const x = c.input(0);
  const rank = x.t.rank;
  const perm = c.node.getInts('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const fromHeld = x.nhwc ? perm.map((p) => [0, 3, 1, 2][p]!) : perm;
  return held(fromHeld.every((p, i) => p === i) ? x.t : tf.transpose(x.t, fromHeld));
}

export function Squeeze(c: OpContext): Held {
  const dims = c.dims(0);
  const axes = (c.opset >= 13 ? c.optionalNumbers(1) : c.node.getInts('axes'))?.map((a) => normAxis(a, dims.length));
  const keep = dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
  return held(tf.reshape(c.onnx(0), keep));
}

export function Unsqueeze(c: OpContext): Held {
  const dims = c.dims(0);
  const axes = (c.opset >= 13 ? c.numbers(1) : c.node.getInts('axes')) ?? c.fail('missing axes');
  const rank = dims.length + axes.length;
  const at = new Set(axes.map((a) => normAxis(a, rank)));
  const out: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) out.push(at.has(i) ? 1 : dims[j++]!);
  return held(tf.reshape(c.onnx(0), out));
}

/** Expand: bidirectional (numpy) broadcast to the given shape. */
export function Expand(c: OpContext): Held {
  const dims = c.dims(0);
  const target = c.numbers(1);
  const rank = Math.max(dims.length, target.length);
  const a = [...new Array<number>(rank - dims.length).fill(1), ...dims];
  const b = [...new Array<number>(rank - target.length).fill(1), ...target];
  const out = a.map((d, i) => (d === 1 ? b[i]! : d));
  const x = tf.reshape(c.onnx(0), a);
  if (out.every((d, i) => d === a[i])) return held(x);
  // tf.broadcastTo runs as Tile, whose gradient tfjs lacks above rank 4 (repeat_kv expands [B, kv, 1, T, d]); adding
  // zeros broadcasts the same way and its gradient (a sum over the broadcast axes) works at any rank.
  return held(out.length > 4 && x.dtype === 'float32' ? tf.add(x, tf.zeros(out)) : tf.broadcastTo(x, out));
}

export function ConstantOfShape(c: OpContext): Held {
  const shape = c.numbers(0);
  const t = c.node.getTensor('value');
  const value = t ? t.toNumbers()[0] ?? 0 : 0;
  return held(tf.fill(shape, value, tfDtypeOf(t?.dataType ?? DataType.FLOAT)));
}

export function Range(c: OpContext): Held {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.numbers(i)[0]!);
  return held(tf.range(start!, limit!, delta!, c.input(0).t.dtype === 'float32' ? 'float32' : 'int32'));
}

export function Tile(c: OpContext): Held {
  return held(tf.tile(c.onnx(0), c.numbers(1)));
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
