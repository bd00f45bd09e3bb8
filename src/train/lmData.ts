import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import type { Value } from '../ir/value.js';
import { loadSamples } from '../runtime/calibration/samples.js';
import { tokenFeeds, tokenInputs } from '../runtime/calibration/tokens.js';
import { inputSpecs } from '../runtime/inputs.js';
import type { ort } from '../runtime/ort.js';
import { openSession } from '../runtime/session.js';

/** Token windows and how to feed any set of them to the executor. */
export interface TokenBatches {
  /** `count` windows of `window` ids, one after another. */
  ids: Int32Array;
  count: number;
  window: number;
  bytes: boolean;
  /** The batch size the model's inputs fix, if they do. */
  fixedBatch?: number;
  /** Executor feeds for the windows at `rows` (in that order); the caller disposes them. */
  feeds(rows: readonly number[]): Map<Value, tf.Tensor>;
}

/**
 * Reads token windows for a model as `evaluate` and `--calib` do (the model's token inputs as onnxruntime sees them,
 * the same sources and selection), and feeds any set of them to the executor.
 */
export async function readTokenWindows(model: Model, source: string, opts: { window?: number; limit?: number; seed?: number } = {}): Promise<TokenBatches> {
  const { session } = await openSession(model, { ep: 'cpu' });
  let specs;
  try {
    specs = inputSpecs(session);
  } finally {
    await session.release();
  }
  if (!tokenInputs(specs)) fail('--objective lm needs a language model over token ids (an input_ids input); this model takes tensors: use --objective classify');
  const samples = await loadSamples(model, specs, source, opts);
  const { windows, inputs } = samples.tokens!;
  if (windows.window < 2) fail(`windows of ${windows.window} token predict nothing: use windows of at least 2 tokens`);
  const byName = new Map(model.graph.inputs.map((v) => [v.name, v]));
  const out: TokenBatches = {
    ids: windows.ids, count: windows.count, window: windows.window, bytes: windows.bytes,
    feeds: (rows) => toTf(tokenFeeds(inputs, gatherWindows(out, rows), windows.window, 0, rows.length), byName),
  };
  if (samples.fixedBatch !== undefined) out.fixedBatch = samples.fixedBatch;
  return out;
}

/** onnxruntime feeds as executor feeds: int64 ids as int32 (token ids and positions fit), empty caches as float32. */
function toTf(feeds: Record<string, ort.Tensor>, byName: ReadonlyMap<string, Value>): Map<Value, tf.Tensor> {
  const out = new Map<Value, tf.Tensor>();
  for (const [name, t] of Object.entries(feeds)) {
    const data = t.data;
    const dims = [...t.dims];
    const tensor = data instanceof BigInt64Array ? tf.tensor(Int32Array.from(data, Number), dims, 'int32')
      : data instanceof Int32Array ? tf.tensor(data, dims, 'int32')
        : t.type === 'float16' ? tf.zeros(dims, 'float32') // only empty caches are fed as float16
          : tf.tensor(data as Float32Array, dims, 'float32');
    out.set(byName.get(name)!, tensor);
  }
  return out;
}

/** The chosen windows' ids, one after another. */
export function gatherWindows(w: Pick<TokenBatches, 'ids' | 'window'>, rows: readonly number[]): Int32Array {
  const out = new Int32Array(rows.length * w.window);
  rows.forEach((r, k) => out.set(w.ids.subarray(r * w.window, (r + 1) * w.window), k * w.window));
  return out;
}

