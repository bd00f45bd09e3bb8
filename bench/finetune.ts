/**
 * Fine-tuning speed, on this machine's CPUs:
 *  1. head / dense fine-tuning of the VGG-style fixture (vgg11, 3×64×64) on N Fashion-MNIST images (default 10 000):
 *     trunk feature extraction in onnxruntime (images/s), then one epoch of training on the cached features in
 *     tfjs (samples/s) for each backend that loads;
 *  2. `--train all` step time (forward + backward + Adam) of the small CNN fixture (cnn_small, 1×28×28) at batch 64:
 *     wasm with the custom conv gradients, cpu with the custom ones and with tfjs's built-in ones.
 *
 *   npx tsx bench/finetune.ts [--images 10000] [--steps 3] [--json]
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../src/ir/load.js';
import type { Model } from '../src/ir/model.js';
import { initTrainingBackend, type BackendPreference } from '../src/train/backend.js';
import { findLogits } from '../src/train/classifier.js';
import { Executor } from '../src/train/executor.js';
import { extractFeatures, type Features } from '../src/train/features.js';
import { loadTrainingData } from '../src/train/finetune.js';
import { oneHotFloat } from '../src/train/oneHot.js';
import { train } from '../src/train/trainer.js';
import { planTraining, type TrainMode } from '../src/train/trainPlan.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const images = option('--images', 10_000);
const steps = option('--steps', 3);
const FIXTURES = join(import.meta.dirname, '../fixtures/models');
const FASHION = '/usr/share/datasets/fashion-mnist';
const log = (s: string): void => { process.stderr.write(`${s}\n`); };
const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** The backends that start here (tfjs-node only when installed). */
async function availableBackends(): Promise<BackendPreference[]> {
  const out: BackendPreference[] = [];
  for (const b of ['tensorflow', 'wasm', 'cpu'] as const) {
    try { await initTrainingBackend(b); out.push(b); } catch { /* not installed */ }
  }
  return out;
}

interface HeadFigures { mode: TrainMode; featureShape: number[]; extractImagesPerSec: number; ep: string; trainSamplesPerSec: Record<string, number> }

async function headFineTuning(model: Model, backends: BackendPreference[]): Promise<HeadFigures[]> {
  const t0 = performance.now();
  const ds = await loadTrainingData(model, FASHION, { limit: images, seed: 1 });
  log(`loaded ${ds.shape[0]} images as [${ds.shape.slice(1).join(', ')}] in ${seconds(t0).toFixed(1)}s`);
  const labels = ds.labels!;
  const { logits } = findLogits(model.graph);
  const out: HeadFigures[] = [];
  for (const mode of ['head', 'dense'] as const) {
    const plan = planTraining(model.graph, logits, mode);
    await extractFeatures(model, plan.start, ds.x.subarray(0, 256 * ds.x.length / ds.shape[0]!), [256, ...ds.shape.slice(1)], { ep: 'cpu', batch: 64 }); // warm-up
    const t1 = performance.now();
    const f: Features = await extractFeatures(model, plan.start, ds.x, ds.shape, { ep: 'cpu', batch: 64 });
    const extract = seconds(t1);
    const fig: HeadFigures = { mode, featureShape: f.shape.slice(1), extractImagesPerSec: ds.shape[0]! / extract, ep: `${f.ep} (batch ${f.batch})`, trainSamplesPerSec: {} };
    log(`${mode}: features [${f.shape.slice(1)}] at ${fig.extractImagesPerSec.toFixed(0)} images/s`);
    for (const backend of backends) {
      await initTrainingBackend(backend);
      const exec = new Executor(model, { trainable: (v) => plan.trainable.has(v), seed: 1 });
      let began = 0;
      let ended = 0;
      train(exec, plan.start, logits, { train: { x: f.data, shape: f.shape, labels } }, {
        epochs: 1, lr: 1e-3, batch: 64, optimizer: 'adam', seed: 1,
        // Timed from the epoch's start to its last batch: the evaluations train() runs around it are left out.
        onProgress: (p) => { if (p.kind === 'epochStart') began = performance.now(); else if (p.kind === 'batch') ended = performance.now(); },
      });
      fig.trainSamplesPerSec[backend] = f.shape[0]! / ((ended - began) / 1000);
      log(`  ${backend}: ${fig.trainSamplesPerSec[backend]!.toFixed(0)} samples/s`);
      exec.dispose();
    }
    out.push(fig);
  }
  return out;
}

interface StepFigure { backend: string; gradients: string; secondsPerStep: number }

/** Median seconds per training step of every weight, after one warm-up step. */
async function trainAllSteps(model: Model, backend: BackendPreference, customGradients: 'auto' | 'always' | 'never'): Promise<number> {
  await initTrainingBackend(backend);
  const { logits } = findLogits(model.graph);
  const plan = planTraining(model.graph, logits, 'all');
  const exec = new Executor(model, { trainable: (v) => plan.trainable.has(v), customGradients });
  const batch = 64;
  const x = tf.randomNormal([batch, 1, 28, 28], 0, 1, 'float32', 1);
  const y = oneHotFloat(tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
  const optimizer = tf.train.adam(1e-3);
  const times: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t0 = performance.now();
    const loss = optimizer.minimize(() => {
      const [out] = exec.run(new Map([[plan.start, x]]), [logits], { training: true });
      return tf.losses.softmaxCrossEntropy(y, tf.reshape(out!, [batch, -1])) as tf.Scalar;
    }, true, [...exec.variables.values()])!;
    loss.dataSync();
    loss.dispose();
    if (i > 0) times.push(seconds(t0));
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  exec.dispose();
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const backends = await availableBackends();
log(`backends: ${backends.join(', ')}; load average ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
const head = await headFineTuning(loadModel(join(FIXTURES, 'vgg11.onnx')), backends);
const cnn = loadModel(join(FIXTURES, 'cnn_small.onnx'));
const stepFigures: StepFigure[] = [];
for (const [backend, grads] of [['wasm', 'always'], ['cpu', 'always'], ['cpu', 'never'], ['tensorflow', 'never']] as const) {
  if (!backends.includes(backend)) continue;
  const s = await trainAllSteps(cnn, backend, grads);
  stepFigures.push({ backend, gradients: grads === 'always' ? 'custom' : 'tfjs built-in', secondsPerStep: s });
  log(`train all, cnn_small, batch 64, ${backend} (${grads === 'always' ? 'custom' : 'built-in'} gradients): ${s.toFixed(3)} s/step`);
}

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ images, head, trainAll: stepFigures }, null, 2)}\n`);
} else {
  const lines = [`## Fine-tuning vgg11 (3x64x64) on ${images} Fashion-MNIST images`, '',
    `| mode | features | extraction (onnxruntime) | ${backends.map((b) => `training, ${b}`).join(' | ')} |`,
    `| --- | --- | ---: | ${backends.map(() => '---:').join(' | ')} |`];
  for (const h of head) lines.push(`| ${h.mode} | [${h.featureShape}] | ${h.extractImagesPerSec.toFixed(0)} images/s (${h.ep}) | ${backends.map((b) => `${h.trainSamplesPerSec[b]!.toFixed(0)} samples/s`).join(' | ')} |`);
  lines.push('', '## --train all, cnn_small (1x28x28), batch 64: one step (forward, backward, Adam)', '', '| backend | conv gradients | s/step |', '| --- | --- | ---: |');
  for (const s of stepFigures) lines.push(`| ${s.backend} | ${s.gradients} | ${s.secondsPerStep.toFixed(3)} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
