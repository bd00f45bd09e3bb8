import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGENET_MEAN, IMAGENET_STD, loadDataset, shuffledSplit, subset } from '../../src/runtime/data/index.js';
import { describeWith, runPython, tempDir } from '../support/index.js';

interface ImageCases { png: number[]; jpeg: number[]; grey: number[] }

const dir = tempDir('images');
/** The image folder image_cases.py writes with PIL. */
const root = join(dir, 'root');
let want: ImageCases;
const H = 5;
const W = 6;
const N = H * W;

/** Raw pixels of one NHWC image of the dataset. */
function image(x: Float32Array, i: number, c = 3): number[] {
  return Array.from(x.subarray(i * N * c, (i + 1) * N * c));
}

describeWith(['numpy', 'PIL'], 'against images PIL wrote', () => {
  beforeAll(() => {
    want = runPython<ImageCases>('image_cases.py', [root]);
  });

  describe('image folder loader against pixels PIL wrote and decodes', () => {
    it('decodes PNG exactly, JPEG within a few levels of PIL, widens grey to RGB in a mixed folder', async () => {
      const ds = await loadDataset(root, { layout: 'nhwc', scale: 1, mean: [0], std: [1] });
      expect(ds.shape).toEqual([3, H, W, 3]);
      expect(ds.classNames).toEqual(['a', 'b']);
      expect(Array.from(ds.labels!)).toEqual([0, 0, 1]);
      expect(image(ds.x, 0)).toEqual(want.png);
      const jpegError = image(ds.x, 1).reduce((m, v, i) => Math.max(m, Math.abs(v - want.jpeg[i]!)), 0);
      expect(jpegError).toBeLessThanOrEqual(3);
      expect(image(ds.x, 2)).toEqual(want.grey.flatMap((g) => [g, g, g]));
    });

    it('normalises colour images with ImageNet mean and std by default, in NCHW', async () => {
      const ds = await loadDataset(root, { limit: 1 });
      expect(ds.shape).toEqual([1, 3, H, W]);
      for (const c of [0, 1, 2]) {
        const p = 13;
        expect(ds.x[c * N + p]).toBeCloseTo((want.png[p * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!, 5);
      }
    });

    it('converts colour to grey with ITU-R 601 weights', async () => {
      const ds = await loadDataset(root, { channels: 1, scale: 1, limit: 1 });
      expect(ds.shape).toEqual([1, 1, H, W]);
      const luma = Array.from({ length: N }, (_, p) => 0.299 * want.png[3 * p]! + 0.587 * want.png[3 * p + 1]! + 0.114 * want.png[3 * p + 2]!);
      Array.from(ds.x).forEach((v, p) => expect(v).toBeCloseTo(luma[p]!, 3));
    });

    it('resizes to the requested size, stretched or centre-cropped', async () => {
      const fill = await loadDataset(root, { size: [10, 12] });
      expect(fill.shape).toEqual([3, 3, 10, 12]);
      const cover = await loadDataset(root, { size: [8, 8], fit: 'cover', perClass: 1 });
      expect(cover.shape).toEqual([2, 3, 8, 8]);
      expect(Array.from(cover.labels!)).toEqual([0, 1]);
    });

    it('picks the split folder when the root has train/ and test/', async () => {
      const split = join(dir, 'split');
      for (const part of ['train', 'test']) mkdirSync(`${split}/${part}`, { recursive: true });
      runPython('image_cases.py', [`${split}/train`]);
      runPython('image_cases.py', [`${split}/test`]);
      mkdirSync(`${split}/test/c`);
      writeFileSync(`${split}/test/c/not-an-image.txt`, 'skipped');
      expect((await loadDataset(split, { split: 'train' })).classNames).toEqual(['a', 'b']);
      expect((await loadDataset(split, { split: 'test' })).classNames).toEqual(['a', 'b', 'c']);
    });
  });

  describe('subset and shuffled split', () => {
    it('keeps samples with their labels and splits reproducibly', async () => {
      const ds = await loadDataset(root, { layout: 'nhwc', scale: 1, mean: [0], std: [1] });
      const s = subset(ds, [2, 0]);
      expect(Array.from(s.labels!)).toEqual([1, 0]);
      expect(image(s.x, 1)).toEqual(want.png);
      const a = shuffledSplit(ds, 1 / 3, 5);
      const b = shuffledSplit(ds, 1 / 3, 5);
      expect(a.first.shape[0]).toBe(2);
      expect(a.second.shape[0]).toBe(1);
      expect(a.second.x).toEqual(b.second.x);
      const all = [...a.first.labels!, ...a.second.labels!].sort();
      expect(all).toEqual([0, 0, 1]);
    });
  });
});

describe('image folder loader', () => {
  it('reports an undecodable image in one line', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(`${bad}/x`, { recursive: true });
    writeFileSync(`${bad}/x/broken.png`, 'not a png');
    await expect(loadDataset(bad)).rejects.toThrow(/cannot decode image '.*broken\.png'/);
  });
});
