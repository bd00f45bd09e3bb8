import { DataType } from '../ir/dtype.js';
import { fail } from '../ir/errors.js';
import { decodeModel } from '../ir/load.js';
import type { Model } from '../ir/model.js';
import { encodeModel } from '../ir/save.js';
import type { Value } from '../ir/value.js';
import { floatTensor, inputSpecs } from '../runtime/inputs.js';
import type { ort } from '../runtime/ort.js';
import { openSession, type EpChoice, type ExecutionProvider } from '../runtime/session.js';

export interface Features {
  data: Float32Array;
  /** [N, ...feature dims] */
  shape: number[];
  /** Where they were computed; undefined when the start value is the model input itself (nothing to compute). */
  ep?: ExecutionProvider;
  /** Why CUDA was not used, when `auto` fell back. */
  notice?: string;
  /** Samples per onnxruntime run. */
  batch: number;
}

export interface FeatureOptions {
  ep?: EpChoice;
  /** Samples per run (models with a fixed batch dimension run at theirs). Default 64. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The frozen trunk's output for every sample, computed once by onnxruntime on a copy of the model cut at `start`.
 * The copy's batch dimension is made symbolic so samples go through in batches; when a reshape baked into the graph
 * refuses that, the model's own fixed batch size is used.
 */
export async function extractFeatures(model: Model, start: Value, x: Float32Array, shape: readonly number[], opts: FeatureOptions = {}): Promise<Features> {
  const n = shape[0]!;
  if (start.isGraphInput()) return { data: x, shape: [...shape], batch: n };
  const wanted = opts.batch ?? 64;
  let lastError = '';
  for (const dynamic of [true, false]) {
    const opened = await openSession(truncatedModel(model, start, dynamic), { ep: opts.ep ?? 'auto' });
    const spec = inputSpecs(opened.session)[0]!;
    const batch = dynamic ? wanted : spec.fixedBatch ?? wanted;
    try {
      const out = await runBatches(opened.session, spec, x, shape, batch, opts.onProgress);
      const result: Features = { ...out, ep: opened.ep, batch };
      if (opened.notice) result.notice = opened.notice;
      return result;
    } catch (e) {
      lastError = (e as Error).message.split('\n')[0]!;
    } finally {
      await opened.session.release();
    }
  }
  fail(`onnxruntime could not compute the trunk features at '${start.name}': ${lastError}`);
}

async function runBatches(session: ort.InferenceSession, spec: ReturnType<typeof inputSpecs>[number], x: Float32Array, shape: readonly number[],
  batch: number, onProgress?: (done: number, total: number) => void): Promise<{ data: Float32Array; shape: number[] }> {
  const n = shape[0]!;
  const sample = shape.slice(1);
  const per = sample.reduce((a, b) => a * b, 1);
  let data: Float32Array | undefined;
  let featureDims: number[] = [];
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    // A fixed-batch model gets its last batch padded with copies of real samples; the extra rows are dropped.
    const input = new Float32Array(batch * per);
    for (let r = 0; r < batch; r++) input.set(x.subarray((start + (r % rows)) * per, (start + (r % rows) + 1) * per), r * per);
    const result = await session.run({ [spec.name]: floatTensor(spec, input, [batch, ...sample]) });
    const out = result[session.outputNames[0]!]!;
    const values = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number>);
    if (!data) {
      featureDims = out.dims.slice(1).map(Number);
      data = new Float32Array(n * (values.length / batch));
    }
    const fper = data.length / n;
    data.set(values.subarray(0, rows * fper), start * fper);
    onProgress?.(start + rows, n);
  }
  return { data: data ?? new Float32Array(0), shape: [n, ...featureDims] };
}

/** A copy of the model whose only output is `start` (what feeds it, nothing after), batch dim symbolic if asked. */
function truncatedModel(model: Model, start: Value, dynamicBatch: boolean): Model {
  const copy = decodeModel(encodeModel(model), { baseDir: model.baseDir });
  const g = copy.graph;
  const out = g.find(start.name)!;
  out.elemType ??= DataType.FLOAT;
  out.shape = undefined;
  g.outputs = [out];
  g.eliminateDeadCode();
  if (dynamicBatch) {
    // Declared intermediate shapes would pin the batch size again: drop them, and the input's declared entry.
    g.valueInfo = [];
    for (const v of g.inputs) {
      if (v.initializer || !v.shape || v.shape.length === 0) continue;
      v.shape = ['batch', ...v.shape.slice(1)];
      g.inputProtos.delete(v);
    }
  }
  return copy;
}
