import { fail } from '../../ir/errors.js';
import { imagesToTensor } from './preprocess.js';
import { selectIndices } from './select.js';
import type { Dataset, DatasetOptions, RawImages } from './types.js';

/** A numeric array read from a file, sample-major: shape [N, ...]. */
export interface SampleArray {
  shape: number[];
  data: ArrayLike<number>;
  /** 8-bit pixel data, whose default scale is 255. */
  eightBit: boolean;
}

/**
 * Samples from an in-memory array (IDX, .npy). Image-like arrays — [N, H, W] grey, [N, H, W, C] or [N, C, H, W] with
 * C = 1 or 3 — go through the image preprocessing (resize, channels, normalisation, layout); others are only scaled.
 */
export function arrayDataset(arr: SampleArray, labelData: ArrayLike<number> | undefined, opts: DatasetOptions, source: string): Dataset {
  const count = arr.shape[0] ?? 0;
  if (arr.shape.length === 0 || count === 0) fail(`'${source}' holds no samples (shape [${arr.shape.join(', ')}])`);
  const labels = labelData ? checkLabels(labelData, count, source) : undefined;
  const keep = selectIndices(count, labels, opts);
  if (keep.length === 0) fail(`no samples selected from '${source}'`);
  const per = arr.shape.slice(1).reduce((a, b) => a * b, 1);
  const scale = opts.scale ?? (arr.eightBit ? 255 : 1);
  const images = asImages(arr, keep, per);
  let x: Float32Array;
  let shape: number[];
  if (images) {
    ({ x, shape } = imagesToTensor(images, { size: opts.size, channels: opts.channels, layout: opts.layout, scale, mean: opts.mean ?? [0], std: opts.std ?? [1] }));
  } else {
    if (opts.size || opts.channels) fail(`'${source}' has samples of shape [${arr.shape.slice(1).join(', ')}], not images: it cannot be resized or given channels`);
    x = new Float32Array(keep.length * per);
    keep.forEach((i, k) => {
      for (let j = 0; j < per; j++) x[k * per + j] = arr.data[i * per + j]! / scale;
    });
    shape = [keep.length, ...arr.shape.slice(1)];
  }
  const out: Dataset = { x, shape };
  if (labels) {
    out.labels = Int32Array.from(keep, (i) => labels[i]!);
    out.numClasses = labels.reduce((m, v) => Math.max(m, v + 1), 0);
  }
  return out;
}

/** The selected samples as channels-last images, or undefined when the array does not look like images. */
function asImages(arr: SampleArray, keep: number[], per: number): RawImages | undefined {
  const s = arr.shape;
  let h: number, w: number, c: number, channelsFirst: boolean;
  if (s.length === 3) [h, w, c, channelsFirst] = [s[1]!, s[2]!, 1, false];
  else if (s.length === 4 && (s[1] === 1 || s[1] === 3)) [c, h, w, channelsFirst] = [s[1]!, s[2]!, s[3]!, true];
  else if (s.length === 4 && (s[3] === 1 || s[3] === 3)) [h, w, c, channelsFirst] = [s[1]!, s[2]!, s[3]!, false];
  else return undefined;
  const data = new Float32Array(keep.length * per);
  const plane = h * w;
  keep.forEach((i, k) => {
    const src = i * per;
    const dst = k * per;
    if (!channelsFirst) for (let j = 0; j < per; j++) data[dst + j] = arr.data[src + j]!;
    else for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) data[dst + p * c + ch] = arr.data[src + ch * plane + p]!;
  });
  return { n: keep.length, h, w, c, data };
}

function checkLabels(data: ArrayLike<number>, count: number, source: string): Int32Array {
  if (data.length !== count) fail(`'${source}': ${data.length} labels for ${count} samples`);
  const labels = Int32Array.from(data);
  for (let i = 0; i < count; i++) {
    if (labels[i] !== data[i] || labels[i]! < 0) fail(`'${source}': label ${data[i]} at sample ${i} is not a class index (a non-negative integer)`);
  }
  return labels;
}
