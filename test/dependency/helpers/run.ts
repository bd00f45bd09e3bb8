import * as ort from 'onnxruntime-node';
import { DataType } from '../../../src/ir/dtype.js';
import type { Model } from '../../../src/ir/model.js';

export type Feeds = Record<string, ort.Tensor>;
export type Outputs = Record<string, ort.Tensor>;

/** Seeded uniform [0, 1) generator (LCG): tests are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * Random inputs for a model's graph inputs: floats in [-1, 1), integer ids in [0, 8) (BERT token ids). Symbolic
 * dims take the value in `dims` (by name) or 1.
 */
export function randomFeeds(model: Model, seed: number, dims: Record<string, number[]> = {}): Feeds {
  const r = rng(seed);
  const feeds: Feeds = {};
  for (const v of model.graph.inputs) {
    if (v.initializer) continue;
    const shape = dims[v.name] ?? v.shape!.map((d) => (typeof d === 'number' ? d : 1));
    const n = shape.reduce((a, b) => a * b, 1);
    if (v.elemType === DataType.INT64) feeds[v.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 8))), shape);
    else if (v.elemType === DataType.FLOAT16) throw new Error('float16 graph inputs not supported by the test helper');
    else feeds[v.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, () => r() * 2 - 1), shape);
  }
  return feeds;
}

/** Runs model bytes on the CPU, single-threaded so repeated runs are bit-for-bit reproducible. */
export async function runModel(bytes: Uint8Array, feeds: Feeds): Promise<Outputs> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3,
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

export function floats(t: ort.Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** Largest |a − b| over max |b|: relative error of a whole output. */
export function relativeError(a: ort.Tensor, b: ort.Tensor): number {
  const x = floats(a);
  const y = floats(b);
  if (x.length !== y.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  if (Number.isNaN(diff)) return Infinity;
  return diff / Math.max(scale, 1e-12);
}

export function bitIdentical(a: ort.Tensor, b: ort.Tensor): boolean {
  const x = floats(a);
  const y = floats(b);
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}
