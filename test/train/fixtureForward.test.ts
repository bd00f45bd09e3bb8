import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/ir/load.js';
import { initTrainingBackend } from '../../src/train/backend.js';
import { Executor } from '../../src/train/executor.js';
import { describeWith, fixturePath, MANIFEST, ort, PADDLEOCR_MODELS, relativeError, runOrt, seededNormal, type ManifestEntry } from '../support/index.js';

/**
 * The executor's forward pass against onnxruntime on every fixture model (before any training): same seeded
 * input, outputs within 1e-4 (relative to the output's scale).
 */
/** Seeded inputs: normal floats, small non-negative integers for token ids; symbolic dims become 2. */
function inputsFor(entry: ManifestEntry): { ortFeeds: Record<string, ort.Tensor>; tfInputs: tf.Tensor[] } {
  const ortFeeds: Record<string, ort.Tensor> = {};
  const tfInputs: tf.Tensor[] = [];
  entry.inputs.forEach((inp, k) => {
    const shape = inp.shape.map((d) => (typeof d === 'number' ? d : 2));
    const values = seededNormal(shape, 100 + k);
    if (inp.dtype === 'int64') {
      const ids = Int32Array.from(values, (v) => Math.floor(Math.abs(v) * 3) % 10);
      ortFeeds[inp.name] = new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), shape);
      tfInputs.push(tf.tensor(ids, shape, 'int32'));
    } else {
      ortFeeds[inp.name] = new ort.Tensor('float32', values, shape);
      tfInputs.push(tf.tensor(values, shape, 'float32'));
    }
  });
  return { ortFeeds, tfInputs };
}

describe.each(['wasm', 'cpu'] as const)('executor forward pass equals onnxruntime (%s backend)', (backend) => {
  beforeAll(async () => { await initTrainingBackend(backend); });
  // The cpu backend is slow: one conv family and the transformers cover what differs from wasm (kernels only).
  const names = Object.keys(MANIFEST).filter((n) => backend === 'wasm' || ['cnn_small', 'mobilenet_v2', 'bert'].includes(n));
  it.each(names)('%s', async (name) => {
    const path = fixturePath(name);
    const model = loadModel(path);
    const { ortFeeds, tfInputs } = inputsFor(MANIFEST[name]!);
    const expected = await runOrt(path, ortFeeds);
    const exec = new Executor(model);
    try {
      const got = exec.predict(tfInputs);
      model.graph.outputs.forEach((out, i) => {
        const want = expected[out.name]!;
        expect(got[i]!.shape, out.name).toEqual(want.dims);
        expect(relativeError(got[i]!.dataSync(), want, 1), out.name).toBeLessThan(1e-4);
      });
      tf.dispose(got);
    } finally {
      exec.dispose();
      tf.dispose(tfInputs);
    }
  });
});

/**
 * PaddleOCR's exports (weights in Constant nodes, ConvTranspose, Resize, HardSigmoid...), when
 * `bash fixtures/fetch_paddleocr.sh` has fetched them into fixtures/.cache.
 */
describeWith(['paddleocr'], 'executor forward pass equals onnxruntime on PaddleOCR models (wasm)', () => {
  beforeAll(async () => { await initTrainingBackend('wasm'); });
  it.each([
    ['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
    ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 64, 64]],
    ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 80]],
  ] as const)('%s', async (file, dims) => {
    const path = join(PADDLEOCR_MODELS, file);
    const x = seededNormal(dims, 21);
    const model = loadModel(path);
    const want = (await runOrt(path, { [model.graph.inputs[0]!.name]: new ort.Tensor('float32', x, [...dims]) }))[model.graph.outputs[0]!.name]!;
    const exec = new Executor(model);
    try {
      const [got] = exec.predict([tf.tensor(x, [...dims])]);
      expect(got!.shape).toEqual(want.dims);
      expect(relativeError(got!.dataSync(), want, 1)).toBeLessThan(1e-4);
      got!.dispose();
    } finally {
      exec.dispose();
    }
  });
});
