import * as ort from 'onnxruntime-node';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';

/** onnxruntime-node as the oracle for "this model still computes the same thing". */

export type Feeds = Record<string, ort.Tensor>;

/** Seeded inputs for every graph input: floats in [-1, 1), integers in [0, 10) (token ids), unknown dims as 1. */
export function feedsFor(model: Model, seed = 7): Feeds {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const feeds: Feeds = {};
  for (const v of model.graph.inputs) {
    if (v.initializer) continue;
    const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    switch (v.elemType) {
      case DataType.FLOAT: feeds[v.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, () => rand() * 2 - 1), dims); break;
      case DataType.INT64: feeds[v.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * 10))), dims); break;
      case DataType.INT32: feeds[v.name] = new ort.Tensor('int32', Int32Array.from({ length: n }, () => Math.floor(rand() * 10)), dims); break;
      case DataType.BOOL: feeds[v.name] = new ort.Tensor('bool', Uint8Array.from({ length: n }, () => 1), dims); break;
      default: throw new Error(`feedsFor: input '${v.name}' has element type ${v.elemType}, which these tests do not feed`);
    }
  }
  return feeds;
}

/** Runs a model (a file path, so external data resolves, or the bytes) and returns every output's data. */
export async function runOrt(model: string | Uint8Array, feeds: Feeds): Promise<Record<string, ort.Tensor['data']>> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data]));
  } finally {
    await session.release();
  }
}
