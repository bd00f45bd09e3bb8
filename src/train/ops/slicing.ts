import * as tf from '@tensorflow/tfjs-core';
import { gatherWithGrad } from '../gatherGradient.js';
import { heldAxis, held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';
import { normAxis } from './shape.js';

/** Ops that cut, join and index along an axis; they stay channels-last when their input is. */

/** A 4-D channels-last input stays so (with its axis remapped); anything else goes to ONNX order. */
function axisInput(c: OpContext, i: number): Held {
  const h = c.input(i);
  return h.nhwc ? h : held(c.onnx(i));
}

export function Concat(c: OpContext): Held {
  const ins = c.node.inputs.map((_, i) => c.input(i));
  const axis = c.node.getInt('axis') ?? c.fail('missing axis');
  const channelsLast = ins.length > 0 && ins.every((h) => h.t.rank === 4) && ins.some((h) => h.nhwc);
  if (channelsLast) {
    const ts = ins.map((h) => (h.nhwc ? h.t : tf.transpose(h.t, [0, 2, 3, 1])));
    return held(tf.concat(ts, heldAxis({ t: ts[0]!, nhwc: true }, axis, 4)), true);
  }
  const ts = ins.map((_, i) => c.onnx(i));
  return held(tf.concat(ts, normAxis(axis, ts[0]!.rank)));
}

export function Split(c: OpContext): Held[] {
  const x = axisInput(c, 0);
  const dims = c.dims(0);
  const onnxAxis = normAxis(c.node.getInt('axis', 0), dims.length);
  const dim = dims[onnxAxis]!;
  const n = c.node.outputs.length;
  let sizes = c.opset >= 13 ? c.optionalNumbers(1) : c.node.getInts('split');
  if (!sizes || sizes.length === 0) {
    const chunk = Math.ceil(dim / n);
    sizes = Array.from({ length: n }, (_, i) => Math.min(chunk, dim - chunk * i));
  }
  return tf.split(x.t, sizes, heldAxis(x, onnxAxis)).map((t) => held(t, x.nhwc));
}

/** Slice with ONNX's clamping rules and any step (steps other than 1 avoid StridedSlice: it has no gradient). */
export function Slice(c: OpContext): Held {
  const x = axisInput(c, 0);
  const dims = c.dims(0);
  const starts = c.opset >= 10 ? c.numbers(1) : c.node.getInts('starts') ?? c.fail('missing starts');
  const ends = c.opset >= 10 ? c.numbers(2) : c.node.getInts('ends') ?? c.fail('missing ends');
  const axes = (c.opset >= 10 ? c.optionalNumbers(3) : c.node.getInts('axes')) ?? starts.map((_, i) => i);
  const steps = (c.opset >= 10 ? c.optionalNumbers(4) : undefined) ?? starts.map(() => 1);
  let t = x.t;
  axes.forEach((a, i) => {
    const axis = normAxis(a, dims.length);
    const dim = dims[axis]!;
    const step = steps[i]!;
    if (step === 0) c.fail('slice step 0');
    const rel = (v: number): number => (v < 0 ? v + dim : v);
    const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
    const start = step > 0 ? clamp(rel(starts[i]!), 0, dim) : clamp(rel(starts[i]!), 0, dim - 1);
    const end = step > 0 ? clamp(rel(ends[i]!), 0, dim) : clamp(rel(ends[i]!), -1, dim - 1);
    const count = Math.max(0, Math.ceil((end - start) / step));
    t = sliceAxis(t, heldAxis(x, axis, dims.length), start, count, step);
  });
  return held(t, x.nhwc);
}

/** `count` elements along `axis` from `start` every `step` (negative steps walk backwards). */
function sliceAxis(t: tf.Tensor, axis: number, start: number, count: number, step: number): tf.Tensor {
  const dim = t.shape[axis]!;
  if (step < 0) return sliceAxis(tf.reverse(t, axis), axis, dim - 1 - start, count, -step);
  if (step === 1 && start === 0 && count === dim) return t;
  const begin = t.shape.map((_, i) => (i === axis ? start : 0));
  const size = t.shape.map((d, i) => (i === axis ? (step === 1 ? count : Math.min(count * step, dim - start)) : d));
  const cut = tf.slice(t, begin, size);
  if (step === 1 || count === 0) return cut;
  // Every step-th element: pad to count·step, fold the axis into [count, step], keep column 0.
  const padded = tf.pad(cut, t.shape.map((_, i): [number, number] => [0, i === axis ? count * step - size[axis]! : 0]));
  const folded = tf.reshape(padded, [...t.shape.slice(0, axis), count, step, ...t.shape.slice(axis + 1)]);
  const first = tf.slice(folded, folded.shape.map(() => 0), folded.shape.map((d, i) => (i === axis + 1 ? 1 : d)));
  return tf.reshape(first, t.shape.map((d, i) => (i === axis ? count : d)));
}

/** Gather along an axis; negative indices count from the end. */
export function Gather(c: OpContext): Held {
  const x = c.onnx(0);
  const axis = normAxis(c.node.getInt('axis', 0), x.rank);
  const dim = x.shape[axis]!;
  if (c.dims(1).length === 0) {
    // One index: a slice, whose gradient (a pad) every backend has.
    const given = c.numbers(1)[0]!;
    const i = given < 0 ? given + dim : given;
    const begin = x.shape.map((_, k) => (k === axis ? i : 0));
    const size = x.shape.map((d, k) => (k === axis ? 1 : d));
    return held(tf.squeeze(tf.slice(x, begin, size), [axis]));
  }
  let idx = tf.cast(c.onnx(1), 'int32');
  idx = tf.where(tf.less(idx, 0), tf.add(idx, tf.scalar(dim, 'int32')), idx);
  const differentiable = x.dtype === 'float32' && c.run.kernels.customGatherGrad;
  return held(differentiable ? gatherWithGrad(x, idx, axis) : tf.gather(x, idx, axis));
}

export function Pad(c: OpContext): Held {
  const mode = c.node.getString('mode', 'constant');
  const x = axisInput(c, 0);
  const dims = c.dims(0);
  const rank = dims.length;
  const raw = c.opset >= 11 ? c.numbers(1) : c.node.getInts('pads') ?? c.fail('missing pads');
  const value = c.opset >= 11 ? c.optionalNumbers(2)?.[0] ?? 0 : c.node.getFloat('value', 0);
  const axes = (c.opset >= 18 ? c.optionalNumbers(3) : undefined)?.map((a) => normAxis(a, rank)) ?? dims.map((_, i) => i);
  const pads = dims.map((): [number, number] => [0, 0]);
  axes.forEach((a, i) => { pads[heldAxis(x, a, rank)] = [raw[i]!, raw[i + axes.length]!]; });
  if (pads.some(([b, e]) => b < 0 || e < 0)) c.fail('negative pads are not supported');
  if (mode === 'constant') return held(tf.pad(x.t, pads, value), x.nhwc);
  if (mode === 'reflect') return held(tf.mirrorPad(x.t, pads, 'reflect'), x.nhwc);
  c.fail(`pad mode '${mode}' is not supported`);
}

/** ScatterND without reduction: copies of data with the indexed slices replaced (no gradient; used on masks). */
export function ScatterND(c: OpContext): Held {
  const reduction = c.node.getString('reduction', 'none');
  if (reduction !== 'none') c.fail(`reduction '${reduction}' is not supported`);
  return held(tf.tensorScatterUpdate(c.onnx(0), tf.cast(c.onnx(1), 'int32'), c.onnx(2)));
}
