import type { OpContext } from '../opContext.js';

/**
 * Window geometry shared by Conv, ConvTranspose and the pools, for 1-D and 2-D ops. 1-D ops run as 2-D ops over
 * a height of 1, so every list here has two entries (height, width).
 */
export interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** Padding before and after each spatial axis: [top, bottom, left, right]. */
  pads: [number, number, number, number];
}

/** Reads kernel_shape / strides / dilations / pads / auto_pad for an op over `spatialIn` ([H, W] or [L]). */
export function readWindow(c: OpContext, spatialIn: number[], kernel: number[]): Window {
  const n = spatialIn.length;
  if (n !== 1 && n !== 2) c.fail(`${n}-D windows are not supported (1-D and 2-D are)`);
  const strides = c.node.getInts('strides') ?? new Array<number>(n).fill(1);
  const dilations = c.node.getInts('dilations') ?? new Array<number>(n).fill(1);
  const autoPad = c.node.getString('auto_pad', 'NOTSET');
  let begin: number[];
  let end: number[];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = spatialIn.map((size, i) => {
      const out = Math.ceil(size / strides[i]!);
      return Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size);
    });
    const small = total.map((t) => Math.floor(t / 2));
    begin = autoPad === 'SAME_UPPER' ? small : total.map((t, i) => t - small[i]!);
    end = total.map((t, i) => t - begin[i]!);
  } else if (autoPad === 'VALID') {
    begin = end = new Array<number>(n).fill(0);
  } else {
    const pads = c.node.getInts('pads') ?? new Array<number>(2 * n).fill(0);
    begin = pads.slice(0, n);
    end = pads.slice(n);
  }
  const two = (xs: number[], fill: number): [number, number] => (n === 1 ? [fill, xs[0]!] : [xs[0]!, xs[1]!]);
  const [t, l] = two(begin, 0);
  const [b, r] = two(end, 0);
  return { kernel: two(kernel, 1), strides: two(strides, 1), dilations: two(dilations, 1), pads: [t, b, l, r] };
}
