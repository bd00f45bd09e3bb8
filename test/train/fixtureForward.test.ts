import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/ir/load.js';
import { openSession } from '../../src/runtime/session.js';
import { ort } from '../../src/runtime/ort.js';
import { initTrainingBackend } from '../../src/train/backend.js';
import { Executor } from '../../src/train/executor.js';
import { maxRelativeDeviation, runOrt, seededNormal } from './helpers.js';

/**
 * The executor's forward pass against onnxruntime on every fixture model (before any training): same seeded
 * input, outputs within 1e-4 (relative to the output's scale).
 */
const FIXTURES = join(import.meta.dirname, '../../fixtures');

interface ManifestEntry { file: string; inputs: { name: string; shape: (number | string)[]; dtype: string }[] }
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'models/manifest.json'), 'utf8')) as { models: Record<string, ManifestEntry> };

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
  const names = Object.keys(manifest.models).filter((n) => backend === 'wasm' || ['cnn_small', 'mobilenet_v2', 'bert'].includes(n));
  it.each(names)('%s', async (name) => {
    const entry = manifest.models[name]!;
    const path = join(FIXTURES, entry.file);
    const model = loadModel(path);
    const { session } = await openSession(path, { ep: 'cpu' });
    const { ortFeeds, tfInputs } = inputsFor(entry);
    const expected = await session.run(ortFeeds);
    const exec = new Executor(model);
    try {
      const got = exec.predict(tfInputs);
      model.graph.outputs.forEach((out, i) => {
        const want = expected[out.name]!;
        expect(got[i]!.shape, out.name).toEqual(want.dims.map(Number));
        expect(maxRelativeDeviation(got[i]!.dataSync() as Float32Array, want.data as Float32Array), out.name).toBeLessThan(1e-4);
      });
      tf.dispose(got);
    } finally {
      exec.dispose();
      tf.dispose(tfInputs);
      await session.release();
    }
  });
});

/**
 * PaddleOCR's exports (weights in Constant nodes, ConvTranspose, Resize, HardSigmoid...), when
 * `bash fixtures/fetch_paddleocr.sh` has fetched them into fixtures/.cache.
 */
const OCR = join(FIXTURES, '.cache/ocr-models-1.4.2/assets');
describe.skipIf(!existsSync(OCR))('executor forward pass equals onnxruntime on PaddleOCR models (wasm)', () => {
  beforeAll(async () => { await initTrainingBackend('wasm'); });
  it.each([
    ['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
    ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 64, 64]],
    ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 80]],
  ] as const)('%s', async (file, dims) => {
    const path = join(OCR, file);
    const x = seededNormal(dims, 21);
    const model = loadModel(path);
    const [want] = await runOrt(model, { [model.graph.inputs[0]!.name]: { data: x, dims: [...dims] } });
    const exec = new Executor(model);
    try {
      const [got] = exec.predict([tf.tensor(x, [...dims])]);
      expect(got!.shape).toEqual(want!.dims);
      expect(maxRelativeDeviation(got!.dataSync(), want!.data)).toBeLessThan(1e-4);
      got!.dispose();
    } finally {
      exec.dispose();
    }
  });
});
