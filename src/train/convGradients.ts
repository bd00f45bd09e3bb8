import * as tf from '@tensorflow/tfjs-core';

/**
 * 2-D convolutions (NHWC) whose gradients need no backprop-filter kernel. The wasm backend has
 * `Conv2DBackpropInput` but not `Conv2DBackpropFilter` nor `DepthwiseConv2dNativeBackprop*`, so tfjs's own
 * gradients throw there; these compute the filter gradient as one matMul (or product-sum) per kernel tap between
 * the shifted, strided input slice and dy, and the input gradient by a transposed convolution. They also handle
 * dilations, which tfjs's built-in conv gradients refuse.
 */

export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  /** Explicit zero padding [top, bottom, left, right]. */
  pads: [number, number, number, number];
}

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/** Forward convolution with tfjs's own gradients (used where the backend has every kernel they need). */
export function conv2dBuiltin(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [wd, dil] = stridedDilation(w, g);
  return tf.conv2d(x, wd, g.strides, explicit(g.pads), 'NHWC', dil);
}

export function depthwiseConv2dBuiltin(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [wd, dil] = stridedDilation(w, g);
  return tf.depthwiseConv2d(x, wd, g.strides, explicit(g.pads), 'NHWC', dil);
}

/** tfjs refuses strides and dilations both above 1: then the kernel is spread out with zeros instead. */
function stridedDilation(w: tf.Tensor4D, g: ConvGeometry): [tf.Tensor4D, [number, number]] {
  const strided = g.strides[0] > 1 || g.strides[1] > 1;
  const dilated = g.dilations[0] > 1 || g.dilations[1] > 1;
  return strided && dilated ? [dilateKernel(w, g.dilations), [1, 1]] : [w, g.dilations];
}

type Conv4D = (x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry) => tf.Tensor4D;
type ConvGrad = (dy: tf.Tensor4D, other: tf.Tensor4D, shape: [number, number, number, number], g: ConvGeometry) => tf.Tensor4D;

/** A convolution whose gradient is computed by our own input- and filter-gradient functions (wasm has neither). */
function withCustomGrad(forward: Conv4D, inputGrad: ConvGrad, filterGrad: ConvGrad): Conv4D {
  return (x, w, g) => {
    const op = tf.customGrad((xIn, wIn, save) => {
      const xs = xIn as tf.Tensor4D;
      const ws = wIn as tf.Tensor4D;
      (save as tf.GradSaveFunc)([xs, ws]);
      return {
        value: forward(xs, ws, g),
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
          const [xSaved, wSaved] = saved as [tf.Tensor4D, tf.Tensor4D];
          return [inputGrad(dy, wSaved, xSaved.shape, g), filterGrad(dy, xSaved, wSaved.shape, g)];
        },
      };
    });
    return op(x, w) as tf.Tensor4D;
  };
}

/** conv2d(x [N,H,W,Ci], w [kh,kw,Ci,Co]) with the custom gradient. */
export const conv2dCustomGrad: Conv4D = withCustomGrad(conv2dBuiltin, conv2dInputGrad, conv2dFilterGrad);

/** depthwiseConv2d(x [N,H,W,C], w [kh,kw,C,mult]) with the custom gradient. */
export const depthwiseConv2dCustomGrad: Conv4D = withCustomGrad(depthwiseConv2dBuiltin, depthwiseInputGrad, depthwiseFilterGrad);

/** dL/dx: a transposed convolution of dy over the padded input, with the pad rows cut off again. */
function conv2dInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: number[], g: ConvGeometry): tf.Tensor4D {
  const padded = paddedShape(xShape, g.pads);
  const dxp = tf.conv2dTranspose(dy, dilateKernel(w, g.dilations), padded, g.strides, 'valid');
  return cropPads(dxp, xShape, g.pads);
}

/** dL/dw[tap] = slice(x, tap)ᵀ · dy over all N·Ho·Wo positions, one [Ci, Co] matMul per kernel tap. */
function conv2dFilterGrad(dy: tf.Tensor4D, x: tf.Tensor4D, wShape: number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, ci, co] = wShape as [number, number, number, number];
  const xp = padSpatial(x, g.pads);
  const m = dy.shape[0] * dy.shape[1] * dy.shape[2];
  const dy2 = tf.reshape(dy, [m, co]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const slice = tapSlice(xp, i, j, dy.shape, g);
      taps.push(tf.matMul(tf.reshape(slice, [m, ci]), dy2, true, false));
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, ci, co]);
}

/**
 * dL/dx of a depthwise convolution: a depthwise convolution of the zero-upsampled, fully padded dy with the flipped
 * filter (each of the C·mult output channels back onto its input channel), summed over the multiplier.
 */
function depthwiseInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, c, mult] = w.shape;
  const [hp, wp] = paddedShape(xShape, g.pads).slice(1, 3) as [number, number];
  const effH = (kh - 1) * g.dilations[0] + 1;
  const effW = (kw - 1) * g.dilations[1] + 1;
  const up = upsampleZeros(dy, g.strides);
  const full = tf.pad(up, [[0, 0], [effH - 1, hp - up.shape[1]], [effW - 1, wp - up.shape[2]], [0, 0]]);
  const flipped = tf.reshape(tf.reverse(w, [0, 1]), [kh, kw, c * mult, 1]) as tf.Tensor4D;
  const perChannel = tf.depthwiseConv2d(full, flipped, 1, 'valid', 'NHWC', g.dilations);
  const dxp = mult === 1 ? perChannel : tf.sum(tf.reshape(perChannel, [xShape[0]!, hp, wp, c, mult]), 4);
  return cropPads(dxp as tf.Tensor4D, xShape, g.pads);
}

/** dL/dw[tap, c, m] = Σ slice(x, tap)[·, c] · dy[·, c·mult + m]. */
function depthwiseFilterGrad(dy: tf.Tensor4D, x: tf.Tensor4D, wShape: number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, c, mult] = wShape as [number, number, number, number];
  const xp = padSpatial(x, g.pads);
  const m = dy.shape[0] * dy.shape[1] * dy.shape[2];
  const dy3 = tf.reshape(dy, [m, c, mult]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const slice = tf.reshape(tapSlice(xp, i, j, dy.shape, g), [m, c, 1]);
      taps.push(tf.sum(tf.mul(slice, dy3), 0));
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, c, mult]);
}

/** The input positions kernel tap (i, j) reads for every output position: [N, Ho, Wo, C]. */
function tapSlice(xp: tf.Tensor4D, i: number, j: number, dyShape: number[], g: ConvGeometry): tf.Tensor4D {
  const [n, ho, wo] = dyShape as [number, number, number];
  const top = i * g.dilations[0];
  const left = j * g.dilations[1];
  const c = xp.shape[3];
  if (g.strides[0] === 1 && g.strides[1] === 1) return tf.slice(xp, [0, top, left, 0], [n, ho, wo, c]);
  const end = [n, top + g.strides[0] * (ho - 1) + 1, left + g.strides[1] * (wo - 1) + 1, c];
  return tf.stridedSlice(xp, [0, top, left, 0], end, [1, g.strides[0], g.strides[1], 1]) as tf.Tensor4D;
}

/** Inserts zeros between kernel taps so a dilated kernel becomes a dense one. */
function dilateKernel(w: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  if (dh === 1 && dw === 1) return w;
  const [kh, kw, ci, co] = w.shape;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, ci, co]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, ci, co]) as tf.Tensor4D, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]);
}

/** Inserts (stride - 1) zeros between rows and between columns: [N,H,W,C] → [N,(H-1)·sh+1,(W-1)·sw+1,C]. */
export function upsampleZeros(t: tf.Tensor4D, [sh, sw]: [number, number]): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  const spread = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.slice(tf.reshape(spread, [n, h * sh, w * sw, c]) as tf.Tensor4D, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

function padSpatial(x: tf.Tensor4D, [t, b, l, r]: ConvGeometry['pads']): tf.Tensor4D {
  return t || b || l || r ? tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]) : x;
}

function cropPads(xp: tf.Tensor4D, xShape: number[], [t, , l]: ConvGeometry['pads']): tf.Tensor4D {
  if (xp.shape[1] === xShape[1] && xp.shape[2] === xShape[2]) return xp;
  return tf.slice(xp, [0, t, l, 0], xShape);
}

function paddedShape(xShape: number[], [t, b, l, r]: ConvGeometry['pads']): [number, number, number, number] {
  return [xShape[0]!, xShape[1]! + t + b, xShape[2]! + l + r, xShape[3]!];
}

function explicit([t, b, l, r]: ConvGeometry['pads']): ExplicitPadding {
  return [[0, 0], [t, b], [l, r], [0, 0]];
}
