import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTrainingBackend } from '../../src/train/backend.js';
import {
  conv2dBuiltin, conv2dCustomGrad, depthwiseConv2dBuiltin, depthwiseConv2dCustomGrad, type ConvGeometry,
} from '../../src/train/convGradients.js';
import { gatherWithGrad } from '../../src/train/gatherGradient.js';
import { matMulWithGrad } from '../../src/train/matMulGradient.js';
import { seededNormal } from '../support/index.js';

/**
 * The custom conv gradients (needed on wasm) against tfjs's built-in ones on the cpu backend. tfjs refuses
 * gradients of dilated convolutions, so for those the oracle is the built-in gradient of the equivalent dense
 * convolution whose kernel has zeros between the taps.
 */
interface Case { name: string; x: number[]; w: number[]; g: ConvGeometry }

const geo = (s: [number, number], d: [number, number], p: [number, number, number, number]): ConvGeometry => ({ strides: s, dilations: d, pads: p });

const convCases: Case[] = [
  { name: '3x3 same', x: [2, 7, 6, 3], w: [3, 3, 3, 4], g: geo([1, 1], [1, 1], [1, 1, 1, 1]) },
  { name: 'stride 2, asymmetric pads', x: [2, 9, 8, 3], w: [3, 3, 3, 5], g: geo([2, 2], [1, 1], [0, 1, 1, 0]) },
  { name: 'stride 2 with leftover rows', x: [1, 8, 7, 2], w: [3, 2, 2, 3], g: geo([2, 3], [1, 1], [1, 0, 0, 0]) },
  { name: '1x1', x: [3, 5, 5, 6], w: [1, 1, 6, 4], g: geo([1, 1], [1, 1], [0, 0, 0, 0]) },
  { name: 'dilation 2', x: [2, 9, 9, 3], w: [3, 3, 3, 4], g: geo([1, 1], [2, 2], [2, 2, 2, 2]) },
  { name: 'dilation 2 stride 2', x: [1, 11, 10, 2], w: [3, 3, 2, 3], g: geo([2, 2], [2, 1], [1, 2, 0, 1]) },
];

const depthwiseCases: Case[] = [
  { name: '3x3 same', x: [2, 7, 6, 4], w: [3, 3, 4, 1], g: geo([1, 1], [1, 1], [1, 1, 1, 1]) },
  { name: 'stride 2, asymmetric pads', x: [2, 9, 8, 3], w: [3, 3, 3, 1], g: geo([2, 2], [1, 1], [0, 1, 1, 0]) },
  { name: 'multiplier 2, 5x5', x: [1, 8, 8, 3], w: [5, 5, 3, 2], g: geo([1, 1], [1, 1], [2, 2, 2, 2]) },
  { name: 'multiplier 3, stride 2, leftover', x: [2, 8, 9, 2], w: [3, 3, 2, 3], g: geo([2, 2], [1, 1], [1, 0, 1, 0]) },
  { name: 'dilation 2', x: [1, 9, 9, 3], w: [3, 3, 3, 2], g: geo([1, 1], [2, 2], [2, 2, 2, 2]) },
  { name: 'dilation 2 stride 2', x: [1, 10, 9, 2], w: [3, 3, 2, 1], g: geo([2, 2], [2, 2], [1, 1, 0, 2]) },
];

type ConvFn = (x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry) => tf.Tensor4D;

/** dL/dx and dL/dw of L = Σ conv(x, w) · r for a fixed random r (so every output position matters). */
function grads(fn: ConvFn, c: Case): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(seededNormal(c.x, 1), c.x as [number, number, number, number]);
    const w = tf.tensor4d(seededNormal(c.w, 2), c.w as [number, number, number, number]);
    const y = fn(x, w, c.g);
    const r = tf.tensor(seededNormal(y.shape, 3), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a as tf.Tensor4D, b as tf.Tensor4D, c.g), r)))([x, w]);
    return { y: y.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

/** The oracle: tfjs's built-in gradient, through a zero-filled dense kernel when the conv is dilated. */
function oracle(builtin: ConvFn, c: Case): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
  const [dh, dw] = c.g.dilations;
  if (dh === 1 && dw === 1) return grads(builtin, c);
  const [kh, kw, ci, co] = c.w;
  const denseShape = [(kh! - 1) * dh + 1, (kw! - 1) * dw + 1, ci!, co!];
  const w = seededNormal(c.w, 2);
  const dense = new Float32Array(denseShape.reduce((a, b) => a * b));
  const at = (i: number, j: number, k: number, l: number, s: number[]): number => ((i * s[1]! + j) * s[2]! + k) * s[3]! + l;
  for (let i = 0; i < kh!; i++) for (let j = 0; j < kw!; j++) for (let k = 0; k < ci!; k++) for (let l = 0; l < co!; l++)
    dense[at(i * dh, j * dw, k, l, denseShape)] = w[at(i, j, k, l, c.w)]!;
  const res = tf.tidy(() => {
    const x = tf.tensor4d(seededNormal(c.x, 1), c.x as [number, number, number, number]);
    const wd = tf.tensor4d(dense, denseShape as [number, number, number, number]);
    const g: ConvGeometry = { ...c.g, dilations: [1, 1] };
    const y = builtin(x, wd, g);
    const r = tf.tensor(seededNormal(y.shape, 3), y.shape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(builtin(a as tf.Tensor4D, b as tf.Tensor4D, g), r)))([x, wd]);
    return { y: y.dataSync() as Float32Array, dx: gx!.dataSync() as Float32Array, dwDense: gw!.dataSync() as Float32Array };
  });
  const dwOut = new Float32Array(w.length);
  for (let i = 0; i < kh!; i++) for (let j = 0; j < kw!; j++) for (let k = 0; k < ci!; k++) for (let l = 0; l < co!; l++)
    dwOut[at(i, j, k, l, c.w)] = res.dwDense[at(i * dh, j * dw, k, l, denseShape)]!;
  return { y: res.y, dx: res.dx, dw: dwOut };
}

function expectClose(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  const scale = Math.max(1, ...Array.from(b, Math.abs));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst / scale, what).toBeLessThan(1e-5);
}

describe('custom conv gradients match tfjs built-in gradients', () => {
  const expected = new Map<string, ReturnType<typeof grads>>();
  beforeAll(async () => {
    await initTrainingBackend('cpu');
    for (const c of convCases) expected.set(`conv ${c.name}`, oracle(conv2dBuiltin, c));
    for (const c of depthwiseCases) expected.set(`depthwise ${c.name}`, oracle(depthwiseConv2dBuiltin, c));
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(`on ${backend}`, () => {
      beforeAll(async () => { await initTrainingBackend(backend); });
      for (const c of convCases) {
        it(`conv2d ${c.name}`, () => {
          const got = grads(conv2dCustomGrad, c);
          const want = expected.get(`conv ${c.name}`)!;
          expectClose(got.y, want.y, 'forward');
          expectClose(got.dx, want.dx, 'dx');
          expectClose(got.dw, want.dw, 'dw');
        });
      }
      for (const c of depthwiseCases) {
        it(`depthwise ${c.name}`, () => {
          const got = grads(depthwiseConv2dCustomGrad, c);
          const want = expected.get(`depthwise ${c.name}`)!;
          expectClose(got.y, want.y, 'forward');
          expectClose(got.dx, want.dx, 'dx');
          expectClose(got.dw, want.dw, 'dw');
        });
      }
    });
  }
});

describe('custom gather gradient matches tfjs built-in gather gradient', () => {
  const cases = [
    { name: 'embedding rows, repeated ids', x: [7, 5], idx: [[3, 1, 3], [0, 6, 3]], axis: 0 },
    { name: 'middle axis', x: [2, 6, 3], idx: [5, 0, 5, 2], axis: 1 },
    { name: 'last axis, scalar-like', x: [3, 4], idx: [2], axis: 1 },
  ];
  const run = (fn: (x: tf.Tensor, i: tf.Tensor, axis: number) => tf.Tensor, c: (typeof cases)[number]): Float32Array => tf.tidy(() => {
    const x = tf.tensor(seededNormal(c.x, 4), c.x);
    const idx = tf.tensor(c.idx.flat(), [c.idx.length, ...(Array.isArray(c.idx[0]) ? [(c.idx[0] as number[]).length] : [])].slice(0, Array.isArray(c.idx[0]) ? 2 : 1), 'int32');
    const y = fn(x, idx, c.axis);
    const r = tf.tensor(seededNormal(y.shape, 5), y.shape);
    return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fn(a, idx, c.axis), r)))(x).dataSync() as Float32Array;
  });
  for (const c of cases) {
    it(c.name, async () => {
      await initTrainingBackend('cpu');
      const want = run((x, i, a) => tf.gather(x, i, a), c);
      for (const backend of ['cpu', 'wasm'] as const) {
        await initTrainingBackend(backend);
        expectClose(run(gatherWithGrad, c), want, `${backend} dx`);
      }
    });
  }
});

describe('2-D product with explicitly transposing gradients matches tfjs built-in matMul gradient', () => {
  it.each([[[5, 7], [7, 3]], [[1, 4], [4, 6]], [[9, 2], [2, 1]]])('%j · %j', async (a, b) => {
    const run = (fn: (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D): Float32Array[] => tf.tidy(() => {
      const x = tf.tensor2d(seededNormal(a, 6), a as [number, number]);
      const w = tf.tensor2d(seededNormal(b, 7), b as [number, number]);
      const r = tf.tensor(seededNormal([a[0]!, b[1]!], 8), [a[0]!, b[1]!]);
      const [dx, dw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(fn(p as tf.Tensor2D, q as tf.Tensor2D), r)))([x, w]);
      return [fn(x, w).dataSync() as Float32Array, dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
    });
    await initTrainingBackend('cpu');
    const want = run((x, w) => tf.matMul(x, w));
    for (const backend of ['cpu', 'wasm'] as const) {
      await initTrainingBackend(backend);
      run(matMulWithGrad).forEach((got, i) => expectClose(got, want[i]!, `${backend} ${['y', 'dx', 'dw'][i]}`));
    }
  });
});
