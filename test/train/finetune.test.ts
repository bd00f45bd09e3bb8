import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import type { Dataset } from '../../src/runtime/data/types.js';
import { Executor } from '../../src/train/executor.js';
import { finetune, loadTrainingData, type FinetuneOptions } from '../../src/train/finetune.js';
import { storedConstants } from '../../src/train/parameters.js';
import { describeWith, FASHION_MNIST as FASHION, fixturePath, ort, relativeError, runOrt } from '../support/index.js';

/**
 * Short fine-tunes on real Fashion-MNIST images (Debian's dataset-fashion-mnist): accuracy must rise, the written-back
 * model must run in onnxruntime with the executor's outputs, and only the trained tensors may change.
 */

/** Stored constant bytes by name (initializers and Constant-node values). */
function constantBytes(model: Model): Map<string, { type: number; bytes: Buffer }> {
  return new Map(storedConstants(model.graph).map(({ value, tensor }) => [value.name, { type: tensor.dataType, bytes: Buffer.from(tensor.bytes()) }]));
}

/** onnxruntime on the saved bytes vs. a fresh executor on the same model: the first `rows` samples. */
async function expectOrtMatchesExecutor(model: Model, ds: Dataset, rows: number): Promise<void> {
  const reloaded = decodeModel(encodeModel(model));
  const input = reloaded.graph.inputs[0]!;
  const fixed = typeof input.shape?.[0] === 'number' ? input.shape[0] : rows;
  const sample = ds.shape.slice(1);
  const per = sample.reduce((a, b) => a * b, 1);
  const exec = new Executor(reloaded);
  try {
    for (let s = 0; s < rows; s += fixed) {
      const x = ds.x.slice(s * per, (s + fixed) * per);
      const want = (await runOrt(reloaded, { [input.name]: new ort.Tensor('float32', x, [fixed, ...sample]) }))[reloaded.graph.outputs[0]!.name]!;
      const [got] = exec.predict([tf.tensor(x, [fixed, ...sample])]);
      expect(got!.shape).toEqual(want.dims);
      expect(relativeError(got!.dataSync(), want, 1)).toBeLessThan(1e-4);
      got!.dispose();
    }
  } finally {
    exec.dispose();
  }
}

describeWith(['fashion-mnist'], 'finetune on Fashion-MNIST', () => {
  let cnn: Dataset;
  beforeAll(async () => {
    cnn = await loadTrainingData(loadModel(fixturePath('cnn_small')), FASHION, { limit: 500, seed: 3 });
  });

  it('--train dense --new-head 10: accuracy rises, only the dense layers change, onnxruntime agrees', async () => {
    const model = loadModel(fixturePath('cnn_small'));
    const before = constantBytes(model);
    const r = await finetune(model, cnn, { train: 'dense', newHead: 10, epochs: 3, lr: 0.01, seed: 1, backend: 'wasm', ep: 'cpu' });
    expect(r.trained.sort()).toEqual(['10.bias', '10.weight', '6.bias', '6.weight', '8.bias', '8.weight']);
    const best = r.history.find((h) => h.epoch === r.bestEpoch)!;
    expect(best.valAccuracy!).toBeGreaterThan(r.initial.accuracy + 0.2);
    expect(r.features?.shape).toEqual([500, 1872]);
    const after = constantBytes(model);
    for (const [name, b] of before) {
      if (r.trained.includes(name)) expect(after.get(name)!.bytes.equals(b.bytes), name).toBe(false);
      else expect(after.get(name)!.bytes.equals(b.bytes), name).toBe(true);
    }
    await expectOrtMatchesExecutor(model, cnn, 4);
  });

  it('--train all on a BatchNorm model: statistics stay byte-identical, convolutions train, onnxruntime agrees', async () => {
    const model = loadModel(fixturePath('resnet18'));
    const ds = await loadTrainingData(model, FASHION, { limit: 48, seed: 4 });
    expect(ds.shape).toEqual([48, 3, 32, 32]);
    const before = constantBytes(model);
    const bnInputs = new Set(model.graph.nodes.filter((n) => n.opType === 'BatchNormalization').flatMap((n) => n.inputs.slice(1).map((v) => v!.name)));
    const r = await finetune(model, ds, { train: 'all', newHead: 10, epochs: 1, batch: 16, valSplit: 0, seed: 2, backend: 'wasm' });
    const after = constantBytes(model);
    for (const name of bnInputs) expect(after.get(name)!.bytes.equals(before.get(name)!.bytes), name).toBe(true);
    const convWeights = model.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.input(1)!.name);
    expect(convWeights.length).toBeGreaterThan(5);
    for (const w of convWeights) {
      expect(r.trained).toContain(w);
      expect(after.get(w)!.bytes.equals(before.get(w)!.bytes), w).toBe(false);
    }
    await expectOrtMatchesExecutor(model, ds, 2);
  });

  it('fp16 weights train and are written back as fp16', async () => {
    const model = loadModel(fixturePath('mlp_fp16'));
    const ds = await loadTrainingData(model, FASHION, { limit: 300, seed: 5 });
    const castNodes = model.graph.nodes.filter((n) => n.opType === 'Cast').length;
    const r = await finetune(model, ds, { train: 'dense', epochs: 2, lr: 0.01, seed: 1, backend: 'wasm', ep: 'cpu' });
    expect(r.trained.length).toBe(6);
    const types = constantBytes(model);
    for (const name of r.trained) expect(types.get(name)!.type).toBe(DataType.FLOAT16);
    expect(model.graph.nodes.filter((n) => n.opType === 'Cast').length).toBe(castNodes);
    await expectOrtMatchesExecutor(model, ds, 3);
  });

  it('the same seed gives the same model, another seed another', async () => {
    const run = async (seed: number): Promise<Buffer> => {
      const model = loadModel(fixturePath('mlp'));
      const opts: FinetuneOptions = { train: 'head', newHead: 10, epochs: 2, seed, backend: 'wasm', ep: 'cpu' };
      await finetune(model, cnn, opts);
      return Buffer.from(encodeModel(model));
    };
    const a = await run(7);
    expect((await run(7)).equals(a)).toBe(true);
    expect((await run(8)).equals(a)).toBe(false);
  });

  it('refuses labels the classifier cannot express', async () => {
    const model = loadModel(fixturePath('mlp'));
    await expect(finetune(model, cnn, { newHead: 4, epochs: 1, backend: 'wasm', ep: 'cpu' })).rejects.toThrow(UserError);
    await expect(finetune(loadModel(fixturePath('mlp')), cnn, { newHead: 4, epochs: 1, backend: 'wasm', ep: 'cpu' })).rejects.toThrow(/--new-head 10/);
  });

  it('refuses a classifier that is not a dense layer', async () => {
    const model = loadModel(fixturePath('squeezenet'));
    await expect(finetune(model, cnn, { train: 'head', backend: 'wasm' })).rejects.toThrow(/not from a dense layer/);
  });
});
