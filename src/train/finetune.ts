import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import type { Value } from '../ir/value.js';
import { loadDataset } from '../runtime/data/loadDataset.js';
import { shuffledSplit } from '../runtime/data/select.js';
import type { Dataset, DatasetOptions } from '../runtime/data/types.js';
import { dataOptionsForInput, sampleDims, type InputSpec } from '../runtime/inputs.js';
import type { EpChoice, ExecutionProvider } from '../runtime/session.js';
import { initTrainingBackend, type BackendInfo, type BackendPreference } from './backend.js';
import { findClassifier, findLogits } from './classifier.js';
import { Executor } from './executor.js';
import { extractFeatures } from './features.js';
import { replaceHead } from './newHead.js';
import { train, type EpochRecord, type LabelledArrays, type TrainProgress } from './trainer.js';
import { planTraining, type TrainMode } from './trainPlan.js';
import { writeBackVariables } from './writeBack.js';
import type { OptimizerKind } from './weightsState.js';

export interface FinetuneOptions {
  /** Default 5. */
  epochs?: number;
  /** Default 1e-3 for adam, 1e-2 for sgd. */
  lr?: number;
  /** Default 64. */
  batch?: number;
  /** Default adam; sgd uses momentum 0.9. */
  optimizer?: OptimizerKind;
  /** What trains (default head): see TrainMode. */
  train?: TrainMode;
  /** Replace the classifier by a fresh N-way layer first. */
  newHead?: number;
  /** Fraction held out for validation and best-epoch selection (default 0.1; 0 selects on training loss). */
  valSplit?: number;
  /** Seeds the split, shuffles, new head and dropout (default 0): the same seed gives the same weights. */
  seed?: number;
  /** With train 'all': also train BatchNormalization scale and shift (statistics always stay frozen). */
  trainBatchNorm?: boolean;
  /** tfjs backend (default auto). */
  backend?: BackendPreference;
  /** onnxruntime execution provider for the frozen trunk's features (default auto). */
  ep?: EpChoice;
  /** Custom conv/gather gradients: auto (where the backend needs them), always, never. */
  customGradients?: 'auto' | 'always' | 'never';
  onProgress?: (p: FinetuneProgress) => void;
}

export type FinetuneProgress = TrainProgress | { kind: 'features'; done: number; total: number };

export interface FinetuneResult {
  /** The same Model object, with the trained tensors written back (and the new head, if asked). */
  model: Model;
  history: EpochRecord[];
  bestEpoch: number;
  /** Validation loss and accuracy before training (training set when there is no validation split). */
  initial: { loss: number; accuracy: number };
  /** Names of the tensors that were trained and rewritten; every other tensor is untouched. */
  trained: string[];
  mode: TrainMode;
  backend: BackendInfo;
  /** Frozen-trunk feature extraction (head and dense modes). */
  features?: { ep: ExecutionProvider; notice?: string; seconds: number; samples: number; shape: number[] };
  samples: { train: number; val: number };
}

/**
 * Fine-tunes a model on labelled data (paper section 3.3) and writes the trained weights back into its IR: only
 * the trained tensors change (in their stored element type); BatchNorm statistics and everything else keep their
 * bytes. The model is updated in place and returned.
 */
export async function finetune(model: Model, dataset: Dataset, opts: FinetuneOptions = {}): Promise<FinetuneResult> {
  const mode = opts.train ?? 'head';
  const seed = opts.seed ?? 0;
  const optimizer = opts.optimizer ?? 'adam';
  const batch = opts.batch ?? 64;
  const valSplit = opts.valSplit ?? 0.1;
  if (!dataset.labels) fail('fine-tuning needs labelled data (class folders, IDX labels or a labels .npy)');
  if (!(valSplit >= 0 && valSplit < 1)) fail(`the validation split must be in [0, 1), got ${valSplit}`);
  if (!(Number.isInteger(batch) && batch >= 1)) fail(`the batch size must be a positive integer, got ${batch}`);
  const epochs = opts.epochs ?? 5;
  if (!(Number.isInteger(epochs) && epochs >= 1)) fail(`the number of epochs must be a positive integer, got ${epochs}`);
  const lr = opts.lr ?? (optimizer === 'adam' ? 1e-3 : 1e-2);
  if (!(lr > 0 && Number.isFinite(lr))) fail(`the learning rate must be a positive number, got ${lr}`);
  const backend = await initTrainingBackend(opts.backend ?? 'auto');

  const graph = model.graph;
  const { logits } = findLogits(graph);
  if (opts.newHead !== undefined) replaceHead(graph, findClassifier(logits), opts.newHead, seed);
  const plan = planTraining(graph, logits, mode, { trainBatchNorm: opts.trainBatchNorm });

  const input = modelInput(model);
  const shape = [dataset.shape[0]!, ...sampleDims(specOf(input), dataset.shape.slice(1))];
  let fed: Dataset = { ...dataset, shape };
  let features: FinetuneResult['features'];
  if (plan.start !== input) {
    const began = performance.now();
    const f = await extractFeatures(model, plan.start, dataset.x, shape, {
      ep: opts.ep ?? 'auto', batch: Math.max(batch, 64), onProgress: (done, total) => opts.onProgress?.({ kind: 'features', done, total }),
    });
    fed = { ...dataset, x: f.data, shape: f.shape };
    features = { ep: f.ep!, seconds: (performance.now() - began) / 1000, samples: shape[0]!, shape: f.shape };
    if (f.notice) features.notice = f.notice;
  }
  const { first, second } = shuffledSplit(fed, valSplit, seed);
  const sets = { train: labelled(first), ...(second.shape[0]! > 0 ? { val: labelled(second) } : {}) };
  if (sets.train.shape[0] === 0) fail('no samples left to train on after the validation split');

  const executor = new Executor(model, { trainable: (v) => plan.trainable.has(v), seed, customGradients: opts.customGradients ?? 'auto' });
  try {
    const result = train(executor, plan.start, logits, sets, {
      epochs, lr, batch, optimizer, seed, onProgress: opts.onProgress,
      fixedBatch: typeof input.shape?.[0] === 'number' ? input.shape[0] : undefined,
    });
    const trained = writeBackVariables(executor.variables);
    const out: FinetuneResult = {
      model, history: result.history, bestEpoch: result.bestEpoch, initial: result.initial, trained, mode, backend,
      samples: { train: sets.train.shape[0]!, val: sets.val?.shape[0] ?? 0 },
    };
    if (features) out.features = features;
    return out;
  } finally {
    executor.dispose();
  }
}

/**
 * Loads training data shaped for the model: image size, channels and layout default to the model input's
 * (as `validate` does); explicit options win. The train split unless told otherwise.
 */
export async function loadTrainingData(model: Model, source: string, opts: DatasetOptions = {}): Promise<Dataset> {
  return loadDataset(source, { split: 'train', ...dataOptionsForInput(specOf(modelInput(model))), ...opts });
}

function modelInput(model: Model): Value {
  const inputs = model.graph.inputs.filter((v) => !v.initializer);
  if (inputs.length !== 1) fail(`fine-tuning feeds models with one input; this one has ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`);
  return inputs[0]!;
}

/** The input as the runtime's input spec (dims as numbers or names) for the shared data-shaping helpers. */
function specOf(v: Value): InputSpec {
  const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? d : String(d ?? '?')));
  const spec: InputSpec = { name: v.name, type: 'float32', dims };
  if (typeof dims[0] === 'number') spec.fixedBatch = dims[0];
  return spec;
}

function labelled(ds: Dataset): LabelledArrays {
  return { x: ds.x, shape: ds.shape, labels: ds.labels! };
}
