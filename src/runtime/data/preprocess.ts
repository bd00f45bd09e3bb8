import { fail } from '../../ir/errors.js';
import type { RawImages } from './types.js';

export interface ImageTransform {
  size?: [number, number];
  channels?: 1 | 3;
  layout?: 'nchw' | 'nhwc';
  scale: number;
  mean: number[];
  std: number[];
}

/** ITU-R 601 luma weights (what PIL's convert('L') and most decoders use for colour → grey). */
const LUMA = [0.299, 0.587, 0.114];

/**
 * Turns raw images into a model tensor: bilinear resize, channel conversion, x / scale, (x - mean) / std per channel,
 * then the requested layout. Returns the data and its shape.
 */
export function imagesToTensor(images: RawImages, t: ImageTransform): { x: Float32Array; shape: number[] } {
  const [oh, ow] = t.size ?? [images.h, images.w];
  const oc = t.channels ?? (images.c === 1 ? 1 : 3);
  if (images.c !== 1 && images.c !== 3) fail(`images have ${images.c} channels; only grey (1) and RGB (3) are supported`);
  const mean = perChannel(t.mean, oc, 'mean');
  const std = perChannel(t.std, oc, 'std');
  if (std.some((s) => s === 0)) fail('--std values must not be 0');
  const nchw = (t.layout ?? 'nchw') === 'nchw';
  const plane = oh * ow;
  const x = new Float32Array(images.n * oc * plane);
  const pixel = new Float32Array(images.c);
  for (let i = 0; i < images.n; i++) {
    const src = images.data.subarray(i * images.h * images.w * images.c, (i + 1) * images.h * images.w * images.c);
    const resized = oh === images.h && ow === images.w ? src : resizeBilinear(src, images.h, images.w, images.c, oh, ow);
    const base = i * oc * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < images.c; c++) pixel[c] = resized[p * images.c + c]!;
      for (let c = 0; c < oc; c++) {
        const raw = oc === images.c ? pixel[c]! : oc === 3 ? pixel[0]! : LUMA[0]! * pixel[0]! + LUMA[1]! * pixel[1]! + LUMA[2]! * pixel[2]!;
        const v = (raw / t.scale - mean[c]!) / std[c]!;
        x[nchw ? base + c * plane + p : base + p * oc + c] = v;
      }
    }
  }
  return { x, shape: nchw ? [images.n, oc, oh, ow] : [images.n, oh, ow, oc] };
}

function perChannel(values: number[], c: number, what: string): number[] {
  if (values.length === c) return values;
  if (values.length === 1) return Array(c).fill(values[0]);
  fail(`--${what} has ${values.length} values but the images have ${c} channels`);
}

/**
 * Bilinear resize of one channels-last image with half-pixel centres (align_corners=False, no antialiasing), as
 * torch.nn.functional.interpolate(mode='bilinear') computes it.
 */
export function resizeBilinear(src: ArrayLike<number>, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(oh * ow * c);
  const ys = axisWeights(h, oh);
  const xs = axisWeights(w, ow);
  for (let y = 0; y < oh; y++) {
    const [y0, y1, fy] = ys[y]!;
    for (let x = 0; x < ow; x++) {
      const [x0, x1, fx] = xs[x]!;
      for (let k = 0; k < c; k++) {
        const top = src[(y0 * w + x0) * c + k]! * (1 - fx) + src[(y0 * w + x1) * c + k]! * fx;
        const bottom = src[(y1 * w + x0) * c + k]! * (1 - fx) + src[(y1 * w + x1) * c + k]! * fx;
        out[(y * ow + x) * c + k] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/** For each output coordinate: the two source coordinates and the weight of the second. */
function axisWeights(n: number, on: number): [number, number, number][] {
  return Array.from({ length: on }, (_, i) => {
    const s = Math.max(0, (i + 0.5) * (n / on) - 0.5);
    const i0 = Math.min(Math.floor(s), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    return [i0, i1, s - i0];
  });
}
