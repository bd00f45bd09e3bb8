import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { initTrainingBackend, type BackendPreference } from '../../src/train/backend.js';
import { findLogits } from '../../src/train/classifier.js';
import { Executor } from '../../src/train/executor.js';
import { oneHotFloat } from '../../src/train/oneHot.js';
import { planTraining } from '../../src/train/trainPlan.js';
import { relativeError, seededNormal } from '../support/index.js';

/**
 * Training through the whole executor (`--train all`): every fixture family gets finite, non-zero gradients on
 * wasm (where the custom conv / depthwise / gather gradients stand in for missing kernels), and for a selection
 * those gradients equal the cpu backend's, computed with tfjs's own gradient kernels.
 */
const FIXTURES = join(import.meta.dirname, '../../fixtures');
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'models/manifest.json'), 'utf8')) as { models: Record<string, { file: string }> };

/** Cross-entropy gradients of every weight for one seeded sample with label 1, as plain arrays by tensor name. */
async function weightGradients(model: Model, backend: BackendPreference, customGradients: 'auto' | 'never'): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  await initTrainingBackend(backend);
  const { logits } = findLogits(model.graph);
  const plan = planTraining(model.graph, logits, 'all');
  const exec = new Executor(model, { trainable: (v) => plan.trainable.has(v), customGradients });
  try {
    const input = plan.start;
    const dims = input.shape!.map((d) => (typeof d === 'number' ? d : 1));
    const x = input.elemType === 7
      ? tf.tensor(Int32Array.from(seededNormal(dims, 3), (v) => Math.floor(Math.abs(v) * 3) % 10), dims, 'int32')
      : tf.tensor(seededNormal(dims, 3), dims);
    const entries = [...exec.variables.entries()];
    const { value, grads } = tf.variableGrads(() => {
      const [y] = exec.run(new Map([[input, x]]), [logits], { training: false });
      const flat = tf.reshape(y!, [1, -1]);
      return tf.losses.softmaxCrossEntropy(oneHotFloat(tf.tensor1d([1], 'int32'), flat.shape[1]!), flat) as tf.Scalar;
    }, entries.map(([, v]) => v));
    const out = new Map(entries.map(([stored, v]) => [stored.name, grads[v.name]!.dataSync() as Float32Array]));
    const loss = value.dataSync()[0]!;
    tf.dispose([x, value, ...Object.values(grads)]);
    return { loss, grads: out };
  } finally {
    exec.dispose();
  }
}

describe('every fixture trains on wasm (--train all)', () => {
  it.each(Object.keys(manifest.models))('%s: finite loss, finite non-zero gradients', async (name) => {
    const model = loadModel(join(FIXTURES, manifest.models[name]!.file));
    const { loss, grads } = await weightGradients(model, 'wasm', 'auto');
    expect(Number.isFinite(loss)).toBe(true);
    expect(grads.size).toBeGreaterThan(0);
    let norm = 0;
    for (const g of grads.values()) for (const v of g) norm += v * v;
    expect(Number.isFinite(norm)).toBe(true);
    expect(norm).toBeGreaterThan(0);
  });
});

describe('model gradients on wasm (custom conv/depthwise/gather gradients) equal cpu built-in gradients', () => {
  it.each(['cnn_small', 'mobilenet_v2', 'convnext', 'vit', 'bert'])('%s', async (name) => {
    const model = loadModel(join(FIXTURES, manifest.models[name]!.file));
    const want = await weightGradients(model, 'cpu', 'never');
    const got = await weightGradients(model, 'wasm', 'auto');
    expect(got.loss).toBeCloseTo(want.loss, 4);
    for (const [tensor, g] of want.grads) expect(relativeError(got.grads.get(tensor)!, g, 1), tensor).toBeLessThan(1e-4);
  });
});
