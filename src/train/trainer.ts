import * as tf from '@tensorflow/tfjs-core';
import { fail, UserError } from '../ir/errors.js';
import type { Value } from '../ir/value.js';
import { Rng } from '../ir/random.js';
import type { Executor } from './executor.js';
import { oneHotFloat } from './oneHot.js';
import { copyWeights, createOptimizer, type OptimizerKind, restoreWeights } from './weightsState.js';

/** Samples the trainer feeds at `start` (raw inputs, or cached trunk features), with their labels. */
export interface LabelledArrays {
  x: Float32Array;
  /** [N, ...sample dims] */
  shape: number[];
  labels: Int32Array;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

export type TrainProgress =
  | { kind: 'epochStart'; epoch: number; epochs: number; batches: number }
  | { kind: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number }
  | { kind: 'epochEnd'; record: EpochRecord; best: boolean };

export interface TrainerOptions {
  epochs: number;
  lr: number;
  batch: number;
  /** adam, or sgd (with momentum 0.9, the usual fine-tuning setting). */
  optimizer: OptimizerKind;
  /** Seeds the per-epoch shuffles. */
  seed: number;
  /** The batch size the model was exported with, when fixed: used if the graph cannot run other batch sizes. */
  fixedBatch?: number;
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainResult {
  history: EpochRecord[];
  /** The epoch whose weights were kept (best validation accuracy, then loss; best training loss without validation). */
  bestEpoch: number;
  /** Loss and accuracy before training, on the validation set (or the training set without one). */
  initial: { loss: number; accuracy: number };
}

/**
 * Mini-batch training of the executor's variables on softmax cross-entropy over the logits. After every epoch the
 * weights are evaluated and the best epoch's are restored at the end.
 */
export function train(executor: Executor, start: Value, logits: Value, data: { train: LabelledArrays; val?: LabelledArrays },
  opts: TrainerOptions): TrainResult {
  const variables = [...executor.variables.values()];
  if (variables.length === 0) throw new Error('nothing to train: no trainable variables');
  const optimizer = createOptimizer(opts.optimizer, opts.lr);
  const rng = new Rng(opts.seed);
  const run = batchRunner(executor, start, logits, data.train, opts.fixedBatch);
  const evalSet = data.val ?? data.train;
  const initial = evaluate(run, evalSet, opts.batch);
  const history: EpochRecord[] = [];
  let best: { epoch: number; score: [number, number]; weights: Float32Array[] } | undefined;
  const n = data.train.shape[0]!;
  const batches = Math.ceil(n / opts.batch);
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const began = performance.now();
      opts.onProgress?.({ kind: 'epochStart', epoch, epochs: opts.epochs, batches });
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batches; b++) {
        const ids = order.slice(b * opts.batch, (b + 1) * opts.batch);
        const { x, y } = batchTensors(data.train, ids);
        let hits: tf.Tensor | undefined;
        const cost = optimizer.minimize(() => {
          const out = run(x, true);
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y), 'int32')));
          return tf.losses.softmaxCrossEntropy(oneHotFloat(y, out.shape[1]), out) as tf.Scalar;
        }, true, variables)!;
        lossSum += cost.dataSync()[0]! * ids.length;
        correct += hits!.dataSync()[0]!;
        tf.dispose([cost, hits!, x, y]);
        const seen = Math.min(n, (b + 1) * opts.batch);
        opts.onProgress?.({ kind: 'batch', epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen });
      }
      const record: EpochRecord = { epoch, loss: lossSum / n, accuracy: correct / n, seconds: 0 };
      if (data.val) {
        const v = evaluate(run, data.val, opts.batch);
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
      }
      record.seconds = (performance.now() - began) / 1000;
      history.push(record);
      // Higher is better on both components.
      const score: [number, number] = data.val ? [record.valAccuracy!, -record.valLoss!] : [-record.loss, record.accuracy];
      const improved = !best || score[0] > best.score[0] || (score[0] === best.score[0] && score[1] > best.score[1]);
      if (improved) best = { epoch, score, weights: copyWeights(variables) };
      opts.onProgress?.({ kind: 'epochEnd', record, best: improved });
    }
    if (best && best.epoch !== opts.epochs) restoreWeights(variables, best.weights);
  } finally {
    optimizer.dispose();
  }
  return { history, bestEpoch: best?.epoch ?? 0, initial };
}

type Runner = (x: tf.Tensor, training: boolean) => tf.Tensor2D;

/**
 * Runs a batch to [rows, classes] logits. A model exported with a fixed batch size may bake it into reshapes and
 * expands; when a probe run shows that, batches go through `fixedBatch` samples at a time (the last one padded
 * with repeated rows, whose logits are dropped), gradients flowing through the concatenation.
 */
function batchRunner(executor: Executor, start: Value, logits: Value, probeSet: LabelledArrays, fixedBatch: number | undefined): Runner {
  const once: Runner = (x, training) => {
    const [y] = executor.run(new Map([[start, x]]), [logits], { training });
    return tf.reshape(y!, [x.shape[0]!, -1]);
  };
  const probeRows = Math.min(2, probeSet.shape[0]!);
  if (!fixedBatch || probeRows === fixedBatch) return once;
  try {
    tf.tidy(() => { once(batchTensors(probeSet, Array.from({ length: probeRows }, (_, i) => i)).x, false); });
    return once;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
  }
  return (x, training) => {
    const n = x.shape[0]!;
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < n; s += fixedBatch) {
      const rows = Math.min(fixedBatch, n - s);
      const ids = Array.from({ length: fixedBatch }, (_, i) => s + (i % rows));
      const y = once(tf.gather(x, tf.tensor1d(ids, 'int32')), training);
      parts.push(rows < fixedBatch ? tf.slice(y, 0, rows) : y);
    }
    return tf.concat(parts, 0) as tf.Tensor2D;
  };
}

/** Mean loss and accuracy of the current weights over a set, in inference mode. */
function evaluate(run: Runner, set: LabelledArrays, batch: number): { loss: number; accuracy: number } {
  const n = set.shape[0]!;
  let loss = 0;
  let correct = 0;
  for (let s = 0; s < n; s += batch) {
    const ids = Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
    const { x, y } = batchTensors(set, ids);
    const [l, c] = tf.tidy(() => {
      const out = run(x, false);
      checkLabels(set.labels, out.shape[1]);
      const ce = tf.losses.softmaxCrossEntropy(oneHotFloat(y, out.shape[1]), out, undefined, undefined, tf.Reduction.SUM);
      return [ce.dataSync()[0]!, tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y), 'int32')).dataSync()[0]!];
    });
    loss += l!;
    correct += c!;
    tf.dispose([x, y]);
  }
  return { loss: loss / Math.max(1, n), accuracy: correct / Math.max(1, n) };
}

/** Refuses labels the logits cannot express (a new task needs a new head). */
function checkLabels(labels: Int32Array, classes: number): void {
  let max = 0;
  for (const l of labels) max = Math.max(max, l);
  if (max >= classes) fail(`the data has labels up to ${max} but the model outputs ${classes} classes: use --new-head ${max + 1} to train a new classifier`);
}

/** The samples at `ids` as an input tensor and an int32 label vector. */
function batchTensors(set: LabelledArrays, ids: readonly number[]): { x: tf.Tensor; y: tf.Tensor1D } {
  const sample = set.shape.slice(1);
  const per = sample.reduce((a, b) => a * b, 1);
  const x = new Float32Array(ids.length * per);
  ids.forEach((id, k) => x.set(set.x.subarray(id * per, (id + 1) * per), k * per));
  return { x: tf.tensor(x, [ids.length, ...sample]), y: tf.tensor1d(Int32Array.from(ids, (id) => set.labels[id]!), 'int32') };
}
