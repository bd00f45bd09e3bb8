import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import { Rng } from '../ir/random.js';
import type { Value } from '../ir/value.js';
import { initTrainingBackend, type BackendInfo, type BackendPreference } from './backend.js';
import { Executor } from './executor.js';
import { gatherWindows, readTokenWindows } from './lmData.js';
import { planLmTraining, type LmTrainMode } from './lmPlan.js';
import { oneHotFloat } from './oneHot.js';
import { copyWeights, createOptimizer, type OptimizerKind, restoreWeights } from './weightsState.js';
import { writeBackVariables } from './writeBack.js';

export interface LmFinetuneOptions {
  /** What trains (default all). */
  train?: LmTrainMode;
  /** Optimizer steps; default: `epochs` passes over the training windows. */
  steps?: number;
  /** Passes over the training windows when `steps` is not given (default 1). */
  epochs?: number;
  /** Windows per step (default 16). */
  batch?: number;
  /** Default 1e-3 (adam) or 1e-2 (sgd). */
  lr?: number;
  /** Default adam; sgd uses momentum 0.9. */
  optimizer?: OptimizerKind;
  /** Gradients are scaled down to this global L2 norm when larger (default 1; 0 turns clipping off). */
  clipNorm?: number;
  /** Tokens per window when the source is a text file (default 128); a .npy's rows are its windows. */
  window?: number;
  /** At most this many windows (a seeded choice). */
  limit?: number;
  /** Windows held out to measure the validation loss and keep the best weights (default min(10 %, 128)). */
  valWindows?: number;
  /** Seeds the window choice, the split and the shuffles (default 0): the same seed gives the same weights. */
  seed?: number;
  backend?: BackendPreference;
  /** Conv / gather gradients: auto (where the backend needs them), always, never. */
  customGradients?: 'auto' | 'always' | 'never';
  onProgress?: (p: LmProgress) => void;
}

/** One validation point: the mean training loss since the previous one and the validation loss (nats per token). */
export interface LmEvalRecord {
  step: number;
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  seconds: number;
}

export type LmProgress =
  | { kind: 'start'; steps: number }
  | { kind: 'step'; step: number; steps: number; loss: number }
  | { kind: 'eval'; record: LmEvalRecord; best: boolean };

export interface LmFinetuneResult {
  /** The same Model object, with the trained tensors written back. */
  model: Model;
  objective: 'lm';
  mode: LmTrainMode;
  /** Names of the tensors that were trained and rewritten; every other tensor keeps its bytes. */
  trained: string[];
  backend: BackendInfo;
  data: { source: string; window: number; train: number; val: number; bytes: boolean };
  settings: { steps: number; batch: number; lr: number; optimizer: OptimizerKind; clipNorm: number; seed: number };
  /** Validation loss before training (undefined without validation windows). */
  initialValLoss?: number;
  history: LmEvalRecord[];
  /** The step whose weights were kept: the lowest validation loss, or the last step without validation. */
  bestStep: number;
  /** Training steps per second over the whole run (validation excluded). */
  stepsPerSecond: number;
}

/**
 * Fine-tunes a decoder language model on next-token prediction and writes the trained weights back (stored element
 * types kept). Each window is fed the way `evaluate` and `--calib` feed it (token ids, a full attention mask,
 * positions 0 … T−1, an empty cache; present.* outputs are not computed); the loss is the mean cross-entropy of
 * the logits at positions 0 … T−2 against the tokens at 1 … T−1, the NLL `evaluate` reports.
 */
export async function finetuneLm(model: Model, source: string, opts: LmFinetuneOptions = {}): Promise<LmFinetuneResult> {
  const mode = opts.train ?? 'all';
  const seed = opts.seed ?? 0;
  const optimizerKind = opts.optimizer ?? 'adam';
  const batch = opts.batch ?? 16;
  const lr = opts.lr ?? (optimizerKind === 'adam' ? 1e-3 : 1e-2);
  const clipNorm = opts.clipNorm ?? 1;
  if (!(Number.isInteger(batch) && batch >= 1)) fail(`the batch size must be a positive integer, got ${batch}`);
  if (!(lr > 0 && Number.isFinite(lr))) fail(`the learning rate must be a positive number, got ${lr}`);
  if (!(clipNorm >= 0 && Number.isFinite(clipNorm))) fail(`the gradient clipping norm must be a non-negative number, got ${clipNorm}`);

  const windows = await readTokenWindows(model, source, { ...(opts.window !== undefined ? { window: opts.window } : {}), ...(opts.limit !== undefined ? { limit: opts.limit, seed } : {}) });
  const split = splitWindows(windows.count, opts.valWindows, seed);
  if (split.train.length === 0) fail(`no windows left to train on: ${windows.count} read, ${split.val.length} held out for validation`);
  if (windows.fixedBatch !== undefined && windows.fixedBatch !== batch) fail(`the model's inputs fix the batch size at ${windows.fixedBatch}: use --batch ${windows.fixedBatch}`);
  const perEpoch = Math.ceil(split.train.length / batch);
  const steps = opts.steps ?? (opts.epochs ?? 1) * perEpoch;
  if (!(Number.isInteger(steps) && steps >= 1)) fail(`the number of steps must be a positive integer, got ${steps}`);

  const backend = await initTrainingBackend(opts.backend ?? 'auto');
  const trainable = planLmTraining(model, mode);
  const logits = logitsOf(model);
  const executor = new Executor(model, { trainable: (v) => trainable.has(v), seed, customGradients: opts.customGradients ?? 'auto' });
  const variables = [...executor.variables.values()];
  const optimizer = createOptimizer(optimizerKind, lr);
  /** Per-window mean next-token loss of the given windows. */
  const lossesOf = (rows: readonly number[], training: boolean): tf.Tensor1D => {
    const feeds = windows.feeds(rows);
    const [out] = executor.run(feeds, [logits], { training });
    const targets = tf.tensor(gatherWindows(windows, rows), [rows.length, windows.window], 'int32');
    tf.dispose([...feeds.values()]);
    return tf.tidy(() => nextTokenLosses(out!, targets));
  };
  // Outside a gradient tape nothing disposes the logits and targets of a validation batch: the tidy does.
  const valLoss = (): number | undefined => split.val.length ? meanLoss(split.val, batch, windows.fixedBatch, (rows) => tf.tidy(() => lossesOf(rows, false))) : undefined;

  try {
    opts.onProgress?.({ kind: 'start', steps });
    const initialValLoss = valLoss();
    const rng = new Rng(seed);
    const history: LmEvalRecord[] = [];
    let best: { step: number; loss: number; weights: Float32Array[] } | undefined;
    let order: number[] = [];
    let lossSum = 0;
    let lossSteps = 0;
    let trainSeconds = 0;
    let since = performance.now();
    for (let step = 1; step <= steps; step++) {
      const inEpoch = (step - 1) % perEpoch;
      if (inEpoch === 0) order = rng.shuffle([...split.train]);
      const rows = order.slice(inEpoch * batch, (inEpoch + 1) * batch);
      const began = performance.now();
      const loss = trainStep(optimizer, variables, () => tf.mean(lossesOf(rows, true)) as tf.Scalar, clipNorm);
      trainSeconds += (performance.now() - began) / 1000;
      if (!Number.isFinite(loss)) fail(`the training loss became ${loss} at step ${step}: lower --lr`);
      lossSum += loss;
      lossSteps++;
      opts.onProgress?.({ kind: 'step', step, steps, loss });
      if (inEpoch === perEpoch - 1 || step === steps) {
        const record: LmEvalRecord = { step, epoch: Math.ceil(step / perEpoch), trainLoss: lossSum / lossSteps, seconds: 0 };
        const v = valLoss();
        if (v !== undefined) record.valLoss = v;
        record.seconds = (performance.now() - since) / 1000;
        // Without validation windows the last weights are kept; with them, those of the lowest validation loss.
        const improved = v === undefined || !best || v < best.loss;
        if (improved) best = { step, loss: v ?? record.trainLoss, weights: v === undefined ? [] : copyWeights(variables) };
        history.push(record);
        opts.onProgress?.({ kind: 'eval', record, best: improved });
        lossSum = 0;
        lossSteps = 0;
        since = performance.now();
      }
    }
    if (best && best.step !== steps) restoreWeights(variables, best.weights);
    const trained = writeBackVariables(executor.variables);
    return {
      model, objective: 'lm', mode, trained, backend,
      data: { source, window: windows.window, train: split.train.length, val: split.val.length, bytes: windows.bytes },
      settings: { steps, batch, lr, optimizer: optimizerKind, clipNorm, seed },
      ...(initialValLoss !== undefined ? { initialValLoss } : {}),
      history, bestStep: best?.step ?? steps, stepsPerSecond: steps / trainSeconds,
    };
  } finally {
    optimizer.dispose();
    executor.dispose();
  }
}

/** Validation windows: `valWindows` (default 10 % of the windows, at most 128) chosen by the seed; the rest train. */
function splitWindows(count: number, valWindows: number | undefined, seed: number): { train: number[]; val: number[] } {
  const val = valWindows ?? Math.min(128, Math.floor(count / 10));
  if (!(Number.isInteger(val) && val >= 0)) fail(`the number of validation windows must be a non-negative integer, got ${val}`);
  if (val >= count) fail(`${val} validation windows leave none of the ${count} windows to train on`);
  const order = new Rng(seed ^ 0x5eed).shuffle(Array.from({ length: count }, (_, i) => i));
  return { val: order.slice(0, val).sort((a, b) => a - b), train: order.slice(val).sort((a, b) => a - b) };
}

/** The [batch, sequence, vocab] logits: the output named 'logits', else the first output. */
function logitsOf(model: Model): Value {
  const outs = model.graph.outputs;
  const out = outs.find((v) => v.name === 'logits') ?? outs[0];
  if (!out) fail('the model has no outputs');
  return out;
}

/**
 * Cross-entropy of next-token prediction per window: the logits at positions 0 … T−2 against the ids at 1 … T−1,
 * averaged over the window's T−1 predictions (nats per token). Every window predicts as many tokens, so their mean
 * is the mean over all tokens.
 */
export function nextTokenLosses(logits: tf.Tensor, ids: tf.Tensor): tf.Tensor1D {
  const [rows, window, vocab] = logits.shape as [number, number, number];
  if (logits.rank !== 3 || ids.shape[1] !== window) fail(`the logits have shape [${logits.shape.join(', ')}], not [batch, ${ids.shape[1]}, vocab]: next-token loss needs the logits of every position`);
  const pred = tf.reshape(tf.slice(logits, [0, 0, 0], [rows, window - 1, vocab]), [-1, vocab]);
  const next = tf.slice(ids, [0, 1], [rows, window - 1]);
  const nll = tf.sub(tf.logSumExp(pred, 1), tf.sum(tf.mul(pred, oneHotFloat(next, vocab)), 1));
  return tf.mean(tf.reshape(nll, [rows, window - 1]), 1) as tf.Tensor1D;
}

/** One optimizer step on the loss, gradients clipped to a global L2 norm; returns the loss. */
function trainStep(optimizer: tf.Optimizer, variables: tf.Variable[], loss: () => tf.Scalar, clipNorm: number): number {
  const { value, grads } = tf.variableGrads(loss, variables);
  const clipped = tf.tidy(() => {
    if (clipNorm === 0) return grads;
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
    if (!(norm > clipNorm)) return grads;
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, clipNorm / norm)]));
  });
  optimizer.applyGradients(clipped);
  const out = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads), ...Object.values(clipped)]);
  return out;
}

/** Mean loss over windows in inference mode; a fixed-batch model's last batch is padded with repeats, whose losses are dropped. */
function meanLoss(rows: readonly number[], batch: number, fixedBatch: number | undefined, losses: (rows: readonly number[]) => tf.Tensor1D): number {
  let total = 0;
  for (let s = 0; s < rows.length; s += batch) {
    const part = rows.slice(s, s + batch);
    const fed = fixedBatch !== undefined && part.length < fixedBatch ? Array.from({ length: fixedBatch }, (_, i) => part[i % part.length]!) : part;
    const l = losses(fed);
    const values = l.dataSync();
    for (let i = 0; i < part.length; i++) total += values[i]!;
    l.dispose();
  }
  return total / rows.length;
}
