import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../../ir/errors.js';
import { arrayDataset } from './arrays.js';
import { readIdx } from './idx.js';
import { isImageFolder, loadImageFolder } from './imageFolder.js';
import { readNpy } from './npy.js';
import type { Dataset, DatasetOptions } from './types.js';

/**
 * Loads samples from a labelled image folder (one sub-folder per class), a folder of IDX files (MNIST layout,
 * gzipped or not), an IDX images file (labels found beside it) or a .npy array (labels from `<name>_labels.npy`).
 */
export async function loadDataset(source: string, opts: DatasetOptions = {}): Promise<Dataset> {
  checkOptions(opts);
  let st;
  try {
    st = statSync(source);
  } catch {
    fail(`data source '${source}' does not exist`);
  }
  if (st.isDirectory()) {
    const idx = idxImagesIn(source, opts.split ?? 'train');
    if (idx) return loadIdx(idx, opts);
    if (isImageFolder(source)) return loadImageFolder(source, opts);
    fail(`'${source}' holds neither IDX files nor class sub-folders of images`);
  }
  if (source.toLowerCase().endsWith('.npy')) return loadNpy(source, opts);
  if (/idx\d/i.test(basename(source))) return loadIdx(source, opts);
  fail(`'${source}': unrecognised data file (expected a .npy array, an IDX file or a folder)`);
}

function loadIdx(imagesPath: string, opts: DatasetOptions): Dataset {
  const images = readIdx(imagesPath);
  const labelsPath = idxLabelsFor(imagesPath);
  const labels = labelsPath ? readIdx(labelsPath).data : undefined;
  return arrayDataset({ shape: images.dims, data: images.data, eightBit: images.data instanceof Uint8Array }, labels, opts, imagesPath);
}

function loadNpy(path: string, opts: DatasetOptions): Dataset {
  const arr = readNpy(path);
  const sibling = path.replace(/\.npy$/i, '_labels.npy');
  const labelsPath = opts.labels ?? (existsSync(sibling) ? sibling : undefined);
  let labels: ArrayLike<number> | undefined;
  if (labelsPath) {
    const l = readNpy(labelsPath);
    if (l.data instanceof Float32Array || l.data instanceof Float64Array) fail(`'${labelsPath}': labels must be an integer array, not ${l.dtype}`);
    labels = l.data;
  }
  return arrayDataset({ shape: arr.shape, data: arr.data, eightBit: arr.dtype === 'u1' }, labels, opts, path);
}

/** The images file of the split in an IDX folder: train-images-idx3-ubyte[.gz], or t10k-/test- for the test split. */
function idxImagesIn(dir: string, split: 'train' | 'test'): string | undefined {
  const files = readdirSync(dir).filter((f) => /images?[-._]idx3/i.test(f));
  if (files.length === 0) return undefined;
  const prefix = split === 'train' ? /^train/i : /^(t10k|test)/i;
  const pick = files.filter((f) => prefix.test(f)).sort()[0];
  if (!pick) fail(`'${dir}' has IDX files but none for the ${split} split (${files.join(', ')})`);
  return join(dir, pick);
}

/** train-images-idx3-ubyte.gz → train-labels-idx1-ubyte(.gz), whichever exists. */
function idxLabelsFor(imagesPath: string): string | undefined {
  const name = basename(imagesPath).replace(/images/i, 'labels').replace(/idx3/i, 'idx1').replace(/\.gz$/i, '');
  return [name, `${name}.gz`].map((n) => join(dirname(imagesPath), n)).find((p) => p !== imagesPath && existsSync(p));
}

function checkOptions(opts: DatasetOptions): void {
  const positive = (v: number | undefined, what: string): void => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) fail(`${what} must be a positive integer, got ${v}`);
  };
  positive(opts.limit, 'limit');
  positive(opts.perClass, 'per-class');
  opts.size?.forEach((d) => positive(d, 'size'));
  if (opts.scale !== undefined && !(opts.scale > 0)) fail(`scale must be positive, got ${opts.scale}`);
  if (opts.channels !== undefined && opts.channels !== 1 && opts.channels !== 3) fail(`channels must be 1 or 3, got ${opts.channels}`);
}
