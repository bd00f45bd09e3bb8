import type { Model } from '../../src/ir/model.js';
import { sampleSize, type Dataset } from '../../src/runtime/data/index.js';
import { ort } from '../../src/runtime/ort.js';
import { openSession } from '../../src/runtime/session.js';

/** Runs a one-input, one-output model over `data` in batches on one CPU thread; calls `take` per batch output. */
async function runBatches(model: Model | string, data: Dataset, take: (out: Float32Array, start: number, m: number) => void, batch = 1000): Promise<void> {
  const { session } = await openSession(model, { ep: 'cpu', sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  try {
    const per = sampleSize(data);
    const n = data.shape[0]!;
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const x = new ort.Tensor('float32', data.x.subarray(start * per, (start + m) * per), [m, ...data.shape.slice(1)]);
      const out = (await session.run({ [session.inputNames[0]!]: x }))[session.outputNames[0]!]!;
      take(out.data as Float32Array, start, m);
    }
  } finally {
    await session.release();
  }
}

/** Top-1 accuracy of a classifier on labelled data, run by onnxruntime. */
export async function accuracy(model: Model | string, data: Dataset): Promise<number> {
  const labels = data.labels!;
  let correct = 0;
  await runBatches(model, data, (logits, start, m) => {
    const classes = logits.length / m;
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
      if (best === labels[start + i]) correct++;
    }
  });
  return correct / data.shape[0]!;
}

/** The model's output for every sample, as a dataset of [N, d] features with the same labels. */
export async function features(model: Model | string, data: Dataset): Promise<Dataset> {
  const n = data.shape[0]!;
  let x = new Float32Array(0);
  await runBatches(model, data, (out, start, m) => {
    if (x.length === 0) x = new Float32Array((out.length / m) * n);
    x.set(out, (start * out.length) / m);
  });
  return { x, shape: [n, x.length / n], ...(data.labels ? { labels: data.labels } : {}) };
}
