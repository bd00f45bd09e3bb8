import * as tf from '@tensorflow/tfjs-core';
import { gatherWithGrad } from '../gatherGradient.js';
import { heldAxis, held, type Held } from '../held.js';
import type { OpContext } from '../opContext.js';

/**
 * Resize (nearest and linear) as gathers along each resized axis, with the source positions and weights computed
 * here by ONNX's formulas — exact for every coordinate transformation mode, and differentiable.
 */
export function Resize(c: OpContext): Held {
  const x = c.input(0);
  const dims = c.dims(0);
  const mode = c.node.getString('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') c.fail(`mode '${mode}' is not supported (nearest and linear are)`);
  const { sizes, scales } = outputGeometry(c, dims);
  let t = x.t;
  dims.forEach((size, axis) => {
    if (sizes[axis] === size && scales[axis] === 1) return;
    const src = sizes[axis]!;
    const coords = Array.from({ length: src }, (_, i) => sourceCoordinate(c, i, size, src, scales[axis]!));
    const at = heldAxis(x, axis, dims.length);
    t = mode === 'nearest' ? nearest(c, t, at, coords, size) : linear(c, t, at, coords, size);
  });
  return held(t, x.nhwc);
}

/** Output sizes, and the scales the coordinate transformation uses (out / in when sizes were given). */
function outputGeometry(c: OpContext, dims: number[]): { sizes: number[]; scales: number[] } {
  const scalesIn = c.opset >= 11 ? 2 : 1;
  const given = c.optionalNumbers(scalesIn);
  const sizesGiven = c.opset >= 11 ? c.optionalNumbers(3) : undefined;
  if (c.node.getInts('axes')) c.fail('the axes attribute is not supported');
  if (sizesGiven && sizesGiven.length > 0) return { sizes: sizesGiven, scales: sizesGiven.map((s, i) => s / dims[i]!) };
  if (!given || given.length !== dims.length) c.fail('needs scales or sizes for every axis');
  return { sizes: dims.map((d, i) => Math.floor(d * given[i]!)), scales: given };
}

function sourceCoordinate(c: OpContext, x: number, inSize: number, outSize: number, scale: number): number {
  const mode = c.node.getString('coordinate_transformation_mode', c.opset >= 11 ? 'half_pixel' : 'asymmetric');
  switch (mode) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outSize > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outSize === 1 ? 0 : (x * (inSize - 1)) / (outSize - 1);
    case 'asymmetric': return x / scale;
    default: c.fail(`coordinate_transformation_mode '${mode}' is not supported`);
  }
}

function nearest(c: OpContext, t: tf.Tensor, axis: number, coords: number[], inSize: number): tf.Tensor {
  const rule = c.node.getString('nearest_mode', 'round_prefer_floor');
  const round = rule === 'floor' ? Math.floor : rule === 'ceil' ? Math.ceil
    : rule === 'round_prefer_ceil' ? (v: number) => Math.floor(v + 0.5) : (v: number) => Math.ceil(v - 0.5);
  const idx = coords.map((v) => Math.min(inSize - 1, Math.max(0, round(v))));
  return gatherAxis(c, t, axis, idx);
}

/** Linear interpolation between the two neighbours of each (clamped) source position. */
function linear(c: OpContext, t: tf.Tensor, axis: number, coords: number[], inSize: number): tf.Tensor {
  const pos = coords.map((v) => Math.min(inSize - 1, Math.max(0, v)));
  const lo = pos.map(Math.floor);
  const hi = lo.map((i) => Math.min(inSize - 1, i + 1));
  const shape = t.shape.map((_, i) => (i === axis ? pos.length : 1));
  const w = tf.tensor(pos.map((p, i) => p - lo[i]!), shape);
  const a = gatherAxis(c, t, axis, lo);
  const b = gatherAxis(c, t, axis, hi);
  return tf.add(a, tf.mul(tf.sub(b, a), w));
}

function gatherAxis(c: OpContext, t: tf.Tensor, axis: number, idx: number[]): tf.Tensor {
  const indices = tf.tensor1d(idx, 'int32');
  return t.dtype === 'float32' && c.run.kernels.customGatherGrad ? gatherWithGrad(t, indices, axis) : tf.gather(t, indices, axis);
}
