/** Samples ready to feed a model: one float tensor, with labels when the source has them. */
export interface Dataset {
  x: Float32Array;
  /** [N, ...sample dims]; images are [N, C, H, W] (or [N, H, W, C] with layout 'nhwc'). */
  shape: number[];
  labels?: Int32Array;
  numClasses?: number;
  /** Class folder names, index = label (image folders only). */
  classNames?: string[];
}

export interface DatasetOptions {
  /** At most this many samples: the first ones, or a seeded random choice when `seed` is given. */
  limit?: number;
  /** At most this many samples of each class (first ones, or seeded random ones). */
  perClass?: number;
  seed?: number;
  /** Resize images to [height, width]. Default: image folders take the first image's size; arrays keep theirs. */
  size?: [number, number];
  /** How a folder image is fitted to `size`: stretched ('fill', default) or scaled and centre-cropped ('cover'). */
  fit?: 'fill' | 'cover';
  /** Grey images are repeated to 3 channels, colour ones weighted to 1 (ITU-R 601 luma). Default: as stored. */
  channels?: 1 | 3;
  /** Layout of image tensors. Default 'nchw'. */
  layout?: 'nchw' | 'nhwc';
  /** Per-channel normalisation after scaling: (x / scale - mean) / std. Default: ImageNet for 3-channel folder images, none otherwise. */
  mean?: number[];
  std?: number[];
  /** Raw values are divided by this. Default 255 for 8-bit data (images, IDX, uint8 arrays), 1 for other arrays. */
  scale?: number;
  /** Which part of an IDX folder (train-* or t10k-* / test-* files) or of a folder with train/ and test/. Default 'train'. */
  split?: 'train' | 'test';
  /** Labels file for a .npy source (default: `<name>_labels.npy` beside it, when present). */
  labels?: string;
}

/** Images before preprocessing: N same-sized images, channels last, raw values (0..255 for 8-bit sources). */
export interface RawImages {
  n: number;
  h: number;
  w: number;
  c: number;
  data: Uint8Array | Float32Array;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
