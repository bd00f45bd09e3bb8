import * as ort from 'onnxruntime-node';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { Rng } from './random.js';

/** onnxruntime-node as the oracle for "this model computes that". */

export type Feeds = Record<string, ort.Tensor>;
export type Outputs = Record<string, ort.Tensor>;

export interface FeedOptions {
  /** Seed of the values (default 7). */
  seed?: number;
  /** Whole shapes for some inputs, by name. */
  dims?: Record<string, readonly number[]>;
  /** The size of a symbolic or unknown dim at `axis` (default 1). */
  unknownDim?: (axis: number) => number;
}

/**
 * Seeded inputs for every graph input that is not an initializer: floats uniform in [-1, 1), integers in [0, 8)
 * (token ids), booleans true. Other element types throw.
 */
export function feedsFor(model: Model, opts: FeedOptions = {}): Feeds {
  const rng = new Rng(opts.seed ?? 7);
  const feeds: Feeds = {};
  for (const v of model.graph.inputs) {
    if (v.initializer) continue;
    const dims = opts.dims?.[v.name]?.slice() ?? (v.shape ?? []).map((d, axis) => (typeof d === 'number' ? d : opts.unknownDim?.(axis) ?? 1));
    const n = dims.reduce((a, b) => a * b, 1);
    switch (v.elemType) {
      case DataType.FLOAT: feeds[v.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, () => rng.next() * 2 - 1), dims); break;
      case DataType.INT64: feeds[v.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(rng.int(8))), dims); break;
      case DataType.INT32: feeds[v.name] = new ort.Tensor('int32', Int32Array.from({ length: n }, () => rng.int(8)), dims); break;
      case DataType.BOOL: feeds[v.name] = new ort.Tensor('bool', Uint8Array.from({ length: n }, () => 1), dims); break;
      default: throw new Error(`feedsFor: input '${v.name}' has element type ${v.elemType}, which the tests do not feed`);
    }
  }
  return feeds;
}

/**
 * Runs a model on the CPU: a file path (so external data resolves against its folder), bytes, or an in-memory Model
 * (encoded; its weights must be inline). Single-threaded without graph optimisations, so repeated runs are bit for
 * bit the same. Outputs come back by name, in the model's output order.
 */
export async function runOrt(model: string | Uint8Array | Model, feeds: Feeds): Promise<Outputs> {
  const session = await ortSession(model);
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(session.outputNames.map((name) => [name, out[name]!]));
  } finally {
    await session.release();
  }
}

/**
 * A session for a test that runs one model many times (e.g. a decoder step by step), with runOrt's settings; the
 * caller releases it.
 */
export async function ortSession(model: string | Uint8Array | Model): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model instanceof Uint8Array ? model : encodeModel(model), options);
}

/** A tensor's elements as float32. */
export function floats(t: ort.Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/**
 * Largest |a − b| over the larger of `floor` and b's largest magnitude: the relative error of a whole output against
 * the reference b (Infinity for a length mismatch or a NaN).
 */
export function relativeError(a: ort.Tensor | ArrayLike<number>, b: ort.Tensor | ArrayLike<number>, floor = 1e-12): number {
  const x = 'dims' in a ? floats(a) : a;
  const y = 'dims' in b ? floats(b) : b;
  if (x.length !== y.length) return Infinity;
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

/** Same elements, bit for bit (NaN equals NaN, 0 differs from −0). */
export function bitIdentical(a: ort.Tensor, b: ort.Tensor): boolean {
  const x = floats(a);
  const y = floats(b);
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

export { ort };
