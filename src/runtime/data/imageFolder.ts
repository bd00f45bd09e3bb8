import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { fail } from '../../ir/errors.js';
import { imagesToTensor } from './preprocess.js';
import { selectIndices } from './select.js';
import { IMAGENET_MEAN, IMAGENET_STD, type Dataset, type DatasetOptions, type RawImages } from './types.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);
/** Images decoded at once: sharp decodes on libuv's thread pool, more in flight only costs memory. */
const CONCURRENCY = 8;

/** The class folders to read: `dir/<class>/...`, or `dir/<split>/<class>/...` when dir has train/ and test/ (or val/). */
export function classFolderRoot(dir: string, split: 'train' | 'test'): string {
  const subdirs = listDirs(dir);
  const names = split === 'train' ? ['train'] : ['test', 'val', 'validation'];
  if (subdirs.includes('train') && subdirs.some((d) => ['test', 'val', 'validation'].includes(d))) {
    const pick = names.find((n) => subdirs.includes(n))!;
    return join(dir, pick);
  }
  return dir;
}

export function isImageFolder(dir: string): boolean {
  return listDirs(dir).length > 0;
}

/** A labelled image folder (one sub-folder per class, sorted by name as torchvision's ImageFolder does). */
export async function loadImageFolder(dir: string, opts: DatasetOptions): Promise<Dataset> {
  const root = classFolderRoot(dir, opts.split ?? 'train');
  const classNames = listDirs(root).sort();
  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((name, label) => {
    for (const f of readdirSync(join(root, name)).sort()) {
      if (!IMAGE_EXTENSIONS.has(extname(f).toLowerCase())) continue;
      files.push(join(root, name, f));
      labels.push(label);
    }
  });
  if (files.length === 0) fail(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) in the class folders of '${root}'`);
  const keep = selectIndices(files.length, labels, opts);
  if (keep.length === 0) fail(`no samples selected from '${root}'`);
  const first = await decodeImage(files[keep[0]!]!, opts.size, opts.fit);
  const size: [number, number] = opts.size ?? [first.h, first.w];
  const decoded = [first, ...(await mapLimited(keep.slice(1), CONCURRENCY, (i) => decodeImage(files[i]!, size, opts.fit)))];
  const raw = stack(decoded, size);
  const channels = opts.channels ?? (raw.c === 1 ? 1 : 3);
  const { x, shape } = imagesToTensor(raw, {
    channels,
    layout: opts.layout,
    scale: opts.scale ?? 255,
    mean: opts.mean ?? (channels === 3 ? IMAGENET_MEAN : [0]),
    std: opts.std ?? (channels === 3 ? IMAGENET_STD : [1]),
  });
  return { x, shape, labels: Int32Array.from(keep, (i) => labels[i]!), numClasses: classNames.length, classNames };
}

interface Decoded { data: Uint8Array; h: number; w: number; c: number; path: string }

/** Decodes to 8-bit channels-last pixels, EXIF-oriented, alpha dropped, resized to `size` when given and different. */
async function decodeImage(path: string, size: [number, number] | undefined, fit: 'fill' | 'cover' = 'fill'): Promise<Decoded> {
  try {
    let img = sharp(path, { failOn: 'error' }).autoOrient().removeAlpha();
    if (size) {
      const meta = await sharp(path).autoOrient().metadata();
      if (meta.height !== size[0] || meta.width !== size[1]) img = img.resize(size[1], size[0], { fit });
    }
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, h: info.height, w: info.width, c: info.channels, path };
  } catch (e) {
    fail(`cannot decode image '${path}': ${(e as Error).message.split('\n')[0]}`);
  }
}

/** One channels-last array; grey images are widened to RGB when the folder mixes grey and colour. */
function stack(images: Decoded[], [h, w]: [number, number]): RawImages {
  const c = images.some((im) => im.c !== 1) ? 3 : 1;
  const data = new Uint8Array(images.length * h * w * c);
  images.forEach((im, k) => {
    if (im.h !== h || im.w !== w) fail(`image '${im.path}' decoded to ${im.w}x${im.h}, expected ${w}x${h}`);
    if (im.c !== 1 && im.c !== 3) fail(`image '${im.path}' has ${im.c} colour channels (CMYK?); convert it to RGB`);
    const out = data.subarray(k * h * w * c, (k + 1) * h * w * c);
    if (im.c === c) out.set(im.data);
    else for (let p = 0; p < h * w; p++) out.fill(im.data[p]!, p * 3, p * 3 + 3);
  });
  return { n: images.length, h, w, c, data };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function listDirs(dir: string): string[] {
  return readdirSync(dir).filter((d) => !d.startsWith('.') && statSync(join(dir, d)).isDirectory());
}
